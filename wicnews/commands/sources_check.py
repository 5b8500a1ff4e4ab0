"""``wicnews sources check``: fetch each configured source once and report links found and
the newest item's date (a live check, for a maintainer before a summit). Its options are
added to the ``sources`` command (``wicnews.commands.sources``)."""

from __future__ import annotations

from wicnews.commands import EXIT_FAILED


def add_options(p) -> None:
    """The options of ``wicnews sources check``."""
    p.add_argument("--sources", metavar="FILE", help="check: sources file (TOML); default: the bundled one")
    p.add_argument("--source", action="append", default=[], metavar="NAME", help="check: only this source (repeatable)")
    p.add_argument("--all", action="store_true", help="check: also the sources marked enabled = false")
    p.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE",
                   help="check: override a Scrapy or WICNEWS_* setting")


def run(args) -> int:
    from pathlib import Path

    from wicnews.config import build_settings
    from wicnews.errors import ConfigError
    from wicnews.sourcecheck import check_sources, report_lines
    from wicnews.sources import DEFAULT_FILE, parse_sources

    settings = build_settings(None, ["LOG_LEVEL=WARNING", *args.set], WICNEWS_SOURCES=args.sources)
    path = settings.get("WICNEWS_SOURCES") or DEFAULT_FILE
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read sources file {path}: {exc.strerror or exc}") from None
    sources = [s for s in parse_sources(text, str(path)) if s.enabled or args.all]
    if args.source:
        unknown = sorted(set(args.source) - {s.name for s in sources})
        if unknown:
            raise ConfigError(f"no source named {unknown[0]!r} in {path}")
        sources = [s for s in sources if s.name in args.source]
    if not sources:
        raise ConfigError("no sources to check")
    reports = check_sources(sources, settings)
    for line in report_lines(reports):
        print(line)
    failing = [r for r in reports if not r.ok]
    return EXIT_FAILED if failing else 0
