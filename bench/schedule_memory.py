"""Memory across repeated cycles of ``wicnews schedule``: no growth from cycle to cycle.

Serves the AEB pages (or, without the evaluation data, 200 synthetic ones) from loopback,
runs ``wicnews schedule`` with one schedule that crawls them every few seconds (politeness
off, ``WICNEWS_SKIP_SEEN=false`` so that every cycle fetches, extracts and dedupes every
page again), and after each finished run samples the scheduler's RSS and the crawl's peak
(the crawl process and its extraction workers). Prints both per cycle and the scheduler's
growth from the second cycle to the last beside its limit.

    python bench/schedule_memory.py [--cycles 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from loopback import TreeMemory, aeb_site, serve, synthetic_site, tree_memory

GROWTH_LIMIT_MB = 10.0
POLITENESS_OFF = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS=32",
                  "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=32", "-s", "LOG_LEVEL=WARNING", "-s", "WICNEWS_SKIP_SEEN=false"]


def finished_runs(db: str, env: dict) -> int:
    result = subprocess.run([sys.executable, "-m", "wicnews.cli", "runs", "--db", db, "--format", "json"],
                            capture_output=True, text=True, env=env)
    if result.returncode != 0:
        return 0
    return sum(1 for r in json.loads(result.stdout) if r["status"] != "running")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="wicnews-sbench-"))
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("WICNEWS_")}, "WICNEWS_HOME": str(work)}
    db = f"sqlite:///{work / 'schedule.db'}"
    scheduler = None
    try:
        pages = aeb_site(work / "site") or synthetic_site(work / "site", 200)
        with serve(work / "site") as base:
            args_toml = json.dumps(["--feed", f"{base}/feed.rss", *POLITENESS_OFF])
            (work / "bench.toml").write_text(f'[[schedule]]\nname = "bench"\nevery = "5s"\nargs = {args_toml}\n')
            scheduler = subprocess.Popen([sys.executable, "-m", "wicnews.cli", "schedule", "--file", str(work / "bench.toml"),
                                          "--db", db], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
            memory = TreeMemory(scheduler.pid)  # the scheduler and its crawls
            done, samples = 0, []
            deadline = time.monotonic() + 120 * args.cycles
            while done < args.cycles and time.monotonic() < deadline:
                time.sleep(1)
                now = finished_runs(db, env)
                if now > done:
                    done = now
                    samples.append((tree_memory(scheduler.pid)[0], memory.peak_rss))
                    memory.stop()
                    memory = TreeMemory(scheduler.pid)
                    print(f"cycle {done}: scheduler RSS {samples[-1][0] / 1024:.1f} MB; "
                          f"peak of the cycle (scheduler + crawl + workers) {samples[-1][1] / 1024:.0f} MB", flush=True)
            memory.stop()
    finally:
        if scheduler is not None:
            scheduler.send_signal(signal.SIGTERM)
            try:
                scheduler.wait(60)
            except subprocess.TimeoutExpired:
                scheduler.kill()
                scheduler.wait()
            if scheduler.stderr:
                scheduler.stderr.close()
        shutil.rmtree(work, ignore_errors=True)
    if len(samples) < 2:
        print(f"only {len(samples)} cycle(s) finished: cannot judge growth")
        return 1
    growth = (samples[-1][0] - samples[1][0]) / 1024
    crawl_growth = (samples[-1][1] - samples[1][1]) / 1024
    ok = growth <= GROWTH_LIMIT_MB
    print(f"{len(pages)} pages a cycle, {len(samples)} cycles: scheduler RSS growth from cycle 2 to {len(samples)}: "
          f"{growth:+.1f} MB   limit {GROWTH_LIMIT_MB:.0f} MB -> {'ok' if ok else 'MISSED'}; "
          f"peak per cycle {crawl_growth:+.0f} MB")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
