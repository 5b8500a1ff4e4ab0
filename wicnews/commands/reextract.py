"""``wicnews reextract``: rebuild stored articles from their kept raw pages (no refetch)."""

from __future__ import annotations

from pathlib import Path

from wicnews.commands import add_db_option


def register(sub) -> None:
    p = sub.add_parser("reextract", help="rebuild stored articles' text and metadata from their kept raw pages")
    p.add_argument("--since", metavar="WHEN",
                   help="only pages fetched since WHEN (ISO 8601 date/time, or a span such as 24h or 7d); default: all")
    add_db_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from wicnews.config import build_settings, parse_since, read_config_file
    from wicnews.db.engine import open_database
    from wicnews.extract import EXTRACTOR_VERSION
    from wicnews.reextract import reextract
    from wicnews.sources import DEFAULT_FILE, parse_sources
    from wicnews.topic import load_topic

    since = parse_since(args.since)  # None without --since; an empty one is a mistake
    settings = build_settings(args.db)
    path = settings.get("WICNEWS_SOURCES") or DEFAULT_FILE  # every source, enabled or not: their zones
    sources = {s.name: s for s in parse_sources(read_config_file(Path(path), "sources file"), str(path))}
    topic = load_topic(settings.get("WICNEWS_TOPIC") or None)
    options = {"min_text_chars": settings.getint("WICNEWS_MIN_TEXT_CHARS"),
               "max_replacement_ratio": settings.getfloat("WICNEWS_MAX_REPLACEMENT_RATIO"),
               "syndication": settings.getdict("WICNEWS_SYNDICATION")}
    engine = open_database(settings.get("WICNEWS_DATABASE_URL"), must_exist=True, auto_upgrade=False)
    try:
        counts = reextract(engine, since, sources=sources, topic=topic, options=options)
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
