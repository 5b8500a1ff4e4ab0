"""The ceiling of a crawl built as wicnews's is: Scrapy, wicnews's extraction pool, and bare
``trafilatura.bare_extraction`` as the only work on a page (no metadata, no dating, no
relevance, no dedupe keys, nothing stored).

    python bench/ceiling_crawl.py URLS_FILE [--workers N]

Crawls the URLs listed in ``URLS_FILE`` (one a line; a loopback site of
``bench/loopback.py``) with the settings of ``bench/crawl_throughput.py`` (politeness off, 32
requests at once), hands every response to ``wicnews.pool.ExtractPool`` (``--workers``,
default one per core) running ``bare``, and prints how many pages it extracted.
``crawl_throughput.py`` times it as a whole process, as it times ``wicnews crawl``: what
``wicnews crawl`` would reach if every step but Scrapy, the pool and bare trafilatura cost
nothing.
"""

from __future__ import annotations

import argparse
import sys


def _warm_up() -> None:
    """As ``wicnews.pool_warmup`` does for ``wicnews crawl``: what trafilatura loads on first use
    loaded once in the server, then frozen, so that the workers share it."""
    import gc

    paragraph = "<p>" + "The World Internet Conference opened in Wuzhen, where delegates met. " * 8 + "</p>"
    bare(f"<html><body><article>{paragraph * 6}</article></body></html>".encode(), "http://127.0.0.1/warm-up.html", {})
    gc.collect()
    gc.freeze()


def bare(body: bytes, url: str, headers: dict, **options) -> int:
    """The pool's function: bare trafilatura, as the benchmark times it; its text's length."""
    import trafilatura

    document = trafilatura.bare_extraction(body, url=url)
    return len(document.text or "") if document is not None else 0


if __name__ == "ceiling_crawl":  # imported by the workers' forkserver
    _warm_up()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("urls_file")
    parser.add_argument("--workers", type=int, default=0, help="extraction workers (0 or less: one per core, the default)")
    args = parser.parse_args()
    import multiprocessing
    from multiprocessing import forkserver

    from wicnews.pool import ExtractPool, default_workers

    function = "ceiling_crawl:bare"
    # the workers' server imports trafilatura (only) beside Scrapy's start-up, as ``wicnews crawl`` does
    multiprocessing.get_context("forkserver").set_forkserver_preload(["wicnews.pool", "ceiling_crawl"])
    forkserver.ensure_running()
    import scrapy
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.defer import maybe_deferred_to_future
    from twisted.internet.defer import DeferredSemaphore

    from wicnews.extraction import _deferred

    with open(args.urls_file, encoding="utf-8") as handle:
        urls = handle.read().split()
    pool = ExtractPool(args.workers if args.workers > 0 else default_workers(), 60.0, 0, function)
    slots = DeferredSemaphore(pool.max_in_flight)

    class Ceiling(scrapy.Spider):
        name = "ceiling"

        async def start(self):
            for url in urls:
                yield scrapy.Request(url, dont_filter=True)

        async def parse(self, response):
            await maybe_deferred_to_future(slots.acquire())
            try:
                chars = await maybe_deferred_to_future(_deferred(pool.submit(response.body, response.url, {}, {})))
            finally:
                slots.release()
            yield {"chars": chars}

    process = CrawlerProcess({"LOG_LEVEL": "WARNING", "CONCURRENT_REQUESTS": 32, "CONCURRENT_REQUESTS_PER_DOMAIN": 32,
                              "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "ROBOTSTXT_OBEY": False,
                              "TELNETCONSOLE_ENABLED": False})
    crawler = process.create_crawler(Ceiling)
    process.crawl(crawler)
    try:
        process.start()
    finally:
        pool.close()
    print(crawler.stats.get_value("item_scraped_count", 0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
