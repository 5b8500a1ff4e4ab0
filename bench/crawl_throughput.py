"""Crawl throughput and memory: a real crawl of N generated article pages on loopback.

Builds a temporary site of N distinct articles (the seed fixture page's template with a
random text each) and an RSS feed linking them, serves it with the fixture server, runs
``wicnews crawl`` in a subprocess, and prints pages/s, articles/s and the crawl's peak RSS.

    python bench/crawl_throughput.py [--pages 400] [--db URL]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEED_PAGE = REPO / "tests/fixtures/site/scmp/news/china/science/article/3199102/" \
    "world-internet-conference-tilts-towards-business-tech-tycoons-stay-away-wuzhen.html"


WORDS = ["internet", "data", "digital", "economy", "summit", "delegates", "platform", "security", "cloud", "port", "industry", "policy", "forum", "investment", "network", "artificial", "intelligence", "governance", "cooperation", "standards", "chips", "export", "startup", "regulation", "market", "growth", "talent", "research", "province", "city", "canal", "exhibition", "robots", "logistics"]


def article_body(rng: random.Random) -> str:
    """Twelve paragraphs of random sentences: every bench article is a distinct text."""
    paragraphs = []
    for _ in range(12):
        sentences = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 24))).capitalize() + "."
                     for _ in range(rng.randint(2, 4))]
        paragraphs.append("<p>" + " ".join(sentences) + "</p>")
    return "<p>The World Internet Conference in Wuzhen heard the following.</p>" + "".join(paragraphs)


def build_site(root: Path, pages: int) -> None:
    template = SEED_PAGE.read_text(encoding="utf-8")
    start, end = template.index("<p>"), template.rindex("</p>") + 4
    items = []
    for i in range(pages):
        path = f"/bench/article/{i}.html"
        body = article_body(random.Random(i))
        html = (template[:start] + body + template[end:]).replace(SEED_PAGE.name, f"{i}.html").replace(
            "/scmp/news/china/science/article/3199102/", "/bench/article/")
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
        items.append(f"<item><title>Bench {i}</title><link>{{{{BASE}}}}{path}</link></item>")
    (root / "feed.rss").write_text(f'<?xml version="1.0"?><rss version="2.0"><channel><title>bench</title>'
                                   f'{"".join(items)}</channel></rss>', encoding="utf-8")
    (root / "robots.txt").write_text("User-agent: *\nDisallow:\n")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=400)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="wicnews-bench-"))
    server = None
    try:
        build_site(work / "site", args.pages)
        server = subprocess.Popen([sys.executable, "-m", "wicnews.fixture_server", str(work / "site"), "--port", "0"],
                                  stdout=subprocess.PIPE, text=True)
        base = server.stdout.readline().strip()
        db = args.db or f"sqlite:///{work / 'bench.db'}"
        command = [sys.executable, "-m", "wicnews.cli", "crawl", "--feed", f"{base}/feed.rss", "--db", db,
                   "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16",
                   "-s", "LOG_LEVEL=WARNING"]
        started = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "WICNEWS_HOME": str(work)})
        elapsed = time.perf_counter() - started
        if result.returncode != 0:
            print(result.stdout, result.stderr, file=sys.stderr)
            return 1
        runs = subprocess.run([sys.executable, "-m", "wicnews.cli", "runs", "--db", db, "--format", "json"],
                              capture_output=True, text=True, check=True)
        run = json.loads(runs.stdout)[0]
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"crawl: {run['pages_fetched']} pages, {run['articles_new']} new articles in {elapsed:.1f} s "
              f"(process start included) = {run['pages_fetched'] / elapsed:.1f} pages/s, "
              f"{run['articles_new'] / elapsed:.1f} articles/s; peak RSS of a child process {peak_mb:.0f} MB; "
              f"errors {run['errors']}")
        return 0 if run["articles_new"] == args.pages else 1
    finally:
        if server:
            server.terminate()
            server.wait()
            server.stdout.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
