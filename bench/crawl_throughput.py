"""Crawl throughput and memory against bare trafilatura, on loopback, in one run.

For each site (the 181 real AEB pages of ``$WICNEWS_EVAL_DIR/aeb``, default
``../shared/eval``; a synthetic site of ``--pages`` articles of real sentences):

1. serve it from 127.0.0.1 with the fixture server and time ``wicnews crawl`` of its feed as
   a whole process (start-up, imports, worker start, crawl, store, exit), politeness off;
2. sample the crawl's memory (the crawl process and its extraction workers, RSS and PSS);
3. time bare ``trafilatura.bare_extraction`` on the same bytes, one page after the other on
   one core, in this process (imports and a first warm-up page not counted);
4. print pages/s of both, their ratio and the peak memory, each beside its goal;
5. time the ceiling of such a crawl (``bench/ceiling_crawl.py``: Scrapy and the same
   extraction pool running bare trafilatura only, nothing stored) on the same pages, as a
   whole process: what ``wicnews crawl`` would reach if its own steps cost nothing;
6. AEB only: score the stored bodies and those of ``wicnews extract`` (``article_from_file``)
   on the same pages against the gold bodies: the two F1 must be equal.

    python bench/crawl_throughput.py                      # both sites, 10 000 synthetic pages
    python bench/crawl_throughput.py --site aeb
    python bench/crawl_throughput.py --site synthetic --pages 2000 --workers 2

Exit status 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from loopback import TreeMemory, aeb_site, eval_dir, feed_names, serve, synthetic_site

GOALS = {"aeb": 1.0, "synthetic": 1.6}   # crawl pages/s over bare trafilatura pages/s
MEMORY_GOAL_MB = 600                      # the 10k-page crawl, every process of it
POLITENESS_OFF = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS=32",
                  "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=32", "-s", "LOG_LEVEL=WARNING"]


# ``python -m wicnews.cli`` that also says, as it exits, how much CPU time its own process used
# (its threads included: the reactor, the store, the extraction pool's slots).
MAIN_CPU = "MAIN CPU "
CLI = ("import atexit, resource, runpy, sys\n"
       "atexit.register(lambda: sys.stderr.write('\\n%s%.3f\\n' % (" + repr(MAIN_CPU) + ", sum(resource.getrusage("
       "resource.RUSAGE_SELF)[:2]))))\n"
       "sys.argv[0] = 'wicnews'\n"
       "runpy.run_module('wicnews.cli', run_name='__main__', alter_sys=True)\n")


def crawl(base: str, db: str, work: Path, extra: list[str], pages: int) -> tuple[float, dict, TreeMemory, float]:
    feeds = [arg for name in feed_names(pages) for arg in ("--feed", f"{base}/{name}")]
    command = [sys.executable, "-c", CLI, "crawl", *feeds, "--db", db, *POLITENESS_OFF, *extra]
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("WICNEWS_") or k == "WICNEWS_EVAL_DIR"},
           "WICNEWS_HOME": str(work)}
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    memory = TreeMemory(proc.pid)
    out, err = proc.communicate()
    elapsed = time.perf_counter() - started
    memory.stop()
    if proc.returncode != 0:
        print(out, err[-3000:], file=sys.stderr)
        raise SystemExit(f"the crawl exited {proc.returncode}")
    runs = subprocess.run([sys.executable, "-m", "wicnews.cli", "runs", "--db", db, "--format", "json"],
                          capture_output=True, text=True, check=True, env=env)
    main_cpu = float(err.rsplit(MAIN_CPU, 1)[1].split()[0]) if MAIN_CPU in err else float("nan")
    return elapsed, json.loads(runs.stdout)[0], memory, main_cpu


def ceiling(base: str, pages: dict[str, Path], work: Path, workers: int | None) -> float | None:
    """Seconds of ``bench/ceiling_crawl.py`` over the same pages, as a whole process; None
    (and why, on stderr) when it failed: the ceiling is for reading, not a goal."""
    urls = work / "ceiling-urls.txt"
    urls.write_text("\n".join(base + path for path in pages), encoding="utf-8")
    command = [sys.executable, str(Path(__file__).with_name("ceiling_crawl.py")), str(urls)]
    started = time.perf_counter()
    done = subprocess.run(command + (["--workers", str(workers)] if workers else []), capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    extracted = done.stdout.split()[-1] if done.stdout.split() else ""
    if done.returncode != 0 or extracted != str(len(pages)):
        print(f"the ceiling crawl failed (exit {done.returncode}, {extracted or 'no'} pages of {len(pages)}): "
              f"{done.stderr[-2000:]}", file=sys.stderr)
        return None
    return elapsed


def store_rates(db: str, span: int = 1000) -> tuple[float, float] | None:
    """Articles stored per second over the first and the last ``span`` articles of the run (by
    their first-seen times): whether the crawl slows down as the database grows."""
    from sqlalchemy import create_engine, text

    engine = create_engine(db)
    with engine.connect() as conn:
        times = [t if isinstance(t, datetime) else datetime.fromisoformat(t)
                 for t in conn.execute(text("SELECT first_seen_at FROM articles ORDER BY id")).scalars()]
    engine.dispose()
    if len(times) < 2 * span:
        return None
    first, last = times[:span], times[-span:]
    return ((span - 1) / max((first[-1] - first[0]).total_seconds(), 1e-6),
            (span - 1) / max((last[-1] - last[0]).total_seconds(), 1e-6))


def bare(pages: dict[str, Path], base: str) -> float:
    """Seconds of ``trafilatura.bare_extraction`` over every page, one core."""
    import trafilatura

    bodies = [(base + path, file.read_bytes()) for path, file in pages.items()]
    trafilatura.bare_extraction(bodies[0][1], url=bodies[0][0])  # lazy loading, not counted
    started = time.perf_counter()
    for url, body in bodies:
        trafilatura.bare_extraction(body, url=url)
    return time.perf_counter() - started


def f1(pairs: list[tuple[str, str]]) -> float:
    """The AEB metric (see bench/extract_eval.py) over (gold, predicted) bodies."""
    from extract_eval import score

    ps, rs = [], []
    for gold, predicted in pairs:
        p, r = score(gold, predicted)
        ps += [p] if p is not None else []
        rs += [r] if r is not None else []
    precision, recall = sum(ps) / len(ps), sum(rs) / len(rs)
    return 2 * precision * recall / (precision + recall)


def nothing_lost(pages: dict[str, Path], base: str, db: str) -> bool:
    """F1 of the stored bodies (by the URL each page was fetched under) and of ``wicnews
    extract`` on the same files; True when equal."""
    from sqlalchemy import create_engine, text

    from wicnews.articles import article_from_file
    from wicnews.errors import PageError

    gold = json.loads((eval_dir() / "aeb" / "ground-truth.json").read_text(encoding="utf-8"))  # type: ignore[operator]
    engine = create_engine(db)
    with engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT u.url, a.text FROM article_urls u JOIN articles a ON a.id = u.article_id")).all())
    engine.dispose()
    crawled, extracted = [], []
    for path, file in pages.items():
        truth = gold[file.name.removesuffix(".html")]["articleBody"]
        try:
            mine = article_from_file(file, base + path)["text"]
        except PageError:
            mine = ""
        crawled.append((truth, stored.get(base + path, "")))
        extracted.append((truth, mine))
    missing = sum(1 for _, t in crawled if not t)
    f_crawl, f_extract = f1(crawled), f1(extracted)
    same = abs(f_crawl - f_extract) < 1e-9
    print(f"  F1 of stored bodies {f_crawl:.4f}   F1 of `wicnews extract` {f_extract:.4f}   "
          f"(pages without a stored body: {missing})   goal: equal -> {'ok' if same else 'MISSED'}")
    return same


def run_site(name: str, pages: dict[str, Path], root: Path, work: Path, args) -> bool:
    extra = ["-s", f"WICNEWS_EXTRACT_WORKERS={args.workers}"] if args.workers is not None else []
    db = args.db or f"sqlite:///{work / (name + '.db')}"
    with serve(root) as base:
        elapsed, run, memory, main_cpu = crawl(base, db, work, extra, len(pages))
        bare_s = bare(pages, base)
        # with no workers the crawl extracts in its own process: no pool to compare with
        ceiling_s = ceiling(base, pages, work, args.workers) if args.workers != 0 else None
    crawl_rate, bare_rate = len(pages) / elapsed, len(pages) / bare_s
    ratio = crawl_rate / bare_rate
    ok = ratio >= GOALS[name]
    if run["pages_fetched"] < len(pages):  # a rate over pages not crawled would flatter the crawl
        print(f"{name}: the crawl fetched {run['pages_fetched']} of {len(pages)} pages", file=sys.stderr)
        ok = False
    print(f"{name}: {len(pages)} pages; the crawl fetched {run['pages_fetched']}, stored {run['articles_new']}, "
          f"errors {run['error_counts'] or 0}")
    print(f"  wicnews crawl (whole process)  {elapsed:7.1f} s  {crawl_rate:6.1f} pages/s")
    print(f"  bare_extraction (1 core)       {bare_s:7.1f} s  {bare_rate:6.1f} pages/s")
    print(f"  ratio {ratio:.2f}x   goal >= {GOALS[name]:.1f}x -> {'ok' if ok else 'MISSED'}")
    if ceiling_s:
        print(f"  ceiling: Scrapy + the same pool running bare_extraction only, nothing stored (bench/ceiling_crawl.py) "
              f"{ceiling_s:.1f} s  {len(pages) / ceiling_s:.1f} pages/s, ratio {bare_s / ceiling_s:.2f}x")
    workers_cpu = sum(memory.cpu.values())
    print(f"  CPU per page: the crawl process {main_cpu / len(pages) * 1000:.1f} ms (downloads, spider, store), "
          f"its other processes {workers_cpu / len(pages) * 1000:.1f} ms (extraction workers, sampled)")
    if rates := store_rates(db):
        print(f"  stored per second: first 1000 articles {rates[0]:.1f}, last 1000 {rates[1]:.1f} "
              f"(ratio {rates[1] / rates[0]:.2f}: below 1, the crawl slows down as the database grows)")
    # PSS: each page of memory counted once, split between the processes sharing it (the
    # workers are forked from one server and share its imports); summed RSS counts it again
    # in every process.
    mem_ok = memory.peak_pss / 1024 < MEMORY_GOAL_MB
    print(f"  peak memory of the crawl: {memory.peak_pss / 1024:.0f} MB PSS summed over its processes   "
          f"goal < {MEMORY_GOAL_MB} MB -> {'ok' if mem_ok else 'MISSED'}   (summed RSS {memory.peak_rss / 1024:.0f} MB, "
          f"shared pages counted once per process; the crawl process alone {memory.peak_main / 1024:.0f} MB RSS)")
    if name == "aeb":
        ok = nothing_lost(pages, base, db) and ok
    return ok and mem_ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", choices=["aeb", "synthetic", "both"], default="both")
    parser.add_argument("--pages", type=int, default=10_000, help="pages of the synthetic site (default 10000)")
    parser.add_argument("--workers", type=int, help="WICNEWS_EXTRACT_WORKERS (default: the setting's, one per core)")
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file per site)")
    args = parser.parse_args()
    print(f"cores: {len(os.sched_getaffinity(0))}, load average {os.getloadavg()[0]:.1f}")
    work = Path(tempfile.mkdtemp(prefix="wicnews-bench-"))
    ok = True
    try:
        if args.site in ("aeb", "both"):
            pages = aeb_site(work / "aeb-site")
            if pages:
                ok = run_site("aeb", pages, work / "aeb-site", work, args) and ok
            else:
                print("aeb: evaluation data not found (set WICNEWS_EVAL_DIR): skipped")
        if args.site in ("synthetic", "both"):
            pages = synthetic_site(work / "synthetic-site", args.pages)
            ok = run_site("synthetic", pages, work / "synthetic-site", work, args) and ok
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
