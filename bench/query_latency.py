"""Latency of ``wicnews new``, ``search`` and ``show`` on 1M synthetic articles, SQLite and PostgreSQL.

Builds a database of ``--articles`` synthetic articles of each kind through the real schema
(see ``querydata.py``: real English and Chinese sentences, a year of dates, the full-text
indexes filled as the store fills them), then times each command two ways, each figure beside
its goal in the same run:

* the library calls the command makes (``wicnews.db.queries``: ``coverage``, ``search``,
  ``article_detail``, then the default table output into memory), in this process, median
  and p95 of ``--repeat`` runs after a warm-up;
* the whole ``wicnews ...`` process (start-up, query, output), median and p95 of
  ``--process-repeat`` runs, beside the start-up alone (``wicnews --help``) measured in the
  same run; its goal is that start-up plus the command's goal. One run with ``-X importtime``
  checks that no read command imports Scrapy, Twisted, lxml or trafilatura.

Goals (issue 12): ``new`` <= 50 ms, ``search`` <= 200 ms on SQLite at 1M articles, the same on
PostgreSQL; ``show`` <= 50 ms. ``search`` is timed as a user types it: a rare name (all its
matches), then a results page (``--limit 20``) for a common English word, Chinese terms of
two and three characters, and two words; ``new`` also as a consumer's first read.

    python bench/query_latency.py                        # 1M articles, SQLite and PostgreSQL
    python bench/query_latency.py --articles 200000 --no-pg
    python bench/query_latency.py --keep /tmp/qbench      # keep (and reuse) the databases
    python bench/query_latency.py --explain               # each SQL statement's time and plan

The SQLite file lives in a temporary directory (``--keep DIR``: ``DIR/bench_<N>.db``, reused
when it is there). The PostgreSQL database is ``--pg-name`` (default ``wicnews_bench_<pid>``),
dropped at the end unless ``--keep`` is given, reused when it holds N articles.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from querydata import RARE_WORD, load_postgresql, load_sqlite
from sqlalchemy import create_engine, event, func, select, text

from wicnews.db import consumers
from wicnews.db.engine import open_database
from wicnews.db.queries import Filters, Shown, article_detail, coverage, search
from wicnews.models import Article
from wicnews.output import ARTICLE_FIELDS, ARTICLE_FORMATS
from wicnews.output.table import article_detail as write_detail

GOAL_MS = {"new": 50, "search": 200, "show": 50}
HEAVY = re.compile(r"\b(scrapy|twisted|lxml|trafilatura)\b")


@dataclass
class Case:
    name: str
    goal: int
    call: Callable[[], object]
    argv: list[str]


def cases(engine, now: datetime, sample_url: str, sample_id: int) -> list[Case]:
    day, week = now - timedelta(days=1), now - timedelta(days=7)
    render = ARTICLE_FORMATS["table"]

    def rendered(rows: list[dict]) -> list[dict]:
        render(rows, io.StringIO())
        return rows

    def new(since: datetime) -> Callable[[], object]:
        shown = Shown(*ARTICLE_FIELDS["table"])  # as `wicnews new` reads for its table
        return lambda: rendered(coverage(engine, None, filters=Filters(since=since), shown=shown))

    def find(query: str, limit: int | None) -> Callable[[], object]:
        return lambda: rendered(search(engine, query, Filters(limit=limit)))

    def show(ident: str) -> Callable[[], object]:
        def detail() -> dict | None:
            found = article_detail(engine, ident)
            write_detail(found, io.StringIO())
            return found
        return detail

    def first_read() -> list[dict]:  # a consumer never seen: its first page, oldest first
        return rendered(consumers.pending(engine, "bench", Filters(limit=100)).rows)

    page = ["--limit", "20"]
    return [
        Case("new --since 1d", GOAL_MS["new"], new(day), ["new", "--since", day.isoformat()]),
        Case("new (7 days, the default)", GOAL_MS["new"], new(week), ["new", "--since", week.isoformat()]),
        Case(f"search {RARE_WORD} (rare)", GOAL_MS["search"], find(RARE_WORD, None), ["search", RARE_WORD]),
        Case("search people --limit 20", GOAL_MS["search"], find("people", 20), ["search", "people", *page]),
        Case("search 乌镇 --limit 20", GOAL_MS["search"], find("乌镇", 20), ["search", "乌镇", *page]),
        Case("search 互联网 --limit 20", GOAL_MS["search"], find("互联网", 20), ["search", "互联网", *page]),
        Case("search 'digital economy' --limit 20", GOAL_MS["search"], find("digital economy", 20),
             ["search", "digital economy", *page]),
        Case("new --consumer NAME --peek --limit 100", GOAL_MS["new"], first_read,
             ["new", "--consumer", "bench", "--peek", "--limit", "100"]),
        Case("show ID", GOAL_MS["show"], show(str(sample_id)), ["show", str(sample_id)]),
        Case("show URL", GOAL_MS["show"], show(sample_url), ["show", sample_url]),
    ]


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return percentiles(samples)


def run_process(argv: list[str], url: str, env: dict, repeat: int) -> tuple[float, float]:
    command = [sys.executable, "-m", "wicnews.cli", *argv, *(["--db", url] if url else [])]
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=True)
        samples.append(time.perf_counter() - started)
    return percentiles(samples)


def heavy_imports(argv: list[str], url: str, env: dict) -> set[str]:
    command = [sys.executable, "-X", "importtime", "-m", "wicnews.cli", *argv, "--db", url]
    err = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, check=True).stderr
    return {m.group(1) for line in err.splitlines() if (m := HEAVY.search(line.rsplit("|", 1)[-1]))}


def explain(engine, fn: Callable[[], object]) -> None:
    """Run ``fn`` once, printing each statement's time and plan."""
    statements: list[tuple[str, object, float]] = []
    started: dict[int, float] = {}

    def before(conn, cursor, statement, parameters, context, executemany):
        started[id(cursor)] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters, time.perf_counter() - started.pop(id(cursor), time.perf_counter())))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    for statement, parameters, seconds in statements:
        print(f"    {seconds * 1000:7.1f} ms  {' '.join(statement.split())[:300]}")
        if statement.lstrip().upper().startswith("SELECT"):
            with engine.connect() as conn:
                plan = conn.exec_driver_sql(prefix + statement, parameters).all()
            for row in plan:
                print(f"               | {row[-1]}")


def measure(kind: str, url: str, n: int, args, env: dict) -> bool:
    engine = open_database(url, auto_upgrade=False, read_only=True, must_exist=True)
    with engine.connect() as conn:
        now = conn.scalar(select(func.max(Article.first_seen_at)))
        sample_id = n // 2 + 3 - (n // 2) % 20  # one with a copy (ids = 3 mod 20)
        sample_url = conn.scalar(select(Article.canonical_url).where(Article.id == sample_id))
    all_cases = [c for c in cases(engine, now, sample_url, sample_id) if not args.only or args.only in c.name]
    startup = run_process(["--help"], "", env, args.process_repeat)
    heavy = heavy_imports(["search", RARE_WORD], url, env) | heavy_imports(["new"], url, env)
    print(f"\n{kind}, {n} articles; whole-process start-up (`wicnews --help`): median {startup[0]:.0f} ms; "
          f"heavy imports of read commands: {', '.join(sorted(heavy)) or 'none'}")
    print(f"  {'command':38} {'rows':>6} {'library ms':>17} {'process ms':>17}  goal ms (process: start-up +)")
    ok = not heavy
    for case in all_cases:
        result = case.call()
        rows = len(result) if isinstance(result, list) else int(result is not None)
        lib = timed(case.call, args.repeat)
        proc = run_process(case.argv, url, env, args.process_repeat)
        lib_ok, proc_ok = lib[0] <= case.goal, proc[0] <= startup[0] + case.goal
        ok = ok and lib_ok and proc_ok
        print(f"  {case.name:38} {rows:>6} {lib[0]:8.1f} /{lib[1]:7.1f} {proc[0]:8.0f} /{proc[1]:7.0f}  "
              f"<= {case.goal:<4} {'ok' if lib_ok else 'MISSED'} / {'ok' if proc_ok else 'MISSED'}")
        if args.explain:
            explain(engine, case.call)
    engine.dispose()
    return ok


def sqlite_database(args, work: Path) -> str:
    path = (Path(args.keep) if args.keep else work) / f"bench_{args.articles}.db"
    url = f"sqlite:///{path}"
    if not path.exists():
        print(f"sqlite: loading {args.articles} articles into {path} ...", flush=True)
        started = time.perf_counter()
        engine = open_database(url, auto_upgrade=True)
        load_sqlite(engine, args.articles, datetime.now().astimezone())
        engine.dispose()
        print(f"sqlite: loaded in {time.perf_counter() - started:.0f} s", flush=True)
    else:
        open_database(url).dispose()  # migrations newer than the file's schema
    return url


def postgresql_database(args) -> str:
    admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
    url = args.pg.rsplit("/", 1)[0] + "/" + args.pg_name
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": args.pg_name})
    if exists:
        engine = create_engine(url)
        with engine.connect() as conn:
            count = conn.scalar(text("SELECT count(*) FROM articles"))
        engine.dispose()
        if count == args.articles:
            from wicnews.db.engine import make_engine, upgrade
            engine = make_engine(url)
            upgrade(engine)  # migrations newer than the database's schema
            engine.dispose()
            admin.dispose()
            return url
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{args.pg_name}" WITH (FORCE)'))
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{args.pg_name}"'))
    admin.dispose()
    print(f"postgresql: loading {args.articles} articles into {args.pg_name} ...", flush=True)
    started = time.perf_counter()
    engine = open_database(url, auto_upgrade=True)
    load_postgresql(engine, args.articles, datetime.now().astimezone())
    engine.dispose()
    print(f"postgresql: loaded in {time.perf_counter() - started:.0f} s", flush=True)
    return url


def drop_postgresql(args) -> None:
    admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{args.pg_name}" WITH (FORCE)'))
    admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="an admin URL of the PostgreSQL server")
    parser.add_argument("--pg-name", default=f"wicnews_bench_{os.getpid()}", help="the benchmark's PostgreSQL database")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--keep", metavar="DIR", help="keep the databases (SQLite under DIR) and reuse them")
    parser.add_argument("--repeat", type=int, default=15, help="library calls timed per command")
    parser.add_argument("--process-repeat", type=int, default=5, help="whole processes timed per command")
    parser.add_argument("--explain", action="store_true", help="print each statement's time and plan")
    parser.add_argument("--only", metavar="TEXT", help="only the commands whose name contains TEXT")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="wicnews-qbench-"))
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("WICNEWS_")}, "WICNEWS_HOME": str(work)}
    ok = True
    try:
        if not args.no_sqlite:
            ok = measure("sqlite", sqlite_database(args, work), args.articles, args, env)
        if not args.no_pg:
            try:
                ok = measure("postgresql", postgresql_database(args), args.articles, args, env) and ok
            finally:
                if not args.keep:
                    drop_postgresql(args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\nall goals met" if ok else "\nsome goals MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
