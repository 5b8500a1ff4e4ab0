"""``wicnews schedule``: run the crawl schedules (APScheduler 3.x; each crawl in its own process).

SIGTERM or SIGINT stops the running crawls cleanly (their runs say ``interrupted``) and the
scheduler exits 0.
"""

from __future__ import annotations

from wicnews.commands import EXIT_FAILED, add_source_options
from wicnews.errors import ConfigError


def register(sub) -> None:
    p = sub.add_parser("schedule", help="run the crawl schedules (APScheduler; each crawl in its own process)")
    p.add_argument("--file", metavar="FILE", help="a schedule file or directory (default: the bundled schedules/)")
    p.add_argument("--every", metavar="SPAN",
                   help="instead of the schedule files: crawl the given sources every SPAN (e.g. 30m), starting now")
    p.add_argument("--once", action="store_true", help="run every enabled schedule once, now, and exit")
    p.add_argument("--summits", metavar="FILE",
                   help="surge windows (default: summits.toml beside the schedules, else the bundled one)")
    p.add_argument("--no-surge", action="store_true", help="ignore the surge windows")
    p.add_argument("--webhooks", metavar="FILE",
                   help="after each crawl, run `wicnews notify` with this webhooks file (default: $WICNEWS_WEBHOOKS)")
    add_source_options(p)
    p.set_defaults(func=run)


def _adhoc(args):
    """The one schedule of ``--every``: a ``wicnews crawl`` with the given source options."""
    from wicnews import scheduler

    crawl_args: list[str] = ["--sources", args.sources] if args.sources else []
    for flag, values in (("--feed", args.feed), ("--sitemap", args.sitemap), ("--page", args.page),
                         ("-s", args.set)):
        for value in values:
            crawl_args += [flag, value]
    seconds = scheduler.parse_span(args.every)
    return scheduler.Schedule(name=f"every-{args.every}", every_seconds=seconds, args=tuple(crawl_args),
                              timeout_seconds=max(seconds, 7200))


def _surge(args):
    from pathlib import Path

    from wicnews import scheduler

    if args.no_surge:
        return None
    path = args.summits
    if path is None and args.file and Path(args.file).is_dir() and (Path(args.file) / "summits.toml").is_file():
        path = Path(args.file) / "summits.toml"
    return scheduler.load_surge(path)


def run(args) -> int:
    import signal
    import time

    from wicnews import scheduler
    from wicnews.commands.notify import webhooks_file
    from wicnews.config import quiet_logging

    if args.every:
        if args.file:
            raise ConfigError("give --every (with source options) or --file, not both")
        items = [_adhoc(args)]
    else:
        if args.feed or args.sitemap or args.page or args.sources or args.set:
            raise ConfigError("source options (--feed, --sitemap, --page, --sources, -s) go with --every; "
                              "a schedule file gives them in 'args'")
        items = scheduler.load_schedules(args.file)
    if not items:
        raise ConfigError("no enabled schedules")
    extra = ["--db", args.db] if args.db else []
    hooks = webhooks_file(args.webhooks)
    notify = ["--webhooks", hooks, *extra] if hooks else None
    if hooks:
        from wicnews.webhooks import load_webhooks

        load_webhooks(hooks)  # a mistake in the file stops the scheduler now, not after a crawl
    runner = scheduler.CrawlRunner(extra, notify=notify)
    if args.once:
        codes = [runner(item) for item in items]
        return 0 if all(code == 0 for code in codes) else EXIT_FAILED
    quiet_logging()
    surge = _surge(args)
    jobs = scheduler.build_scheduler(items, runner, surge=surge, start_now=bool(args.every))

    def stop(signum, _frame):
        runner.stop()
        jobs.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for item in items:
        print(f"schedule {item.name}: {item.cron or f'every {item.every_seconds} s'}", flush=True)
    if surge is not None and surge.active(scheduler.utcnow()):
        print(f"surge window open: every schedule runs at least every {surge.every_seconds} s", flush=True)
    jobs.start()
    deadline = time.monotonic() + runner.grace + 10
    while runner.running() and time.monotonic() < deadline:  # the crawls close their runs
        time.sleep(0.1)
    print("scheduler stopped", flush=True)
    return 0
