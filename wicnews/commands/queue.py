"""``wicnews queue status|clear``: the shared queue of distributed crawls (``--redis``) in Redis."""

from __future__ import annotations

from wicnews.errors import ConfigError


def register(sub) -> None:
    p = sub.add_parser("queue", help="the shared queue of distributed crawls (--redis): status, or clear a stale one")
    p.add_argument("action", choices=("status", "clear"))
    p.add_argument("--redis", metavar="URL", help="Redis URL (default: $WICNEWS_REDIS_URL)")
    p.add_argument("--force", action="store_true", help="clear even while workers are alive")
    p.set_defaults(func=run)


def run(args) -> int:
    from wicnews.config import environment_values
    from wicnews.distributed import clear_queue, connect, queue_status

    url = args.redis or environment_values().get("WICNEWS_REDIS_URL")
    if not url:
        raise ConfigError("queue: give --redis URL (or set WICNEWS_REDIS_URL)")
    server = connect(url)
    try:
        if args.action == "clear":
            status = clear_queue(server, force=args.force)
            print(f"cleared: cycle {status.cycle_id or '-'}, {status.queued} queued request(s), "
                  f"{status.fingerprints} fingerprint(s)")
            return 0
        print(describe(queue_status(server)))
    finally:
        server.close()
    return 0


def describe(status) -> str:
    lost = (f"\n  cycle {status.lost} lost work (a worker died in it, or it was cleared): the next cycle reads "
            "its sources in full") if status.lost else ""
    if status.cycle_id is None:
        return f"no cycle in progress; {status.queued} queued request(s){lost}"
    state = ("stale: no worker alive (the next crawl resumes it; `wicnews queue clear` drops it)" if status.stale
             else f"running: {len(status.alive)} worker(s) alive ({', '.join(status.alive)}), {len(status.busy)} busy")
    return (f"cycle {status.cycle_id} {state}\n"
            f"  {status.queued} queued request(s), {status.fingerprints} fingerprint(s), sources read by "
            f"{status.seeded_by or 'nobody yet'}{lost}")
