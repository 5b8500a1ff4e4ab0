"""``wicnews crawl``: one monitoring cycle over the configured (or given) sources."""

from __future__ import annotations

import sys

from wicnews.commands import EXIT_FAILED, add_source_options


def register(sub) -> None:
    p = sub.add_parser("crawl", help="run one monitoring cycle over the configured (or given) sources")
    add_source_options(p)
    p.add_argument("--recheck", action="store_true",
                   help="download again every stored article the sources list, to catch edits (new revisions)")
    p.add_argument("--redis", metavar="URL", help="join a distributed crawl: processes given the same Redis URL "
                   "share one queue (default: $WICNEWS_REDIS_URL; needs a PostgreSQL --db)")
    p.set_defaults(func=run)


def run(args) -> int:
    import gc

    from wicnews.crawl import defer_stop_signals
    from wicnews.pool import DEFAULT_FUNCTION, PREPARE, start_server, stop_server

    defer_stop_signals()  # first: a stop during start-up still leaves a run row (``interrupted``)
    # Next, the extraction workers' server, before the settings are even read: importing the
    # extraction takes it longer than this process takes to start the crawl. ``run_crawl``
    # replaces it, or stops it, when the settings ask for another extraction or for none.
    start_server(PREPARE, DEFAULT_FUNCTION)
    try:
        from wicnews.config import build_settings
        from wicnews.crawl import crawl_sources, run_crawl

        settings = build_settings(args.db, args.set, WICNEWS_SOURCES=args.sources, WICNEWS_TOPIC=args.topic,
                                  WICNEWS_RECHECK=True if args.recheck else None, WICNEWS_REDIS_URL=args.redis)
        result = run_crawl(settings, crawl_sources(settings, args.feed, args.sitemap, args.page))
    finally:
        stop_server(kill=True)  # a mistake in the settings or the sources: never used
    code = report(result)
    gc.freeze()  # the process ends here: no collection over everything the crawl imported on the way out
    return code


def report(result) -> int:
    """Print the run line; the exit code of a crawl that ended as ``result`` did."""
    from wicnews.db.runs import run_counts
    from wicnews.output.table import run_line

    print(run_line({"id": result.run_id if result.run_id is not None else "?", "status": result.status,
                    **run_counts({}), **result.counts}))
    if result.status == "failed":
        print("wicnews: every source failed; see the log above", file=sys.stderr)
    elif result.status == "unknown":
        print("wicnews: the crawl did not record its run; see the log above", file=sys.stderr)
    elif not result.ok:
        print(f"wicnews: the crawl ended early: {result.status}", file=sys.stderr)
    return 0 if result.ok else EXIT_FAILED
