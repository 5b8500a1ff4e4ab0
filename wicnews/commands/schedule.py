"""``wicnews schedule``: run the crawl schedules (APScheduler 3.x; each crawl in its own process)."""

from __future__ import annotations

from wicnews.commands import EXIT_FAILED, add_db_option
from wicnews.errors import ConfigError


def register(sub) -> None:
    p = sub.add_parser("schedule", help="run the crawl schedules (APScheduler; each crawl in its own process)")
    p.add_argument("--file", metavar="FILE", help="a schedule file or directory (default: the bundled schedules/)")
    p.add_argument("--once", action="store_true", help="run every enabled schedule once, now, and exit")
    add_db_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    import functools
    import signal

    from wicnews import scheduler
    from wicnews.config import quiet_logging

    items = scheduler.load_schedules(args.file)
    if not items:
        raise ConfigError("no enabled schedules")
    extra = ["--db", args.db] if args.db else []
    if args.once:
        codes = [scheduler.run_crawl(item, extra) for item in items]
        return 0 if all(code == 0 for code in codes) else EXIT_FAILED
    quiet_logging()
    runner = scheduler.build_scheduler(items, functools.partial(scheduler.run_crawl, extra=extra))
    signal.signal(signal.SIGTERM, lambda *_: runner.shutdown(wait=False))
    for item in items:
        print(f"schedule {item.name}: {item.cron or f'every {item.every_seconds} s'}", flush=True)
    runner.start()
    return 0
