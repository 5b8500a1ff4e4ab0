"""``wicnews schedule``: run the crawl schedules (APScheduler 3.x; each crawl in its own process)."""

from __future__ import annotations

from wicnews.commands import EXIT_FAILED, add_db_option
from wicnews.errors import ConfigError


def register(sub) -> None:
    p = sub.add_parser("schedule", help="run the crawl schedules (APScheduler; each crawl in its own process)")
    p.add_argument("--file", metavar="FILE", help="a schedule file or directory (default: the bundled schedules/)")
    p.add_argument("--once", action="store_true", help="run every enabled schedule once, now, and exit")
    p.add_argument("--webhooks", metavar="FILE",
                   help="after each crawl, run `wicnews notify` with this webhooks file (default: $WICNEWS_WEBHOOKS)")
    add_db_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    import functools
    import signal

    from wicnews import scheduler
    from wicnews.commands.notify import webhooks_file
    from wicnews.config import quiet_logging

    items = scheduler.load_schedules(args.file)
    if not items:
        raise ConfigError("no enabled schedules")
    extra = ["--db", args.db] if args.db else []
    hooks = webhooks_file(args.webhooks)
    notify = ["--webhooks", hooks, *extra] if hooks else None
    if hooks:
        from wicnews.webhooks import load_webhooks

        load_webhooks(hooks)  # a mistake in the file stops the scheduler now, not after a crawl
    if args.once:
        codes = [scheduler.run_cycle(item, extra, notify) for item in items]
        return 0 if all(code == 0 for code in codes) else EXIT_FAILED
    quiet_logging()
    runner = scheduler.build_scheduler(items, functools.partial(scheduler.run_cycle, extra=extra, notify=notify))
    signal.signal(signal.SIGTERM, lambda *_: runner.shutdown(wait=False))
    for item in items:
        print(f"schedule {item.name}: {item.cron or f'every {item.every_seconds} s'}", flush=True)
    runner.start()
    return 0
