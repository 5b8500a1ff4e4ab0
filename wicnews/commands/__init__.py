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
    if not value.isdigit() or int(value) < 1:
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
