"""Cost of the near-duplicate check per article with N stored articles (synthetic), on SQLite
and PostgreSQL, and memory; each figure printed beside its limit.

    python bench/neardup_bench.py [--sizes 10000,100000,1000000] [--pg postgresql://postgres@127.0.0.1:5432/postgres]

Three figures per article, apart:

- ``check``: the near-duplicate check itself (``find_near_duplicate``: one query for the
  candidates sharing most bands, joined to their texts, and the resemblance of the best few
  to the new text, whose fingerprint is computed only when a candidate turns up). Goal:
  <= 2 ms per article, <= 1.5x growth from the smallest to the largest size.
- ``store``: the whole ``store_article`` transaction (band locks, inserts of the article,
  its placement and bands, the check, commit replaced by a rollback): the per-article write
  overhead, reported beside the check, not part of its goal.
- ``bands``: the new text's MinHash bands (computed by the dedupe pipeline, before the store).

Each is given as wall-clock time and as this process's CPU time (the machine is shared: wall
time includes waiting for a core; PostgreSQL's own work is in the server, not in the CPU time).
Half the new texts are near-copies of stored articles (they must be found: the count is
printed), half are new. Stored articles: 150 real texts with their bands, then filler
articles (random 120-word texts with random band keys, as a random text's bands are); built
with multi-row inserts (PostgreSQL: ``COPY``) in a separate process and cached under /tmp
(SQLite ``/tmp/wicnews_bench_v2_<N>.db``; PostgreSQL databases ``wicnews_bench_v2_<N>``).
Memory: peak RSS of the measuring process (the build runs in another one).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import multiprocessing
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

from wicnews.db.articles import StorePolicy, find_near_duplicate, store_article
from wicnews.db.engine import open_database
from wicnews.models import Article
from wicnews.pipelines.dedupe import bands, fingerprint, resemblance, text_key
from wicnews.urls import url_key

WORDS = [f"w{i}" for i in range(20000)]
LIMIT_MS, LIMIT_GROWTH = 2.0, 1.5
T = datetime(2024, 1, 1, tzinfo=timezone.utc)
TARGETS = 150     # stored articles with real texts and bands, of which the checks' copies are made
CHECKS = 300


def text(rng: random.Random, words: int = 120) -> str:
    return " ".join(rng.choices(WORDS, k=words))


def row(i: int, body: str) -> dict:
    url = f"http://bench/{i}"
    return {"url": url, "canonical_url": url, "url_key": url_key(url), "text_key": text_key(body), "title": f"t{i}",
            "authors": [], "published_at": None, "site_name": "bench", "language": "en", "description": None,
            "image": None, "tags": [], "text": body, "relevant": True, "matched_terms": [], "source": "bench",
            "first_seen_at": T, "run_id": None}


def stored(i: int, rng: random.Random) -> tuple[dict, list[str]]:
    """Stored article ``i`` (ids from 1) and its band keys. The filler's keys are plain hashes
    of its URL and text (unique, which is all they need to be: nothing looks them up)."""
    body = text(rng)
    if i < TARGETS:
        return {**row(i, body), "id": i + 1}, bands(body)
    url = f"http://bench/{i}"
    return ({**row(i, body), "id": i + 1, "url_key": hashlib.sha256(url.encode()).hexdigest(),
             "text_key": hashlib.sha256(body.encode()).hexdigest()},
            [f"{b:02d}:{rng.getrandbits(64):016x}" for b in range(32)])


def targets() -> list[str]:
    rng = random.Random(0)  # the generator of the first batch
    return [stored(i, rng)[0]["text"] for i in range(TARGETS)]


def build(url: str, n: int) -> None:
    engine = open_database(url)
    with Session(engine) as s:
        have = s.scalar(select(func.count()).select_from(Article)) or 0
    if have >= n:
        return
    pg = engine.dialect.name == "postgresql"
    batch = 20000
    for start in range(have - have % batch, n, batch):
        rng = random.Random(start)  # one generator per batch: an interrupted build resumes
        rows, band_rows = [], []
        for i in range(start, min(n, start + batch)):
            article, keys = stored(i, rng)
            rows.append(article)
            band_rows += [(key, i + 1) for key in keys]
        with engine.begin() as conn:
            if not pg:
                conn.exec_driver_sql("PRAGMA cache_size = -500000")  # 500 MB while building
            conn.execute(insert(Article), rows)
            if pg:
                with conn.connection.driver_connection.cursor().copy(  # type: ignore[union-attr]
                        "COPY article_bands (band, article_id) FROM STDIN") as copy:
                    for band_row in band_rows:
                        copy.write_row(band_row)
            else:
                conn.exec_driver_sql("INSERT INTO article_bands (band, article_id) VALUES (?, ?)", band_rows)
    with engine.begin() as conn:
        if pg:  # explicit ids: move the sequence past them
            conn.execute(text_sql("SELECT setval('articles_id_seq', (SELECT max(id) FROM articles))"))
        conn.execute(text_sql("ANALYZE"))
    engine.dispose()


def measure(engine) -> dict[str, float]:
    rng = random.Random(7)
    policy = StorePolicy(near_dup_threshold=0.75)
    copies = [t + " This story first appeared in the Morning Post." for t in targets()]
    texts = copies[: CHECKS // 2] + [text(rng) for _ in range(CHECKS - CHECKS // 2)]
    t0, c0 = time.perf_counter(), time.process_time()
    prepared = [(body, bands(body)) for body in texts]
    figures = {"bands": (time.perf_counter() - t0) / CHECKS * 1000, "bands_cpu": (time.process_time() - c0) / CHECKS * 1000}
    found = wrong = 0
    wall = cpu = 0.0
    for i, (body, text_bands) in enumerate(prepared):
        with Session(engine) as s, s.begin():
            mine = functools.cache(lambda body=body: fingerprint(body))
            s.connection()  # the store's transaction is open when it checks: its cost is in ``store``
            t0, c0 = time.perf_counter(), time.process_time()
            near = find_near_duplicate(s, -1, text_bands, lambda other, mine=mine: resemblance(mine(), fingerprint(other)),
                                       policy)
            wall, cpu = wall + time.perf_counter() - t0, cpu + time.process_time() - c0
            s.rollback()
        found += near == i + 1
        wrong += near is not None and near != i + 1
    figures.update(check=wall / CHECKS * 1000, check_cpu=cpu / CHECKS * 1000, found=found, wrong=wrong)
    t0, c0 = time.perf_counter(), time.process_time()
    for i, (body, text_bands) in enumerate(prepared):
        mine = functools.cache(lambda body=body: fingerprint(body))
        with Session(engine) as s:
            s.begin()
            store_article(s, row(10**9 + i, body), {}, bands=text_bands,
                          score=lambda other, mine=mine: resemblance(mine(), fingerprint(other)), policy=policy)
            s.rollback()
    figures.update(store=(time.perf_counter() - t0) / CHECKS * 1000, store_cpu=(time.process_time() - c0) / CHECKS * 1000)
    return figures


def database(backend: str, n: int, pg: str) -> str:
    if backend == "sqlite":
        return f"sqlite:////tmp/wicnews_bench_v2_{n}.db"
    import psycopg

    name = f"wicnews_bench_v2_{n}"
    with psycopg.connect(pg.replace("+psycopg", ""), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return pg.rsplit("/", 1)[0] + "/" + name


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in __import__('os').getloadavg())}")
    ok = True
    for backend in args.backends.split(","):
        checks = []
        for n in sizes:
            url = database(backend, n, args.pg)
            t0 = time.perf_counter()
            builder = multiprocessing.get_context("spawn").Process(target=build, args=(url, n))
            builder.start()
            builder.join()
            if builder.exitcode:
                print(f"{backend}: building {n:,} failed")
                return 1
            built = time.perf_counter() - t0
            engine = open_database(url)
            f = measure(engine)
            engine.dispose()
            checks.append(f["check"])
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"{backend:<10} {n:>9,} stored (ready in {built:6.1f}s): check {f['check']:6.3f} ms per article "
                  f"(limit {LIMIT_MS} ms) {'ok' if f['check'] <= LIMIT_MS else 'OVER'} [cpu {f['check_cpu']:.3f}]; "
                  f"copies found {f['found']}/{CHECKS // 2}, wrong {f['wrong']}; "
                  f"whole store transaction {f['store']:6.3f} ms [cpu {f['store_cpu']:.3f}]; "
                  f"bands {f['bands']:.3f} ms [cpu {f['bands_cpu']:.3f}]; peak RSS {rss:.0f} MB", flush=True)
            ok &= f["check"] <= LIMIT_MS and f["found"] == CHECKS // 2 and f["wrong"] == 0
        growth = checks[-1] / checks[0]
        print(f"{backend:<10} check growth {sizes[0]:,} -> {sizes[-1]:,}: {growth:.2f}x (limit {LIMIT_GROWTH}x) "
              f"{'ok' if growth <= LIMIT_GROWTH else 'OVER'}", flush=True)
        ok &= growth <= LIMIT_GROWTH
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
