"""Cost of the near-duplicate check per article with N stored articles (synthetic), on SQLite
and PostgreSQL, and memory; each figure printed beside its limit.

    python bench/neardup_bench.py [--sizes 10000,100000,1000000] [--pg postgresql://postgres@127.0.0.1:5432/postgres]

Stored articles are built with bulk inserts (articles + their 16 bands) and cached under
/tmp (SQLite files; PostgreSQL databases named ``wicnews_bench_<N>``). The check timed is
``store_article`` for a new text in a transaction rolled back afterwards: band locks,
candidate lookup by band, similarity of the candidates, inserts. Goal: <= 2 ms per article,
<= 1.5x growth from the smallest to the largest size.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select
from sqlalchemy import text as text_sql
from sqlalchemy.orm import Session

from wicnews.db.articles import StorePolicy, store_article
from wicnews.db.engine import open_database
from wicnews.models import Article, ArticleBand
from wicnews.pipelines.dedupe import bands, shingles, similarity, text_key
from wicnews.urls import url_key

WORDS = [f"w{i}" for i in range(20000)]
LIMIT_MS, LIMIT_GROWTH = 2.0, 1.5
T = datetime(2024, 1, 1, tzinfo=timezone.utc)


def text(rng: random.Random, words: int = 120) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def row(i: int, body: str) -> dict:
    url = f"http://bench/{i}"
    return {"url": url, "canonical_url": url, "url_key": url_key(url), "text_key": text_key(body), "title": f"t{i}",
            "authors": [], "published_at": None, "site_name": "bench", "language": "en", "description": None,
            "image": None, "tags": [], "text": body, "relevant": True, "matched_terms": [], "source": "bench",
            "first_seen_at": T, "run_id": None}


def build(engine, n: int) -> None:
    with Session(engine) as s:
        have = s.scalar(select(func.count()).select_from(Article))
    rng = random.Random(n)
    batch = 2000
    for start in range(have, n, batch):
        rows, band_rows = [], []
        for i in range(start, min(n, start + batch)):
            body = text(rng)
            rows.append({**row(i, body), "id": i + 1})
            band_rows += [{"band": b, "article_id": i + 1} for b in bands(body)]
        with engine.begin() as conn:
            conn.execute(insert(Article), rows)
            conn.execute(insert(ArticleBand), band_rows)
    if engine.dialect.name == "postgresql":  # explicit ids: move the sequence past them
        with engine.begin() as conn:
            conn.execute(text_sql("SELECT setval('articles_id_seq', (SELECT max(id) FROM articles))"))


def measure(engine, n: int, checks: int = 300) -> float:
    rng = random.Random(7)
    policy = StorePolicy(near_dup_threshold=0.75)
    texts = [text(rng) for _ in range(checks)]
    # half are near-copies of stored articles (their candidates must be found and scored)
    again = random.Random(n)  # the generator build() used: the first stored texts again
    stored_texts = [text(again) for _ in range(min(n, checks // 2))]
    texts[: len(stored_texts)] = [t + " extra words at the end" for t in stored_texts]
    prepared = [(t, bands(t), shingles(t)) for t in texts]
    start = time.perf_counter()
    for i, (body, text_bands, mine) in enumerate(prepared):
        with Session(engine) as s:
            s.begin()
            store_article(s, row(10**9 + i, body), {}, bands=text_bands,
                          score=lambda other, mine=mine: similarity(mine, shingles(other)), policy=policy)
            s.rollback()
    return (time.perf_counter() - start) / checks * 1000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    ok = True
    for backend in args.backends.split(","):
        figures = []
        for n in sizes:
            if backend == "sqlite":
                url = f"sqlite:////tmp/wicnews_bench_{n}.db"
            else:
                import psycopg

                name = f"wicnews_bench_{n}"
                with psycopg.connect(args.pg.replace("+psycopg", ""), autocommit=True) as conn:
                    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                        conn.execute(f'CREATE DATABASE "{name}"')
                url = args.pg.rsplit("/", 1)[0] + "/" + name
            engine = open_database(url)
            t0 = time.perf_counter()
            build(engine, n)
            built = time.perf_counter() - t0
            ms = measure(engine, n)
            engine.dispose()
            figures.append(ms)
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"{backend:<10} {n:>9,} stored (built in {built:6.1f}s): {ms:6.3f} ms per article "
                  f"(limit {LIMIT_MS} ms) {'ok' if ms <= LIMIT_MS else 'OVER'}; peak RSS {rss:.0f} MB")
            ok &= ms <= LIMIT_MS
        growth = figures[-1] / figures[0]
        print(f"{backend:<10} growth {sizes[0]:,} -> {sizes[-1]:,}: {growth:.2f}x (limit {LIMIT_GROWTH}x) "
              f"{'ok' if growth <= LIMIT_GROWTH else 'OVER'}")
        ok &= growth <= LIMIT_GROWTH
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
