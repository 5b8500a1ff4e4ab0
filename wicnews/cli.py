"""The ``wicnews`` command: a thin shell over the library.

    wicnews crawl [--sources FILE] [--feed URL]... [--sitemap URL]... [--page URL]... [--db URL] [-s NAME=VALUE]...
    wicnews new [--since WHEN] [--all] [--limit N] [--format table|json] [--db URL]
    wicnews runs [--limit N] [--format table|json] [--db URL]
    wicnews extract PATH_OR_URL [--url URL] [--format text|json]
    wicnews demo [--db URL] [--keep]
    wicnews db upgrade|current [--db URL]
    wicnews schedule [--file FILE] [--once] [--db URL]

Exit codes: 0 done (a crawl counts as done even when some URLs failed); 1 every source of
a crawl failed; 2 a usage or configuration mistake; 3 the database cannot be used.
Mistakes print one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path

from wicnews.errors import ConfigError, DatabaseError, PageError

EXIT_FAILED, EXIT_USAGE, EXIT_DATABASE = 1, 2, 3


# --- settings ------------------------------------------------------------------------------

def project_settings(db_url: str | None = None, overrides: list[str] = (), **values):
    """wicnews.settings, then ``WICNEWS_*`` from the environment, then ``--db`` and ``-s``."""
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("wicnews.settings", priority="project")
    for name, value in values.items():
        if value is not None:
            settings.set(name, value, priority="cmdline")
    if db_url:
        settings.set("WICNEWS_DATABASE_URL", db_url, priority="cmdline")
    for item in overrides:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
            raise ConfigError(f"-s expects NAME=VALUE with an upper-case setting name, got {item!r}")
        _check_type(settings, name, value)
        settings.set(name, value, priority="cmdline")
    return settings


def _check_type(settings, name: str, value: str) -> None:
    """A value given for a boolean or numeric setting must read as one."""
    default = settings.get(name)
    if isinstance(default, bool):
        if value.strip().lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
            raise ConfigError(f"-s {name}: expected true or false, got {value!r}")
        return
    for kind, expected in ((int, "a whole number"), (float, "a number")):
        if isinstance(default, kind):
            try:
                kind(value)
            except ValueError:
                raise ConfigError(f"-s {name}: expected {expected}, got {value!r}") from None
            return


def parse_since(value: str | None, now: datetime | None = None) -> datetime | None:
    """``24h``, ``7d``, ``30m``, ``2w`` or an ISO 8601 date/date-time (naive = UTC)."""
    if value is None:
        return None
    now = now or datetime.now(timezone.utc)
    problem = ConfigError(f"--since: expected an ISO 8601 date/time or a span like 24h or 7d, got {value!r}")
    match = re.fullmatch(r"\s*(\d+)\s*([mhdw])\s*", value)
    try:
        if match:
            unit = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[match[2]]
            return now - timedelta(**{unit: int(match[1])})
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        raise problem from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


# --- output ----------------------------------------------------------------------------

def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def article_json(article, also_at: list[str]) -> dict:
    return {
        "id": article.id, "url": article.url, "canonical_url": article.canonical_url, "title": article.title,
        "authors": article.authors, "published_at": _iso(article.published_at), "site_name": article.site_name,
        "language": article.language, "description": article.description, "image": article.image,
        "tags": article.tags, "text": article.text, "relevant": article.relevant,
        "matched_terms": article.matched_terms, "first_seen_at": _iso(article.first_seen_at),
        "source": article.source, "run_id": article.run_id, "also_at": also_at,
    }


def _cells(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _fit(text: str | None, width: int) -> str:
    """``text`` cut and padded to ``width`` terminal cells (Chinese characters take two)."""
    text, out, used = text or "-", [], 0
    if sum(map(_cells, text)) > width:
        width -= 1
        for ch in text:
            if used + _cells(ch) > width:
                break
            out.append(ch)
            used += _cells(ch)
        return "".join(out) + "…" + " " * (width - used)
    return text + " " * (width - sum(map(_cells, text)))


def print_articles(rows: list[dict], out=sys.stdout) -> None:
    if not rows:
        print("no articles", file=out)
        return
    print(f"{'ID':<6} {'PUBLISHED (UTC)':<16}  {'LNG':<3} {_fit('SITE', 26)}  TITLE / URL / MATCHED TERMS", file=out)
    for row in rows:
        published = (row["published_at"] or "")[:16].replace("T", " ") or "date unknown    "
        flag = "" if row["relevant"] else "  [not relevant]"
        print(f"#{row['id']:<5} {published}  {row['language'] or '--':<3} {_fit(row['site_name'], 26)}  "
              f"{_fit(row['title'], 90).rstrip()}{flag}", file=out)
        terms = ", ".join(row["matched_terms"])
        copies = f"  (+{len(row['also_at'])} other URL{'s' if len(row['also_at']) != 1 else ''})" if row["also_at"] else ""
        print(f"       {row['canonical_url']}{copies}" + (f"\n       matched: {terms}" if terms else ""), file=out)


def run_json(run) -> dict:
    return {
        "id": run.id, "spider": run.spider, "started_at": _iso(run.started_at), "finished_at": _iso(run.finished_at),
        "status": run.status, "sources": run.sources, "pages_fetched": run.pages_fetched,
        "articles_new": run.articles_new, "duplicates": run.duplicates, "not_relevant": run.not_relevant,
        "errors": run.errors, "error_counts": run.error_counts,
    }


def run_line(run: dict) -> str:
    counts = run["error_counts"]
    errors = ", ".join(f"{k} {v}" for k, v in counts.items() if not k.startswith("skipped_"))
    skipped = ", ".join(f"{k.removeprefix('skipped_')} {v}" for k, v in counts.items() if k.startswith("skipped_"))
    return (f"run #{run['id']} {run['status']}: {run['pages_fetched']} pages fetched, {run['articles_new']} new articles, "
            f"{run['duplicates']} duplicates, {run['not_relevant']} not relevant, {run['errors']} errors"
            + (f" ({errors})" if errors else "") + (f"; skipped: {skipped}" if skipped else ""))


# --- commands --------------------------------------------------------------------------

def cmd_crawl(args) -> int:
    from scrapy.crawler import CrawlerProcess

    from wicnews import db
    from wicnews.sources import adhoc_sources, load_sources

    settings = project_settings(args.db, args.set, WICNEWS_SOURCES=args.sources)
    adhoc = adhoc_sources(args.feed, args.sitemap, args.page)
    sources = adhoc or load_sources(settings.get("WICNEWS_SOURCES"))
    if not sources:
        raise ConfigError("no enabled sources to crawl")
    db.open_database(settings.get("WICNEWS_DATABASE_URL"), auto_upgrade=settings.getbool("WICNEWS_AUTO_UPGRADE")).dispose()

    process = CrawlerProcess(settings)
    crawler = process.create_crawler("monitor")
    process.crawl(crawler, sources=settings.get("WICNEWS_SOURCES") or None, feed=args.feed, sitemap=args.sitemap, page=args.page)
    process.start()
    stats = crawler.stats.get_stats()
    return report_crawl(stats)


def report_crawl(stats: dict) -> int:
    from wicnews.runlog import run_counts

    status = stats.get("wicnews/status") or "unknown"
    counts = run_counts(stats)
    print(run_line({"id": stats.get("wicnews/run_id", "?"), "status": status, **counts}))
    if status == "failed":
        print("wicnews: every source failed; see the log above", file=sys.stderr)
        return EXIT_FAILED
    if status == "unknown":
        print("wicnews: the crawl did not record its run; see the log above", file=sys.stderr)
        return EXIT_FAILED
    if status != "finished":
        print(f"wicnews: the crawl ended early: {status}", file=sys.stderr)
        return EXIT_FAILED
    return 0


def query_new(db_url: str | None, since: datetime | None, include_all: bool, limit: int | None) -> list[dict]:
    from sqlalchemy.orm import Session

    from wicnews import db

    engine = db.open_database(db_url, must_exist=True)
    try:
        with Session(engine) as session:
            articles = db.new_articles(session, since, include_all, limit)
            copies = db.other_urls(session, [a.id for a in articles])
            return [article_json(a, copies[a.id]) for a in articles]
    finally:
        engine.dispose()


def cmd_new(args) -> int:
    settings = project_settings(args.db)
    rows = query_new(settings.get("WICNEWS_DATABASE_URL"), parse_since(args.since), args.all, args.limit)
    if args.format == "json":
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        print_articles(rows)
    return 0


def cmd_runs(args) -> int:
    from sqlalchemy.orm import Session

    from wicnews import db

    engine = db.open_database(project_settings(args.db).get("WICNEWS_DATABASE_URL"), must_exist=True)
    with Session(engine) as session:
        runs = [run_json(r) for r in db.list_runs(session, args.limit)]
    engine.dispose()
    if args.format == "json":
        json.dump(runs, sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        for run in runs:
            print(f"{(run['started_at'] or '')[:19].replace('T', ' ')}  {run_line(run)}")
        if not runs:
            print("no runs")
    return 0


def _fetch(url: str) -> tuple[bytes, dict]:
    """One GET for ``wicnews extract URL`` (a debugging aid, not the crawler)."""
    import urllib.error
    import urllib.request

    from wicnews.urls import check_url

    check_url(url)
    settings = project_settings()
    request = urllib.request.Request(url, headers={"User-Agent": settings.get("USER_AGENT")})
    try:
        with urllib.request.urlopen(request, timeout=settings.getint("DOWNLOAD_TIMEOUT")) as response:
            body = response.read(settings.getint("DOWNLOAD_MAXSIZE") + 1)
            headers = {k.lower(): v for k, v in response.headers.items()}
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ConfigError(f"cannot fetch {url}: {getattr(exc, 'reason', exc)}") from None
    return body, headers


def cmd_extract(args) -> int:
    from wicnews.urls import choose_canonical
    from wicnews.pipelines.relevance import judge
    from wicnews.extract import extract_article

    target = args.target
    path = Path(target)
    if path.is_file():
        body = path.read_bytes()
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        headers, url = {}, args.url or path.resolve().as_uri()
    elif re.match(r"https?://", target):
        (body, headers), url = _fetch(target), args.url or target
    else:
        raise ConfigError(f"no such file, and not an http(s) URL: {target}")
    try:
        page = extract_article(body, url, headers)
    except PageError as exc:
        print(f"wicnews: {target}: {exc.kind}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    relevant, terms = judge(page.title, page.text)
    result = {
        "url": url, "canonical_url": choose_canonical(url, page.canonical_url), "title": page.title,
        "authors": page.authors, "published_at": _iso(page.published_at), "site_name": page.site_name,
        "language": page.language, "description": page.description, "image": page.image, "tags": page.tags,
        "encoding": page.encoding, "relevant": relevant, "matched_terms": terms, "text": page.text,
    }
    if args.format == "json":
        json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        for key, value in result.items():
            if key != "text":
                print(f"{key + ':':<15}{', '.join(value) if isinstance(value, list) else value}")
        print("\n" + page.text)
    return 0


def cmd_db(args) -> int:
    from alembic.util.exc import CommandError as AlembicCommandError
    from sqlalchemy.exc import SQLAlchemyError

    from wicnews import db

    settings = project_settings(args.db)
    engine = db.make_engine(settings.get("WICNEWS_DATABASE_URL"))
    try:
        if args.action == "upgrade":
            with db.schema_lock(engine):
                db.upgrade(engine)
        print(f"{db.safe_url(str(engine.url))}: schema {db.current_revision(engine)} (latest {db.head_revision()})")
    except (SQLAlchemyError, AlembicCommandError) as exc:  # driver and Alembic errors: one line
        raise DatabaseError(f"cannot {args.action} database {db.safe_url(str(engine.url))}: {db.reason(exc)}") from None
    finally:
        engine.dispose()
    return 0


def cmd_schedule(args) -> int:
    import functools
    import logging
    import signal

    from wicnews import scheduler as schedules

    items = schedules.load_schedules(args.file)
    if not items:
        raise ConfigError("no enabled schedules")
    extra = ["--db", args.db] if args.db else []
    if args.once:
        codes = [schedules.run_crawl(item, extra) for item in items]
        return 0 if all(code == 0 for code in codes) else EXIT_FAILED
    logging.basicConfig(level=logging.INFO, format="%(asctime)s [%(name)s] %(levelname)s: %(message)s")
    scheduler = schedules.build_scheduler(items, functools.partial(schedules.run_crawl, extra=extra))
    signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
    for item in items:
        print(f"schedule {item.name}: {item.cron or f'every {item.every_seconds} s'}", flush=True)
    scheduler.start()
    return 0


def cmd_demo(args) -> int:
    from wicnews.demo import run_demo

    return run_demo(args.db, keep=args.keep)


# --- parser ----------------------------------------------------------------------------

class _Parser(argparse.ArgumentParser):
    """Usage mistakes in one line (``wicnews new: ... (see wicnews new --help)``), exit 2."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value!r}")
    return int(value)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="wicnews", description="Monitor press coverage of the World Internet Conference.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    def db_option(p):
        p.add_argument("--db", metavar="URL", help="SQLAlchemy database URL (default: $WICNEWS_DATABASE_URL or the embedded SQLite file)")

    p = sub.add_parser("crawl", help="run one monitoring cycle over the configured (or given) sources")
    p.add_argument("--sources", metavar="FILE", help="sources file (TOML); default: the bundled one")
    p.add_argument("--feed", action="append", default=[], metavar="URL", help="crawl this RSS/Atom feed (repeatable)")
    p.add_argument("--sitemap", action="append", default=[], metavar="URL", help="crawl this (news) sitemap (repeatable)")
    p.add_argument("--page", action="append", default=[], metavar="URL", help="crawl this listing page (repeatable)")
    p.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE", help="override a Scrapy or WICNEWS_* setting")
    db_option(p)
    p.set_defaults(func=cmd_crawl)

    p = sub.add_parser("new", help="list new coverage: relevant articles first seen since WHEN")
    p.add_argument("--since", default="7d", metavar="WHEN", help="ISO 8601 date/time, or a span such as 24h or 7d (default 7d)")
    p.add_argument("--all", action="store_true", help="include articles judged not relevant")
    p.add_argument("--limit", type=_positive, metavar="N", help="at most N articles")
    p.add_argument("--format", choices=("table", "json"), default="table")
    db_option(p)
    p.set_defaults(func=cmd_new)

    p = sub.add_parser("runs", help="list crawl runs with their counts")
    p.add_argument("--limit", type=_positive, default=20, metavar="N")
    p.add_argument("--format", choices=("table", "json"), default="table")
    db_option(p)
    p.set_defaults(func=cmd_runs)

    p = sub.add_parser("extract", help="show what the pipeline extracts from one saved page or URL")
    p.add_argument("target", metavar="PATH_OR_URL")
    p.add_argument("--url", help="the page's URL, when extracting a saved file")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("demo", help="crawl a bundled sample news site on 127.0.0.1 and show the coverage found")
    p.add_argument("--keep", action="store_true", help="keep the temporary database and print its URL")
    db_option(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("schedule", help="run the crawl schedules (APScheduler; each crawl in its own process)")
    p.add_argument("--file", metavar="FILE", help="a schedule file or directory (default: the schedules package)")
    p.add_argument("--once", action="store_true", help="run every enabled schedule once, now, and exit")
    db_option(p)
    p.set_defaults(func=cmd_schedule)

    p = sub.add_parser("db", help="database schema: upgrade or show the current revision")
    p.add_argument("action", choices=("upgrade", "current"))
    db_option(p)
    p.set_defaults(func=cmd_db)
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
