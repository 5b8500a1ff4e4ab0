"""``wicnews new`` and ``wicnews runs``: what the database holds, read-only."""

from __future__ import annotations

import sys

from wicnews.commands import add_db_option, open_for_reading, positive
from wicnews.output import ARTICLE_FORMATS, RUN_FORMATS


def register(sub) -> None:
    p = sub.add_parser("new", help="list new coverage: articles about the topic first seen since WHEN")
    p.add_argument("--since", default="7d", metavar="WHEN", help="ISO 8601 date/time, or a span such as 24h or 7d (default 7d)")
    p.add_argument("--mentions", action="store_true", help="also list articles that mention the topic in passing")
    p.add_argument("--all", action="store_true", help="list every stored article, whatever its relevance")
    p.add_argument("--entity", metavar="NAME", help="only articles naming this organisation or person (e.g. Alibaba, 阿里巴巴)")
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
    levels = ("coverage", "mention") if args.mentions else ("coverage",)
    entity = canonical_entity(args.entity) if args.entity else None
    engine = open_for_reading(args.db)
    try:
        rows = coverage(engine, since, args.all, args.limit, levels=levels, entity=entity)
    finally:
        engine.dispose()
    ARTICLE_FORMATS[args.format](rows, sys.stdout)
    return 0


def canonical_entity(name: str) -> str:
    """The gazetteer's name for ``name`` (an alias, any case, either script), else ``name``."""
    from wicnews.topic import load_topic

    wanted = name.strip().casefold()
    from wicnews.config import environment_values

    for entity in load_topic(environment_values().get("WICNEWS_TOPIC") or None).entities:
        if wanted in {entity.name.casefold(), *(a.casefold() for a in entity.aliases)}:
            return entity.name
    return name.strip()


def run_runs(args) -> int:
    from wicnews.db.queries import recent_runs

    engine = open_for_reading(args.db)
    try:
        rows = recent_runs(engine, args.limit)
    finally:
        engine.dispose()
    RUN_FORMATS[args.format](rows, sys.stdout)
    return 0
