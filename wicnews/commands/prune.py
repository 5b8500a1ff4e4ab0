"""``wicnews prune``: retention. Removes run rows older than a span, and the health rows of
sources not polled since; articles only when asked (``--articles``)."""

from __future__ import annotations

from wicnews.commands import add_db_option


def register(sub) -> None:
    p = sub.add_parser("prune", help="remove run rows older than SPAN (articles only with --articles)")
    p.add_argument("--older-than", required=True, metavar="SPAN", help="e.g. 365d or 52w")
    p.add_argument("--articles", action="store_true",
                   help="also remove articles first seen before then (with their URLs); never done otherwise")
    p.add_argument("--dry-run", action="store_true", help="count what would be removed; remove nothing")
    add_db_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from datetime import timedelta

    from sqlalchemy.orm import Session

    from wicnews.config import database_url, parse_span
    from wicnews.db.engine import open_database
    from wicnews.db.health import prune_sources
    from wicnews.db.runs import prune
    from wicnews.models import utcnow

    cutoff = utcnow() - timedelta(seconds=parse_span(args.older_than, "--older-than"))
    engine = open_database(database_url(args.db), must_exist=True, auto_upgrade=False)
    try:
        with Session(engine) as session, session.begin():
            runs, articles = prune(session, cutoff, articles=args.articles)
            sources = prune_sources(session, cutoff)
            if args.dry_run:
                session.rollback()
    finally:
        engine.dispose()
    verb = "would remove" if args.dry_run else "removed"
    print(f"{verb} {runs} run(s)" + (f", {articles} article(s)" if args.articles else "")
          + f" and {sources} source(s) not polled since {cutoff:%Y-%m-%d %H:%M} UTC")
    return 0
