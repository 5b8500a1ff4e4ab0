"""``wicnews demo``: the whole pipeline in seconds, offline.

Serves the bundled sample news web (the fixture site of the tests: an SCMP-style article
built around the seed story, its AMP page, a syndicated copy and an aggregator copy, an
near-duplicate republished copy, an unrelated story, a Chinese page declared gb2312,
RSS 2.0 / RSS 1.0 / Atom feeds, a Google
News sitemap index, a listing page and a feed of broken links) on 127.0.0.1, crawls it into
a temporary (or ``--db``) database, and prints the run and the new coverage.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

SITE = Path(__file__).with_name("sample_site")

DEMO_SOURCES = """
[[source]]
name = "scmp-china"
kind = "feed"
url = "{base}/feeds/scmp-china.rss"
timezone = "Asia/Hong_Kong"

[[source]]
name = "asia-tech-wire"
kind = "feed"
url = "{base}/feeds/asiatechwire.atom"

[[source]]
name = "tech-digest"
kind = "feed"
url = "{base}/feeds/digest.rdf"

[[source]]
name = "tech-mirror"
kind = "feed"
url = "{base}/feeds/mirror.rss"

[[source]]
name = "news-sitemaps"
kind = "sitemap"
url = "{base}/sitemaps/index.xml"

[[source]]
name = "scmp-wic-topic"
kind = "page"
url = "{base}/scmp/topics/world-internet-conference.html"
link_pattern = "/article/"

[[source]]
name = "broken-links"
kind = "feed"
url = "{base}/feeds/bad-links.rss"

[[source]]
name = "broken-feed"
kind = "feed"
url = "{base}/feeds/broken.rss"
"""

# Fast and quiet: the sample site is local; politeness settings are for real sites.
DEMO_SETTINGS = [
    "DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False", "RETRY_TIMES=1", "LOG_LEVEL=ERROR",
    "DOWNLOAD_MAXSIZE=1000000", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
]


def run_demo(db_url: str | None = None, keep: bool = False) -> int:
    from wicnews.commands.crawl import report
    from wicnews.config import build_settings
    from wicnews.crawl import crawl_sources, run_crawl
    from wicnews.db.engine import open_database
    from wicnews.db.queries import coverage
    from wicnews.fixture_server import start_in_thread
    from wicnews.output.table import articles

    if not SITE.is_dir():
        print(f"wicnews: the sample site is missing ({SITE})", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="wicnews-demo-"))
    db_url = db_url or f"sqlite:///{workdir / 'demo.db'}"
    base, stop = start_in_thread(SITE)
    try:
        sources = workdir / "sources.toml"
        sources.write_text(DEMO_SOURCES.format(base=base), encoding="utf-8")
        print(f"sample news site at {base}; crawling its feeds, sitemaps and listing page into {db_url}\n")
        settings = build_settings(db_url, DEMO_SETTINGS, WICNEWS_SOURCES=str(sources))
        status = report(run_crawl(settings, crawl_sources(settings)))
        print("(the errors are on purpose: the sample site has a feed of broken links and a broken feed)")
        engine = open_database(db_url, must_exist=True, read_only=True)
        try:
            rows = coverage(engine, None, include_all=True)
        finally:
            engine.dispose()
        relevant = [r for r in rows if r["relevant"]]
        print(f"\nnew coverage of the World Internet Conference ({len(relevant)} articles):\n")
        articles(relevant, sys.stdout)
        others = len(rows) - len(relevant)
        if others:
            print(f"\n(+{others} stored article(s) judged not relevant: `wicnews new --all`)")
        if keep:
            print(f"\ndatabase kept: {db_url}\n  wicnews new --db {db_url} --since 1d --format json"
                  f"\n  wicnews runs --db {db_url}")
        return status
    finally:
        stop()
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
