"""``wicnews new`` and ``wicnews runs``: what the database holds, read-only."""

from __future__ import annotations

import sys

from wicnews.commands import add_db_option, open_for_reading, positive
from wicnews.output import ARTICLE_FORMATS, RUN_FORMATS


def register(sub) -> None:
    p = sub.add_parser("new", help="list new coverage: relevant articles first seen since WHEN")
    p.add_argument("--since", default="7d", metavar="WHEN", help="ISO 8601 date/time, or a span such as 24h or 7d (default 7d)")
    p.add_argument("--all", action="store_true", help="include articles judged not relevant")
    p.add_argument("--limit", type=positive, metavar="N", help="at most N articles")
    p.add_argument("--format", choices=sorted(ARTICLE_FORMATS), default="table")
    add_db_option(p)
    p.set_defaults(func=run_new)

    p = sub.add_parser("runs", help="list crawl runs with their counts")
    p.add_argument("--limit", type=positive, default=20, metavar="N")
    p.add_argument("--format", choices=sorted(RUN_FORMATS), default="table")
    add_db_option(p)
    p.set_defaults(func=run_runs)


def run_new(args) -> int:
    from wicnews.config import parse_since
    from wicnews.db.queries import coverage

    since = parse_since(args.since)
    engine = open_for_reading(args.db)
    try:
        rows = coverage(engine, since, args.all, args.limit)
    finally:
        engine.dispose()
    ARTICLE_FORMATS[args.format](rows, sys.stdout)
    return 0


def run_runs(args) -> int:
    from wicnews.db.queries import recent_runs

    engine = open_for_reading(args.db)
    try:
        rows = recent_runs(engine, args.limit)
    finally:
        engine.dispose()
    RUN_FORMATS[args.format](rows, sys.stdout)
    return 0
