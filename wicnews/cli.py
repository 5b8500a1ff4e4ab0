"""The ``wicnews`` command: argparse over the library, one module per command
(``wicnews.commands``).

    wicnews crawl [--sources FILE] [--feed URL]... [--sitemap URL]... [--page URL]... [--db URL] [-s NAME=VALUE]...
    wicnews new [--consumer NAME [--peek]] [FILTERS] [--format table|json|jsonl|csv|atom] [--out FILE] [--db URL]
    wicnews search QUERY [FILTERS] [--format ...] [--out FILE] [--db URL]
      FILTERS: --since WHEN --site SITE --lang LANG --source NAME --all --limit N
    wicnews runs [--limit N] [--format table|json] [--db URL]
    wicnews extract PATH_OR_URL [--url URL] [--format text|json]
    wicnews demo [--db URL] [--keep]
    wicnews db upgrade|current [--db URL]
    wicnews schedule [--file FILE] [--once] [--webhooks FILE] [--db URL]
    wicnews notify [--webhooks FILE] [--db URL]
    wicnews report --out FILE.html [--since WHEN] [--db URL]

Exit codes: 0 done (a crawl counts as done even when some URLs failed); 1 every source of
a crawl failed; 2 a usage or configuration mistake; 3 the database cannot be used.
Mistakes print one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys

from wicnews.commands import EXIT_DATABASE, EXIT_USAGE, crawl, database, demo, extract, new, notify, report, schedule, search
from wicnews.errors import ConfigError, DatabaseError

# In the order `wicnews --help` lists them.
COMMANDS = (crawl, new, search, report, notify, extract, demo, schedule, database)


class _Parser(argparse.ArgumentParser):
    """Usage mistakes in one line (``wicnews new: ... (see wicnews new --help)``), exit 2."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="wicnews", description="Monitor press coverage of the World Internet Conference.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"wicnews: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DatabaseError as exc:
        print(f"wicnews: {exc}", file=sys.stderr)
        return EXIT_DATABASE
    except KeyboardInterrupt:
        print("wicnews: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
