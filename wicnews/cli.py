"""The ``wicnews`` command: argparse over the library, one module per command
(``wicnews.commands``).

    wicnews crawl [--recheck] [--sources FILE] [--feed URL]... [--sitemap URL]... [--page URL]... [--db URL] [--redis URL]
                  [-s NAME=VALUE]...
    wicnews new [--consumer NAME [--peek]] [FILTERS] [--format table|json|jsonl|csv|atom] [--out FILE] [--db URL]
    wicnews search QUERY [FILTERS] [--format ...] [--out FILE] [--db URL]
      FILTERS: --since WHEN --site SITE --lang LANG --source NAME --mentions --all --entity NAME --limit N
    wicnews show ID|URL [--format table|json] [--db URL]
    wicnews explain ID|URL [--format text|json] [--db URL]
    wicnews rescore [--topic FILE] [--db URL]
    wicnews runs [--limit N] [--format table|json] [--db URL]
    wicnews extract PATH_OR_URL [--url URL] [--format text|json]
    wicnews reextract [--since WHEN] [--db URL]
    wicnews demo [--db URL] [--keep]
    wicnews queue status|clear [--redis URL] [--force]
    wicnews db upgrade|current [--db URL]
    wicnews schedule [--file FILE] [--once] [--every SPAN [source options]] [--webhooks FILE] [--db URL]
    wicnews sources [--format table|json] [--db URL]
    wicnews sources check [--sources FILE] [--source NAME]... [--all]
    wicnews status [--stale-after SPAN] [--max-failures N] [--format table|json] [--db URL]
    wicnews prune --older-than SPAN [--articles] [--dry-run] [--db URL]
    wicnews backfill (--from DATE --to DATE | --summit YEAR) [--source NAME] [--sources FILE] [--progress] [--db URL]
    wicnews notify [--webhooks FILE] [--db URL]
    wicnews report --out FILE.html [--since WHEN] [--db URL]

Exit codes: 0 done (a crawl counts as done even when some URLs failed); 1 every source of
a crawl failed; 2 a usage or configuration mistake; 3 the database cannot be used.
Mistakes print one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys

from wicnews.commands import (
    EXIT_DATABASE,
    EXIT_FAILED,
    EXIT_USAGE,
    backfill,
    crawl,
    database,
    demo,
    extract,
    new,
    notify,
    prune,
    queue,
    reextract,
    relevance,
    report,
    schedule,
    search,
    show,
    sources,
    status,
)
from wicnews.errors import ConfigError, DatabaseError

# In the order `wicnews --help` lists them.
COMMANDS = (crawl, new, search, show, relevance, report, notify, extract, reextract, demo, schedule, sources, status,
            prune, queue, database, backfill)


class _Parser(argparse.ArgumentParser):
    """Usage mistakes in one line (``wicnews new: ... (see wicnews new --help)``), exit 2."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


class _Version(argparse.Action):
    """``--version``: the installed distribution's version, looked up only when asked."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("wicnews")
        except PackageNotFoundError:
            found = "(not installed)"
        print(f"wicnews {found}")
        parser.exit(0)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="wicnews", description="Monitor press coverage of the World Internet Conference.")
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    for command in COMMANDS:
        command.register(sub)
    return parser


def _parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """The arguments; an unknown option after the command is the command's mistake, said
    with its own help."""
    given = sys.argv[1:] if argv is None else argv
    args, unknown = parser.parse_known_args(given)
    if unknown:
        before = given[:given.index(args.command)] if args.command in given else given
        if any(arg in before for arg in unknown):
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        commands.choices[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


class OutputError(Exception):
    """Writing to stdout failed (a full disk, a quota, an I/O error)."""


class _Stdout:
    """``sys.stdout`` whose failed writes raise ``OutputError``: what failed is the output,
    not whatever else the command was doing (a broken pipe stays ``BrokenPipeError``)."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OutputError(exc.strerror or str(exc)) from exc

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OutputError(exc.strerror or str(exc)) from exc

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def main(argv: list[str] | None = None) -> int:
    args = _parse(build_parser(), argv)
    stdout = sys.stdout
    sys.stdout = _Stdout(stdout)
    try:
        code = args.func(args)
        sys.stdout.flush()
        return code
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
    except OutputError as exc:
        os.dup2(os.open(os.devnull, os.O_WRONLY), stdout.fileno())  # nothing more to flush at exit
        print(f"wicnews: cannot write the output: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        sys.stdout = stdout


if __name__ == "__main__":
    sys.exit(main())
