"""The commands of ``wicnews``, one module each: ``register(sub)`` adds its parser and sets
``func`` to a function of the parsed arguments that returns the exit code.

Command modules import heavy libraries (Scrapy, trafilatura) inside their functions, so that
building the parser, and running a read-only command, stays cheap.
"""

from __future__ import annotations

import argparse

EXIT_FAILED, EXIT_USAGE, EXIT_DATABASE = 1, 2, 3


def positive(value: str) -> int:
    """argparse type: a whole number >= 1."""
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value!r}")
    return int(value)


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="URL",
                        help="SQLAlchemy database URL (default: $WICNEWS_DATABASE_URL or the embedded SQLite file)")


def add_source_options(parser: argparse.ArgumentParser) -> None:
    """The options that say what to crawl and how: shared by ``crawl`` and ``schedule``."""
    parser.add_argument("--sources", metavar="FILE", help="sources file (TOML); default: the bundled one")
    parser.add_argument("--feed", action="append", default=[], metavar="URL", help="crawl this RSS/Atom feed (repeatable)")
    parser.add_argument("--sitemap", action="append", default=[], metavar="URL",
                        help="crawl this (news) sitemap (repeatable)")
    parser.add_argument("--page", action="append", default=[], metavar="URL", help="crawl this listing page (repeatable)")
    parser.add_argument("--topic", metavar="FILE",
                        help="topic profile (TOML) that decides coverage; default: the bundled WIC one")
    parser.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                        help="override a Scrapy or WICNEWS_* setting")
    add_db_option(parser)


def open_for_reading(db_url: str | None):
    """The engine of a read-only command: an existing database at the current schema; never
    created, never migrated."""
    from wicnews.config import database_url
    from wicnews.db.engine import open_database

    return open_database(database_url(db_url), must_exist=True, auto_upgrade=False, read_only=True)


def add_filter_options(parser: argparse.ArgumentParser, since_help: str) -> None:
    """The filters of ``new`` and ``search`` (see ``wicnews.db.queries.Filters``)."""
    parser.add_argument("--since", metavar="WHEN", help=since_help)
    parser.add_argument("--site", action="append", default=[], metavar="SITE",
                        help="only this site: its name or its domain (repeatable: any of them)")
    parser.add_argument("--lang", action="append", default=[], metavar="LANG",
                        help="only this language, e.g. en or zh (repeatable)")
    parser.add_argument("--source", action="append", default=[], metavar="NAME",
                        help="only articles found by this source of the sources file (repeatable)")
    parser.add_argument("--mentions", action="store_true", help="also articles that mention the topic in passing")
    parser.add_argument("--all", action="store_true", help="every article, whatever its relevance")
    parser.add_argument("--entity", metavar="NAME",
                        help="only articles naming this organisation or person (e.g. Alibaba, 阿里巴巴)")
    parser.add_argument("--limit", type=positive, metavar="N", help="at most N articles")
    parser.add_argument("--out", metavar="FILE", help="write to FILE (replaced atomically) instead of stdout")


def filters_from(args, default_since: str | None = None):
    from wicnews.commands.new import canonical_entity
    from wicnews.config import parse_since
    from wicnews.db.queries import Filters

    since = args.since if args.since is not None else default_since  # an empty --since is a mistake, not the default
    return Filters(since=parse_since(since) if since is not None else None,
                   sites=tuple(args.site), langs=tuple(args.lang), sources=tuple(args.source),
                   include_all=args.all, limit=args.limit,
                   levels=("coverage", "mention") if args.mentions else ("coverage",),
                   entity=canonical_entity(args.entity) if args.entity else None)


def emit(rows: list[dict], writer, out_path: str | None) -> None:
    """Write ``rows`` with ``writer`` to stdout (flushed) or to ``out_path`` (a temporary file
    beside it, renamed when complete). Returns only once the output is written: a write
    that fails raises (``ConfigError`` for a file that cannot be written)."""
    import io
    import os
    import sys
    import tempfile

    from wicnews.errors import ConfigError

    buffer = io.StringIO()
    writer(rows, buffer)
    if out_path is None:
        sys.stdout.write(buffer.getvalue())
        sys.stdout.flush()
        return
    target = os.path.abspath(out_path)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".wicnews-", dir=os.path.dirname(target))
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(buffer.getvalue())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
        raise ConfigError(f"cannot write {out_path}: {exc.strerror or exc}") from None
