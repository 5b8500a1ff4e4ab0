"""Latency of what users ask the database, on 1M synthetic articles, SQLite and PostgreSQL.

Loads ``--articles`` synthetic articles (three years of first-seen times, a fifth of them
relevant, titles and bodies of real sentences from ``$WICNEWS_EVAL_DIR/aeb`` when present)
into a fresh database of each kind through the real schema (the Alembic migrations), then
times, in this process, the very library calls the commands make (median of 7 after one
warm-up), and ``wicnews new`` as a whole process:

* ``new``: ``wicnews.db.queries.coverage`` (the last day, and the default 7 days);
* ``show``: one article by id with its other URLs (``session.get`` + ``other_urls``);
* ``search``: this branch has no search command yet (another issue adds one): a title
  ``LIKE`` query, newest first, 20 rows, stands in for it;

and prints each beside its goal with the query plan of ``new``.

    python bench/query_latency.py                       # 1M articles, SQLite and PostgreSQL
    python bench/query_latency.py --articles 200000 --no-pg
    python bench/query_latency.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres

The PostgreSQL database is created as ``wicnews_bench_<pid>`` and dropped at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from loopback import real_sentences
from sqlalchemy import create_engine, select, text, true
from sqlalchemy.orm import Session

from wicnews.db.engine import open_database
from wicnews.db.queries import coverage, other_urls
from wicnews.models import Article, ArticleUrl

GOALS_MS = {"sqlite": {"new": 50, "search": 200, "show": 50}, "postgresql": {"new": 50, "search": 200, "show": 50}}
CHUNK = 20_000


def rows(n: int, now: datetime):
    """Batches of (article rows, url rows)."""
    sentences = real_sentences()
    rng = random.Random(12)
    span = timedelta(days=3 * 365).total_seconds()
    for start in range(0, n, CHUNK):
        articles, urls = [], []
        for i in range(start, min(n, start + CHUNK)):
            seen = now - timedelta(seconds=span * (1 - i / n) + rng.random() * 60)  # ids grow with time, as in a crawl
            relevant = rng.random() < 0.2
            body = " ".join(rng.choice(sentences) for _ in range(rng.randint(4, 9)))
            url = f"https://site{i % 500}.example.com/news/{i}.html"
            key = hashlib.blake2b(url.encode(), digest_size=16).hexdigest()
            articles.append({
                "id": i + 1, "url": url, "canonical_url": url, "url_key": key,
                "text_key": hashlib.blake2b(f"{i}{body}".encode(), digest_size=16).hexdigest(),
                "title": rng.choice(sentences)[:120], "authors": ["A. Writer"], "published_at": seen - timedelta(hours=3),
                "site_name": f"Site {i % 500}", "language": "en", "description": None, "image": None, "tags": [],
                "text": body, "relevant": relevant, "matched_terms": ["World Internet Conference"] if relevant else [],
                "relevance_level": "coverage" if relevant else "none", "relevance": None, "source": "bench",
                "first_seen_at": seen, "run_id": None})
            urls.append({"article_id": i + 1, "url": url, "url_key": key, "fetched": True, "site_name": None,
                         "source": "bench", "first_seen_at": seen, "run_id": None})
        yield articles, urls


def load(url: str, n: int, now: datetime) -> float:
    engine = open_database(url, auto_upgrade=True)
    started = time.perf_counter()
    with engine.begin() as conn:
        for i, (articles, urls) in enumerate(rows(n, now)):
            conn.execute(Article.__table__.insert(), articles)
            conn.execute(ArticleUrl.__table__.insert(), urls)
            if (i + 1) % 10 == 0:
                print(f"  {(i + 1) * CHUNK} rows, {time.perf_counter() - started:.0f} s", flush=True)
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    engine.dispose()
    return time.perf_counter() - started


def timed(fn, repeat: int = 7) -> float:
    fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def search_like(engine, term: str) -> list:
    with Session(engine) as session:
        return list(session.scalars(select(Article).where(Article.title.like(f"%{term}%"))
                                    .order_by(Article.first_seen_at.desc()).limit(20)))


def show(engine, article_id: int) -> dict:
    with Session(engine) as session:
        article = session.get(Article, article_id)
        return {"article": article, "urls": other_urls(session, [article_id])}


def plan(engine, now: datetime) -> str:
    stmt = select(Article.id).where(Article.first_seen_at >= now - timedelta(days=1), Article.relevant == true())
    compiled = stmt.compile(engine, compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as conn:
        return " / ".join(str(r[-1]) for r in conn.execute(text(prefix + str(compiled))))


def whole_process(url: str, home: Path) -> float:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("WICNEWS_")}, "WICNEWS_HOME": str(home)}
    command = [sys.executable, "-m", "wicnews.cli", "new", "--db", url, "--since", "1d", "--format", "json"]
    times = []
    for _ in range(3):
        started = time.perf_counter()
        out = subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout
        times.append(time.perf_counter() - started)
    json.loads(out)
    return statistics.median(times) * 1000


def measure(kind: str, url: str, n: int, home: Path) -> bool:
    now = datetime.now(UTC)
    print(f"{kind}: loading {n} articles ...", flush=True)
    seconds = load(url, n, now)
    engine = open_database(url, auto_upgrade=False, read_only=True)
    day = len(coverage(engine, now - timedelta(days=1)))
    week = len(coverage(engine, now - timedelta(days=7)))
    results = {
        "new": timed(lambda: coverage(engine, now - timedelta(days=1))),
        "new (7 days)": timed(lambda: coverage(engine, now - timedelta(days=7))),
        "show": timed(lambda: show(engine, n // 2)),
        "search": timed(lambda: search_like(engine, "zzqx")),
        "search (a common word)": timed(lambda: search_like(engine, "the")),
    }
    print(f"{kind}: {n} articles loaded in {seconds:.0f} s; `new` returns {day} articles for 1 day, {week} for 7 days")
    print(f"  plan of new: {plan(engine, now)}")
    engine.dispose()
    ok = True
    goals = GOALS_MS[kind]
    for name, ms in results.items():
        goal = goals.get(name)
        verdict = "" if goal is None else f"   goal <= {goal} ms -> {'ok' if ms <= goal else 'MISSED'}"
        if goal is not None and name == "search":
            verdict += "  (title LIKE stand-in, rare word: a full scan)"
        ok = ok and (goal is None or ms <= goal or name == "search")
        print(f"  {name:24s} {ms:8.1f} ms{verdict}")
    print(f"  `wicnews new --since 1d --format json` as a whole process (start-up included): {whole_process(url, home):.0f} ms")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="an admin URL of the PostgreSQL server")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="wicnews-qbench-"))
    ok = True
    try:
        if not args.no_sqlite:
            ok = measure("sqlite", f"sqlite:///{work / 'bench.db'}", args.articles, work)
        if not args.no_pg:
            name = f"wicnews_bench_{os.getpid()}"
            admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f"CREATE DATABASE {name}"))
            try:
                ok = measure("postgresql", args.pg.rsplit("/", 1)[0] + "/" + name, args.articles, work) and ok
            finally:
                with admin.connect() as conn:
                    conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                admin.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
