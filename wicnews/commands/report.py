"""``wicnews report --out FILE.html``: a self-contained HTML report of the coverage, read-only."""

from __future__ import annotations

from wicnews.commands import add_db_option, open_for_reading


def register(sub) -> None:
    p = sub.add_parser("report", help="write a self-contained HTML report: coverage per day, outlets, languages")
    p.add_argument("--out", required=True, metavar="FILE.html", help="where to write the page (replaced atomically)")
    p.add_argument("--since", metavar="WHEN", help="only articles first seen since WHEN (ISO 8601, or a span: 30d)")
    add_db_option(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from wicnews.commands import emit
    from wicnews.config import parse_since
    from wicnews.db.queries import coverage
    from wicnews.report import Report, render

    since = parse_since(args.since)  # None without --since; an empty one is a mistake
    engine = open_for_reading(args.db)
    try:
        rows = coverage(engine, since)
    finally:
        engine.dispose()
    emit(rows, lambda rows, out: out.write(render(Report(rows, since))), args.out)
    print(f"report: {len(rows)} articles -> {args.out}")
    return 0
