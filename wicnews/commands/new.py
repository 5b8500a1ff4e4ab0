"""``wicnews new`` and ``wicnews runs``: what the database holds, read-only; ``new --consumer``
also moves that consumer's cursor, once the output is written."""

from __future__ import annotations

from wicnews.commands import EXIT_FAILED, add_db_option, add_filter_options, emit, filters_from, open_for_reading, positive
from wicnews.output import ARTICLE_FIELDS, ARTICLE_FORMATS, RUN_FORMATS


def register(sub) -> None:
    p = sub.add_parser("new", help="list new coverage (articles about the topic): since WHEN, or what a consumer "
                                   "has not been given yet")
    p.add_argument("--consumer", metavar="NAME",
                   help="only what NAME has not been given yet; NAME's cursor moves once the output is written")
    p.add_argument("--peek", action="store_true", help="with --consumer: show, do not move the cursor")
    add_filter_options(p, "ISO 8601 date/time, or a span such as 24h or 7d (default 7d; none with --consumer)")
    p.add_argument("--format", choices=sorted(ARTICLE_FORMATS), default="table")
    add_db_option(p)
    p.set_defaults(func=run_new)

    p = sub.add_parser("runs", help="list crawl runs with their counts")
    p.add_argument("--limit", type=positive, default=20, metavar="N")
    p.add_argument("--format", choices=sorted(RUN_FORMATS), default="table")
    add_db_option(p)
    p.set_defaults(func=run_runs)


def run_new(args) -> int:
    from wicnews.db.queries import EVERYTHING, Shown, coverage
    from wicnews.errors import ConfigError

    if args.peek and not args.consumer:
        raise ConfigError("--peek needs --consumer NAME")
    if args.consumer is not None:
        return _run_consumer(args)
    filters = filters_from(args, default_since="7d")
    engine = open_for_reading(args.db)
    try:
        shown = Shown(*ARTICLE_FIELDS[args.format]) if args.format in ARTICLE_FIELDS else EVERYTHING
        rows = coverage(engine, None, filters=filters, limit=filters.limit, include_all=filters.include_all,
                        shown=shown)
    finally:
        engine.dispose()
    emit(rows, ARTICLE_FORMATS[args.format], args.out)
    return 0


def _run_consumer(args) -> int:
    import logging

    from wicnews.config import database_url
    from wicnews.db import consumers
    from wicnews.db.engine import make_engine
    from wicnews.errors import ConfigError

    name = args.consumer.strip()
    if not name or len(name) > consumers.MAX_NAME or not name.isprintable():
        raise ConfigError(f"a consumer name is 1 to {consumers.MAX_NAME} printable characters, got {args.consumer!r}")
    filters = filters_from(args)
    engine = open_for_reading(args.db)
    try:
        batch = consumers.pending(engine, name, filters)
    finally:
        engine.dispose()
    try:
        emit(batch.rows, ARTICLE_FORMATS[args.format], args.out)
    except BrokenPipeError:
        import os
        import sys

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to flush at exit
        print(f"wicnews: the output was closed before it was written: consumer {name}'s cursor did not move",
              file=sys.stderr)
        return EXIT_FAILED
    if args.peek or batch.next_seq is None:
        return 0
    writer = make_engine(database_url(args.db))  # the one write: a short transaction of its own
    try:
        consumers.advance(writer, name, batch.next_seq)
    finally:
        writer.dispose()
    logging.getLogger(__name__).debug("consumer %s: cursor %d -> %d", name, batch.cursor, batch.next_seq)
    return 0


def canonical_entity(name: str) -> str:
    """The gazetteer's name for ``name`` (an alias, any case, either script), else ``name``."""
    from wicnews.config import environment_values
    from wicnews.topic import load_topic

    wanted = name.strip().casefold()
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
    emit(rows, RUN_FORMATS[args.format], None)
    return 0
