"""``wicnews search QUERY``: full-text search over titles and texts, read-only."""

from __future__ import annotations

from wicnews.commands import add_db_option, add_filter_options, emit, filters_from, open_for_reading
from wicnews.output import ARTICLE_FORMATS


def register(sub) -> None:
    p = sub.add_parser("search", help="full-text search (English and Chinese) over titles and texts, best first")
    p.add_argument("query", metavar="QUERY",
                   help="words or Chinese text; every term must match (a word, its stem, or a substring)")
    add_filter_options(p, "only articles first seen since WHEN: ISO 8601 date/time, or a span such as 7d")
    p.add_argument("--format", choices=sorted(ARTICLE_FORMATS), default="table")
    add_db_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from wicnews.db.engine import reason
    from wicnews.db.queries import search
    from wicnews.db.search import terms
    from wicnews.errors import ConfigError, DatabaseError

    if not terms(args.query):
        raise ConfigError("the query is empty: give a word, or Chinese text, to search for")
    filters = filters_from(args)
    engine = open_for_reading(args.db)
    try:
        rows = search(engine, args.query, filters)
    except SQLAlchemyError as exc:
        raise DatabaseError(f"search failed: {reason(exc)}") from exc
    finally:
        engine.dispose()
    emit(rows, ARTICLE_FORMATS[args.format], args.out)
    return 0
