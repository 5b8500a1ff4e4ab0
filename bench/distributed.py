"""Distributed crawl: three ``wicnews crawl --redis`` processes against one, over 181 real pages.

Serves the pages of the article-extraction benchmark (``$WICNEWS_EVAL_DIR/aeb/html`` or ``../shared/eval``, read
from there, served from a temporary directory on loopback, never copied into the repository)
with an RSS feed linking them, then

1. one process crawls the feed into a fresh PostgreSQL database;
2. three processes started together (``--redis``, one shared queue) crawl it into another.

Prints, each beside its limit: pages downloaded more than once (0), articles stored by the
three against the one (equal), each worker's share (> 0), exit codes (all 0), and the speed
of the three relative to the one (>= 0.8).

    python bench/distributed.py [--redis redis://127.0.0.1:6379/15] [--pg-admin postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
from extract_eval import aeb_dir, missing_message  # noqa: E402  (where the evaluation data is looked for)

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16",
        "-s", "LOG_LEVEL=WARNING", "-s", "WICNEWS_REDIS_IDLE_SECONDS=2"]
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


def wicnews(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "wicnews.cli", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def runs(db: str) -> list[dict]:
    out = subprocess.run([sys.executable, "-m", "wicnews.cli", "runs", "--db", db, "--format", "json"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def stored(db: str) -> list[str]:
    out = subprocess.run([sys.executable, "-m", "wicnews.cli", "new", "--db", db, "--format", "json", "--since", "1d",
                          "--all"], capture_output=True, text=True, check=True).stdout
    return sorted(a["url"] for a in json.loads(out))


def crawl(processes: int, feed: str, db: str, redis_url: str | None, env: dict) -> tuple[float, list[int], list[str]]:
    """``processes`` crawls started together; (seconds until the last exits, exit codes, stderr)."""
    extra = ["--redis", redis_url] if redis_url else []
    started = time.perf_counter()
    procs = [wicnews("crawl", "--feed", feed, "--db", db, *extra, *FAST, env={**env, "WICNEWS_HOME": f"{env['WORK']}/h{i}"})
             for i in range(processes)]
    outputs = [p.communicate() for p in procs]
    return time.perf_counter() - started, [p.returncode for p in procs], [err for _, err in outputs]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--pg-admin", default=os.environ.get("WICNEWS_TEST_PG_ADMIN",
                                                             "postgresql://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    import psycopg
    import redis

    work = Path(tempfile.mkdtemp(prefix="wicnews-bench-dist-"))
    names = [f"wicnews_bench_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    base_db = args.pg_admin.rsplit("/", 1)[0]
    server = None
    queue = redis.Redis.from_url(args.redis)
    env = {k: v for k, v in os.environ.items() if not k.startswith("WICNEWS_")} | {"WORK": str(work)}
    try:
        with psycopg.connect(args.pg_admin, autocommit=True) as conn:
            for name in names:
                conn.execute(f'CREATE DATABASE "{name}"')
        one_db, three_db = (f"{base_db}/{name}" for name in names)
        queue.flushdb()
        paths = build_site(work / "site")
        server = subprocess.Popen([sys.executable, "-m", "wicnews.fixture_server", str(work / "site"), "--port", "0"],
                                  stdout=subprocess.PIPE, text=True)
        base = server.stdout.readline().strip()
        feed = f"{base}/feed.rss"

        one_seconds, one_codes, one_err = crawl(1, feed, one_db, None, env)
        one_hits = get_json(f"{base}/__hits")
        get_json(f"{base}/__reset")
        three_seconds, three_codes, three_err = crawl(3, feed, three_db, args.redis, env)
        three_hits = get_json(f"{base}/__hits")
        for err in one_err + three_err:
            if "Traceback" in err:
                print(err, file=sys.stderr)

        twice = sorted(p for p in paths if three_hits.get(p, 0) > 1)
        missed = sorted(p for p in paths if three_hits.get(p, 0) == 0)
        one_stored, three_stored = stored(one_db), stored(three_db)
        workers = runs(three_db)
        shares = sorted(r["pages_fetched"] - 1 for r in workers)  # less the worker's robots.txt
        speed = one_seconds / three_seconds
        checks = {
            "pages downloaded more than once": (len(twice), "0", not twice),
            "pages not downloaded": (len(missed), "0", not missed),
            "articles stored by three / by one": (f"{len(three_stored)} / {len(one_stored)}", "equal, same URLs",
                                                  three_stored == one_stored and len(set(three_stored)) == len(three_stored)),
            "pages fetched by each worker": (shares, "each > 0", len(shares) == 3 and min(shares) > 0),
            "exit codes (one; three)": (f"{one_codes}; {three_codes}", "all 0", not any(one_codes + three_codes)),
            "one process (s)": (f"{one_seconds:.1f}", "-", True),
            "three processes (s)": (f"{three_seconds:.1f}", "-", True),
            "speed of three / one": (f"{speed:.2f}", f">= {MIN_SPEED}", speed >= MIN_SPEED),
        }
        print(f"{len(paths)} pages on loopback (one process downloaded {sum(one_hits.get(p, 0) for p in paths)}); "
              f"cycle {workers[0]['cycle_id'] if workers else '-'}")
        for name, (value, limit, ok) in checks.items():
            print(f"  {name:<36} {value!s:<24} limit {limit:<18} {'ok' if ok else 'FAILED'}")
        return 0 if all(ok for _, _, ok in checks.values()) else 1
    finally:
        if server:
            server.terminate()
            server.wait()
            server.stdout.close()
        queue.flushdb()
        queue.close()
        with psycopg.connect(args.pg_admin, autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
