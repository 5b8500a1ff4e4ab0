"""``wicnews reextract``: rebuild stored articles from their kept raw pages (no refetch)."""

from __future__ import annotations

from wicnews.commands import add_db_option


def register(sub) -> None:
    p = sub.add_parser("reextract", help="rebuild stored articles' text and metadata from their kept raw pages")
    p.add_argument("--since", metavar="WHEN",
                   help="only pages fetched since WHEN (ISO 8601 date/time, or a span such as 24h or 7d); default: all")
    add_db_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from wicnews.config import database_url, parse_since
    from wicnews.db.engine import open_database
    from wicnews.extract import EXTRACTOR_VERSION
    from wicnews.reextract import reextract

    since = parse_since(args.since) if args.since else None
    engine = open_database(database_url(args.db), must_exist=True)
    try:
        counts = reextract(engine, since)
    finally:
        engine.dispose()
    refused = sum(v for k, v in counts.items() if k.startswith("refused/"))
    print(f"reextract (extractor version {EXTRACTOR_VERSION}): {counts['articles']} article(s), "
          f"{counts['changed']} changed, {counts['unchanged']} unchanged, {refused} refused by the extractor, "
          f"{counts['text_conflicts']} text conflict(s)")
    for key, value in sorted(counts.items()):
        if key.startswith("refused/"):
            print(f"  {key.removeprefix('refused/')}: {value}")
    return 0
