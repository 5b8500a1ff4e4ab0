"""``wicnews show ID|URL``: one article, where it ran (placements) and how it changed (revisions), read-only."""

from __future__ import annotations

import json
import sys

from wicnews.commands import add_db_option, open_for_reading
from wicnews.errors import ConfigError


def register(sub) -> None:
    p = sub.add_parser("show", help="show one article: its placements (where it ran) and revisions (how it changed)")
    p.add_argument("article", metavar="ID|URL", help="an article id (as `wicnews new` lists it) or any URL it was found under")
    p.add_argument("--format", choices=("table", "json"), default="table")
    add_db_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from wicnews.db.queries import article_detail
    from wicnews.output.table import article_detail as write_table

    engine = open_for_reading(args.db)
    try:
        detail = article_detail(engine, args.article)
    finally:
        engine.dispose()
    if detail is None:
        raise ConfigError(f"no article {args.article!r} in the database (give an id from `wicnews new` or a stored URL)")
    if args.format == "json":
        json.dump(detail, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        write_table(detail, sys.stdout)
    return 0
