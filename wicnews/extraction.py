"""The crawl's extraction: ``page, item = await extraction.prepare(body, url, headers, ...)``.

The thin Scrapy adapter over ``wicnews.pool``. With ``WICNEWS_EXTRACT_WORKERS`` > 0 (or -1,
one per core) pages go to a pool of worker processes and the reactor thread only waits;
with 0 they are handled in the crawl's own process, as before. Either way a page goes
through ``wicnews.articles.crawled_page`` (extraction, the item, normalisation, relevance,
dedupe keys, the page's bytes compressed for ``raw_pages``: every CPU-heavy pure step) and
the answer is ``(Extracted, item)`` or a ``PageError``.

At most ``WICNEWS_MAX_PAGES_IN_FLIGHT`` pages are handed to the pool at once (the others
wait, and Scrapy's scraper slot stops downloading when the bodies waiting exceed
``SCRAPER_SLOT_MAX_ACTIVE_SIZE``): memory stays bounded. Counts
``wicnews/extract/workers_replaced``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred, DeferredSemaphore

from wicnews.pool import DEFAULT_FUNCTION, PREPARE, ExtractPool, default_workers, resolve, start_server, stop_server

if TYPE_CHECKING:
    from collections.abc import Callable
    from concurrent.futures import Future

    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)


def start_workers(settings: BaseSettings) -> bool:
    """Start the worker processes' server now, before the crawler (``wicnews.crawl``): it
    imports the extraction while this process starts Scrapy. False when the pages are to be
    extracted in this process (a server started ahead of the settings is stopped)."""
    if not settings.getint("WICNEWS_EXTRACT_WORKERS"):
        stop_server(kill=True)
        return False
    start_server(PREPARE, settings.get("WICNEWS_EXTRACT_FUNCTION") or DEFAULT_FUNCTION)
    return True


class Extraction:
    """Extracts pages in a process pool (``workers`` > 0) or in this process (0)."""

    def __init__(self, workers: int, timeout: float, max_in_flight: int, extract: str = DEFAULT_FUNCTION,
                 topic_file: str = "", on_replace: Callable[[str], None] | None = None, keep_raw: bool = True):
        self.context = {"extract": extract, "topic_file": topic_file, "keep_raw": keep_raw}
        self.pool: ExtractPool | None = None
        if workers:
            self.pool = ExtractPool(workers, timeout, max_in_flight, PREPARE, on_replace=on_replace, preload=extract)
            self.slots = DeferredSemaphore(self.pool.max_in_flight)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Extraction:
        s = crawler.settings
        workers = s.getint("WICNEWS_EXTRACT_WORKERS")

        def replaced(why: str) -> None:  # in a pool thread: the stats belong to the reactor thread
            from twisted.internet import reactor

            reactor.callFromThread(crawler.stats.inc_value, "wicnews/extract/workers_replaced")

        extraction = cls(default_workers() if workers < 0 else workers, s.getfloat("WICNEWS_EXTRACT_TIMEOUT"),
                         s.getint("WICNEWS_MAX_PAGES_IN_FLIGHT"), s.get("WICNEWS_EXTRACT_FUNCTION") or DEFAULT_FUNCTION,
                         s.get("WICNEWS_TOPIC") or "", replaced, s.getbool("WICNEWS_KEEP_RAW_PAGES"))
        crawler.signals.connect(extraction.close, signal=signals.engine_stopped, weak=False)
        if extraction.pool:
            logger.info("extracting in %d worker processes", len(extraction.pool._threads))
        return extraction

    async def prepare(self, body: bytes, url: str, headers: dict[str, str], **context: Any) -> tuple[Any, Any]:
        """``(Extracted, item)`` of a page (``context``: see ``prepared_page``); raises ``PageError``."""
        context = {**context, **self.context}
        if self.pool is None:
            return resolve(PREPARE)(body, url, headers, **context)
        await maybe_deferred_to_future(self.slots.acquire())
        try:
            return await maybe_deferred_to_future(_deferred(self.pool.submit(body, url, headers, context)))
        finally:
            self.slots.release()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()


def _deferred(future: Future) -> Deferred:
    """A Deferred fired on the reactor thread when ``future`` (set in a pool thread) is done."""
    from twisted.internet import reactor

    deferred: Deferred = Deferred()

    def done(f: Future) -> None:
        exc = f.exception()
        if exc is not None:
            reactor.callFromThread(deferred.errback, exc)
        else:
            reactor.callFromThread(deferred.callback, f.result())

    future.add_done_callback(done)
    return deferred
