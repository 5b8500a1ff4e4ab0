"""``wicnews sources``: the health of each source polled so far, read-only."""

from __future__ import annotations

import sys

from wicnews.commands import add_db_option, open_for_reading
from wicnews.output import SOURCE_FORMATS


def register(sub) -> None:
    from wicnews.commands import sources_check

    p = sub.add_parser("sources", help="show each source's health (last success, failures, new articles, next poll); "
                                       "`sources check` fetches each configured source once and reports what it found")
    p.add_argument("action", nargs="?", choices=("health", "check"), default="health",
                   help="health (default): what the database knows; check: a live fetch of each source")
    p.add_argument("--format", choices=sorted(SOURCE_FORMATS), default="table")
    add_db_option(p)
    sources_check.add_options(p)
    p.set_defaults(func=run)


def run(args) -> int:
    if args.action == "check":
        from wicnews.commands import sources_check

        return sources_check.run(args)
    from sqlalchemy.orm import Session

    from wicnews.db import health

    engine = open_for_reading(args.db)
    try:
        with Session(engine) as session:
            rows = [health.source_dict(s) for s in health.all_sources(session)]
    finally:
        engine.dispose()
    SOURCE_FORMATS[args.format](rows, sys.stdout)
    return 0
