"""``wicnews backfill``: collect the coverage of a past window (or of a summit) through the
topic sources that take a time range (``wicnews.backfill``)."""

from __future__ import annotations

import sys

from wicnews.commands import add_db_option


def register(sub) -> None:
    p = sub.add_parser("backfill", help="collect the coverage of a past window through the search sources (GDELT, Google News)")
    p.add_argument("--from", dest="first", metavar="DATE", help="first day (UTC), e.g. 2024-11-15")
    p.add_argument("--to", dest="last", metavar="DATE", help="last day (UTC), included")
    p.add_argument("--summit", type=int, metavar="YEAR",
                   help="the days of that year's summit (schedules/summits.toml), a week before and after")
    p.add_argument("--source", metavar="NAME", help="only this source (default: every gdelt and google_news source)")
    p.add_argument("--sources", metavar="FILE", help="sources file (TOML); default: the bundled one")
    p.add_argument("--progress", action="store_true", help="draw the progress bar even when stderr is not a terminal")
    p.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                   help="override a Scrapy or WICNEWS_* setting")
    add_db_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from wicnews.backfill import Progress, day_window, parse_day, ranged_sources, run_backfill, summit_window
    from wicnews.commands.crawl import report
    from wicnews.config import build_settings
    from wicnews.errors import ConfigError
    from wicnews.sources import load_sources

    if args.summit is not None:
        if args.first or args.last:
            raise ConfigError("give either --summit or --from/--to, not both")
        window = summit_window(args.summit)
    elif args.first and args.last:
        window = day_window(parse_day(args.first, "--from"), parse_day(args.last, "--to"))
    else:
        raise ConfigError("give --from DATE and --to DATE, or --summit YEAR")
    settings = build_settings(args.db, args.set, WICNEWS_SOURCES=args.sources)
    sources = ranged_sources(load_sources(settings.get("WICNEWS_SOURCES")), args.source)
    print(f"backfill {window[0]:%Y-%m-%d %H:%M} .. {window[1]:%Y-%m-%d %H:%M} UTC through "
          f"{', '.join(s.name for s in sources)}", file=sys.stderr)
    progress = Progress(enabled=args.progress or sys.stderr.isatty())
    return report(run_backfill(settings, sources, window, progress))
