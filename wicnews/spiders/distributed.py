"""The monitor spider as one worker of a distributed cycle (scrapy-redis), used only when
``WICNEWS_REDIS_URL`` (``wicnews crawl --redis URL``) is set.

scrapy-redis's scheduler shares the request queue; this adapter adds what a cycle needs:

* ``start()`` (Scrapy >= 2.16 no longer calls scrapy-redis's ``start_requests()``): the worker
  that won the cycle's seed marker reads the sources; the others wait for the first requests.
* Article URLs are claimed in the shared fingerprint set (scrapy-redis ``RFPDupeFilter``,
  ``SADD``) instead of the spider's in-memory set, so that each is downloaded by one worker.
  Requests keep ``dont_filter`` (a redirect loop still ends at ``REDIRECT_MAX_TIMES``).
* A heartbeat (alive, busy; busy from a pop of the shared queue, ``SharedScheduler``) and
  ``spider_idle``: close once the shared queue is empty with no other worker busy (nobody
  left to queue more), after ``MAX_IDLE_TIME_BEFORE_CLOSE`` (``WICNEWS_REDIS_IDLE_SECONDS``,
  default 0) seconds of that.
* A stale cycle taken over gets the fingerprints of its queued requests only
  (``join_cycle``); after a cycle that lost work (a worker killed in it) every worker of the
  next one reads the sources without conditional GET: what the dead worker had in hand is
  claimed and fetched again (what was stored, skipped by the skip-seen store).

The class is composed on demand (``distributed(MonitorSpider)``), not at module level:
Scrapy's spider loader would list a second spider named ``monitor``.
"""

from __future__ import annotations

import logging
import time
from typing import Any, cast

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.settings import SETTINGS_PRIORITIES
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy_redis import picklecompat
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.spiders import RedisMixin
from twisted.internet import task

from wicnews.distributed import Cycle, join_cycle

logger = logging.getLogger(__name__)
POLL = 0.25  # seconds between looks at the shared queue while this worker is idle


class DistributedMixin(RedisMixin):
    distributed = True
    cycle: Cycle
    fingerprints: RFPDupeFilter

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.setup_redis(crawler)  # scrapy-redis: spider.server, max_idle_time, the spider_idle handler
        spider.fingerprints = RFPDupeFilter.from_spider(spider)  # the scheduler's fingerprint set
        spider.cycle = join_cycle(spider.server, spider.name, fingerprint=spider._queued_fingerprint)
        if spider.cycle.reread:  # what a dead worker had in hand is found again only in the sources read in full
            crawler.settings.set("WICNEWS_CONDITIONAL_GET", False, priority=SETTINGS_PRIORITIES["cmdline"] + 10)
        spider._idle_since = None
        crawler.signals.connect(spider._opened, signal=signals.spider_opened)
        crawler.signals.connect(spider._closed, signal=signals.spider_closed)
        return spider

    def _queued_fingerprint(self, data: bytes) -> str | None:
        """The fingerprint of a queued request (scrapy-redis's encoding), as the fingerprint
        set holds it; None when it cannot be read."""
        try:
            request = picklecompat.loads(data)
            return self.fingerprints.request_fingerprint(
                scrapy.Request(request["url"], method=request.get("method") or "GET", body=request.get("body") or b""))
        except Exception:  # an unreadable entry is skipped; at worst its URL is fetched twice
            return None

    async def start(self):
        if self.cycle.seeder:
            async for request in super().start():  # MonitorSpider.start: the sources
                yield request
            return
        from twisted.internet import reactor  # the one Scrapy installed (importing it earlier installs another)

        if self.cycle.taken_over:
            logger.info("cycle %s: resuming %d queued request(s)", self.cycle.id, self.cycle.taken_over)
        # wait while the seeder reads the sources: the queue is empty, someone is busy
        while not self.cycle.queued() and self.cycle.others_busy():
            await maybe_deferred_to_future(task.deferLater(reactor, POLL, lambda: None))

    def _claim(self, url: str) -> bool:
        return not self.fingerprints.request_seen(scrapy.Request(url))

    def _opened(self, spider):
        self.crawler.stats.set_value("wicnews/cycle_id", self.cycle.id)

    def spider_idle(self):
        """Nothing in hand: close once the shared queue is empty and no other worker busy
        (they alone could queue more), for ``max_idle_time`` seconds (scrapy-redis's
        ``MAX_IDLE_TIME_BEFORE_CLOSE``; 0: at once)."""
        queued, others_busy = self.cycle.settle()
        if queued or others_busy:
            self._idle_since = None
            self._poll_soon()
            raise DontCloseSpider
        now = time.monotonic()
        if self._idle_since is None:
            self._idle_since = now
        if now - self._idle_since < self.max_idle_time:
            self._poll_soon()
            raise DontCloseSpider

    def _poll_soon(self):
        """Scrapy looks at an idle spider's scheduler again after 5 s (the engine's heartbeat);
        the shared queue, which other workers fill, is looked at after ``POLL`` seconds."""
        from twisted.internet import reactor

        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None:
            cast(Any, reactor).callLater(POLL, slot.nextcall.schedule)

    def _closed(self, spider, reason):
        try:
            if self.cycle.leave():
                logger.info("cycle %s ended: queue empty, no worker left", self.cycle.id)
        except Exception as exc:
            logger.warning("cycle %s: could not leave it cleanly: %s", self.cycle.id, exc)


_COMPOSED: dict[type, type] = {}


def distributed(spidercls: type) -> Any:
    """``spidercls`` as a worker of a distributed cycle (one class per spider class)."""
    if spidercls not in _COMPOSED:
        _COMPOSED[spidercls] = type(f"Distributed{spidercls.__name__}", (DistributedMixin, spidercls), {"__module__": __name__})
    return _COMPOSED[spidercls]
