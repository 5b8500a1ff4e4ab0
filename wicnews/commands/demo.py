"""``wicnews demo``: the whole pipeline over a bundled sample news site on 127.0.0.1."""

from __future__ import annotations

from wicnews.commands import add_db_option


def register(sub) -> None:
    p = sub.add_parser("demo", help="crawl a bundled sample news site on 127.0.0.1 and show the coverage found")
    p.add_argument("--keep", action="store_true", help="keep the temporary database and print its URL")
    add_db_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from wicnews.demo import run_demo

    return run_demo(args.db, keep=args.keep)
