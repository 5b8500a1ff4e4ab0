"""Distributed crawl: three ``wicnews crawl --redis`` processes against one, over 181 real pages.

Serves the pages of the article-extraction benchmark (``$WICNEWS_EVAL_DIR/aeb/html`` or ``../shared/eval``, read
from there, served from a temporary directory on loopback, never copied into the repository)
with an RSS feed linking them, then, ``--repeat`` times (the order alternating, so that a
change in the machine's load falls on both sides):

1. one process crawls the feed into a fresh PostgreSQL database;
2. three processes started together (``--redis``, one shared queue) crawl it into another.

Both sides are timed the same way, from the start of the processes to the exit of the last
one (start-up, the crawl, the idle exit), with the same politeness-off settings; the one
process extracts in its default pool (one worker process per core), each of the three in
``--extract-workers`` processes (default: cores // 3, 0 = in the worker's own process), as the
README advises for several workers on one machine. CPU seconds (every process of each side,
extraction pools included, sampled from /proc) are printed beside the wall times: on a shared
machine they are the steadier figure.

Prints, each beside its limit: pages downloaded more than once (0), articles stored by the
three against the one (equal), each worker's share (> 0), exit codes (all 0), and the speed
of the three relative to the one (median of the repetitions >= 0.8, with the spread).

    python bench/distributed.py [--repeat 3] [--extract-workers N] [--redis redis://127.0.0.1:6379/15]
                                [--pg-admin postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
from extract_eval import aeb_dir, missing_message  # noqa: E402  (where the evaluation data is looked for)

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16",
        "-s", "LOG_LEVEL=WARNING"]
MIN_SPEED = 0.8


def build_site(root: Path) -> list[str]:
    """The benchmark's pages under /aeb/, a feed of them, an open robots.txt; their paths."""
    paths = []
    items = []
    aeb = aeb_dir()
    if aeb is None:
        raise SystemExit(missing_message())
    for page in sorted((aeb / "html").glob("*.html.gz")):
        path = f"/aeb/{page.name.removesuffix('.gz')}"
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(gzip.decompress(page.read_bytes()))
        paths.append(path)
        items.append(f"<item><title>{page.name}</title><link>{{{{BASE}}}}{path}</link></item>")
    (root / "feed.rss").write_text('<?xml version="1.0"?><rss version="2.0"><channel><title>aeb</title>'
                                   f'{"".join(items)}</channel></rss>', encoding="utf-8")
    (root / "robots.txt").write_text("User-agent: *\nDisallow:\n")
    return paths


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=60) as resp:
        return json.load(resp)


def wicnews(*args: str, env: dict, session: bool = False) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "wicnews.cli", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=session)


def runs(db: str) -> list[dict]:
    out = subprocess.run([sys.executable, "-m", "wicnews.cli", "runs", "--db", db, "--format", "json"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def stored(db: str) -> list[str]:
    out = subprocess.run([sys.executable, "-m", "wicnews.cli", "new", "--db", db, "--format", "json", "--since", "1d",
                          "--all"], capture_output=True, text=True, check=True).stdout
    return sorted(a["url"] for a in json.loads(out))


class CpuMeter:
    """CPU seconds of process groups (each crawl is started in a session of its own, so its
    extraction pool, forkserver included, is in its group), sampled from /proc every 0.2 s
    until ``stop()``: a process's last 0.2 s at most are missed."""

    def __init__(self) -> None:
        self.groups: set[int] = set()
        self.ticks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) in self.groups:  # pgrp; utime and stime follow at 11 and 12
                pid = int(stat.parent.name)
                self.ticks[pid] = max(self.ticks.get(pid, 0), int(fields[11]) + int(fields[12]))

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self._sample()

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return sum(self.ticks.values()) / os.sysconf("SC_CLK_TCK")


@dataclass
class Side:
    seconds: float  # from the start of the processes to the exit of the last one
    cpu: float  # CPU seconds of every process (extraction pools included)
    exits: list[float]  # each process's exit time, from the start
    codes: list[int]
    errors: list[str]


def crawl(processes: int, feed: str, db: str, redis_url: str | None, extract: list[str], env: dict) -> Side:
    """``processes`` crawls started together."""
    extra = ["--redis", redis_url] if redis_url else []
    meter = CpuMeter()
    started = time.perf_counter()
    procs = [wicnews("crawl", "--feed", feed, "--db", db, *extra, *FAST, *extract,
                     env={**env, "WICNEWS_HOME": f"{env['WORK']}/h{i}"}, session=True) for i in range(processes)]
    meter.groups.update(p.pid for p in procs)
    exits: dict[int, float] = {}
    outputs: dict[int, str] = {}
    with ThreadPoolExecutor(processes) as waiters:  # each exit timed as it happens
        def wait(i: int) -> None:
            outputs[i] = procs[i].communicate()[1]
            exits[i] = time.perf_counter() - started
        list(waiters.map(wait, range(processes)))
    return Side(max(exits.values()), meter.stop(), [exits[i] for i in range(processes)], [p.returncode for p in procs],
                [outputs[i] for i in range(processes)])


def fresh_databases(admin: str, count: int) -> list[str]:
    import psycopg

    names = [f"wicnews_bench_{uuid.uuid4().hex[:10]}" for _ in range(count)]
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')
    return names


def drop_databases(admin: str, names: list[str]) -> None:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def one_round(base: str, paths: list[str], admin: str, redis_url: str, extract: list[str], three_first: bool,
              env: dict, names: list[str]) -> dict:
    """One process, then three (or the other way round); each side's figures and checks."""
    import redis

    one_db, three_db = (f"{admin.rsplit('/', 1)[0]}/{name}" for name in fresh_databases(admin, 2))
    names.extend(db.rsplit("/", 1)[1] for db in (one_db, three_db))
    queue = redis.Redis.from_url(redis_url)
    queue.flushdb()
    sides: dict[str, Side] = {}
    hits: dict[str, dict] = {}
    for side in (("three", "one") if three_first else ("one", "three")):
        get_json(f"{base}/__reset")
        if side == "one":
            sides[side] = crawl(1, f"{base}/feed.rss", one_db, None, [], env)
        else:
            sides[side] = crawl(3, f"{base}/feed.rss", three_db, redis_url, extract, env)
        hits[side] = get_json(f"{base}/__hits")
    queue.flushdb()
    queue.close()
    for err in sides["one"].errors + sides["three"].errors:
        if "Traceback" in err:
            print(err, file=sys.stderr)
    workers = runs(three_db)
    return {"sides": sides, "hits": hits, "one_stored": stored(one_db), "three_stored": stored(three_db),
            "shares": sorted(r["pages_fetched"] - 1 for r in workers),  # less each worker's robots.txt
            "twice": sorted(p for p in paths if hits["three"].get(p, 0) > 1),
            "missed": sorted(p for p in paths if hits["three"].get(p, 0) == 0)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3, help="rounds of one-then-three (order alternating)")
    parser.add_argument("--extract-workers", type=int, default=(os.cpu_count() or 1) // 3,
                        help="WICNEWS_EXTRACT_WORKERS of each of the three (default: cores // 3)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--pg-admin", default=os.environ.get("WICNEWS_TEST_PG_ADMIN",
                                                             "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="wicnews-bench-dist-"))
    server = None
    names: list[str] = []
    env = {k: v for k, v in os.environ.items() if not k.startswith("WICNEWS_")} | {"WORK": str(work)}
    extract = ["-s", f"WICNEWS_EXTRACT_WORKERS={args.extract_workers}"]
    try:
        paths = build_site(work / "site")
        server = subprocess.Popen([sys.executable, "-m", "wicnews.fixture_server", str(work / "site"), "--port", "0"],
                                  stdout=subprocess.PIPE, text=True)
        base = server.stdout.readline().strip()
        print(f"{len(paths)} pages on loopback, {os.cpu_count()} cores; the three with WICNEWS_EXTRACT_WORKERS="
              f"{args.extract_workers}, the one with its default pool")
        rounds = []
        for i in range(args.repeat):
            result = one_round(base, paths, args.pg_admin, args.redis, extract, i % 2 == 1, env, names)
            one, three = result["sides"]["one"], result["sides"]["three"]
            result["speed"] = one.seconds / three.seconds
            rounds.append(result)
            print(f"  round {i + 1} ({'three first' if i % 2 else 'one first'}): one {one.seconds:.1f} s "
                  f"({one.cpu:.0f} CPU s), three {three.seconds:.1f} s ({three.cpu:.0f} CPU s, exits "
                  f"{', '.join(f'{t:.1f}' for t in three.exits)}), speed {result['speed']:.2f}")
        speeds = sorted(r["speed"] for r in rounds)
        median = statistics.median(speeds)
        codes = [c for r in rounds for side in r["sides"].values() for c in side.codes]
        checks = {
            "pages downloaded more than once": (sum(len(r["twice"]) for r in rounds), "0",
                                                not any(r["twice"] for r in rounds)),
            "pages not downloaded": (sum(len(r["missed"]) for r in rounds), "0", not any(r["missed"] for r in rounds)),
            "articles stored by three / by one": (
                " ".join(f"{len(r['three_stored'])}/{len(r['one_stored'])}" for r in rounds), "equal, same URLs",
                all(r["three_stored"] == r["one_stored"] and len(set(r["three_stored"])) == len(r["three_stored"])
                    for r in rounds)),
            "pages fetched by each worker": (" ".join(str(r["shares"]) for r in rounds), "each > 0",
                                             all(len(r["shares"]) == 3 and min(r["shares"]) > 0 for r in rounds)),
            "exit codes": (f"{len(codes)} exits, {sum(1 for c in codes if c)} non-zero", "all 0", not any(codes)),
            "CPU seconds three / one (median)": (
                f"{statistics.median(r['sides']['three'].cpu / r['sides']['one'].cpu for r in rounds):.2f}", "-", True),
            "speed of three / one": (f"median {median:.2f} (min {speeds[0]:.2f}, max {speeds[-1]:.2f})",
                                     f">= {MIN_SPEED}", median >= MIN_SPEED),
        }
        for name, (value, limit, ok) in checks.items():
            print(f"  {name:<36} {value!s:<34} limit {limit:<18} {'ok' if ok else 'FAILED'}")
        return 0 if all(ok for _, _, ok in checks.values()) else 1
    finally:
        if server:
            server.terminate()
            server.wait()
            server.stdout.close()
        drop_databases(args.pg_admin, names)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
