"""The scheduler of distributed crawls: scrapy-redis's, with the calls that Scrapy >= 2.14
deprecates replaced (stats without ``spider=``, ``spider.log``), so that a worker's log stays
clean, and a pop that marks the worker busy in the same step (``Cycle.pop``). Same settings,
same Redis keys, same queue and fingerprint classes."""

from __future__ import annotations

import logging

from scrapy.utils.misc import load_object
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

logger = logging.getLogger(__name__)


class SharedScheduler(Scheduler):
    """``scrapy_redis.scheduler.Scheduler``: the shared queue and fingerprint set in Redis."""

    def open(self, spider):
        self.spider = spider
        self.queue = load_object(self.queue_cls)(server=self.server, spider=spider, serializer=self.serializer,
                                                 key=self.queue_key % {"spider": spider.name})
        if not self.df:  # type: ignore[has-type]
            self.df = load_object(self.dupefilter_cls).from_spider(spider)
        if self.flush_on_start:
            self.flush()
        if queued := len(self.queue):
            logger.info("%d request(s) in the shared queue", queued)

    def enqueue_request(self, request):
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        self.queue.push(request)
        return True

    def next_request(self):
        cycle = getattr(self.spider, "cycle", None)
        if cycle is None or not isinstance(self.queue, PriorityQueue):
            request = self.queue.pop(self.idle_before_close)
        else:  # popped and the worker marked busy in one step (wicnews.distributed.Cycle.pop)
            data = cycle.pop()
            request = self.queue._decode_request(data) if data is not None else None
        if request and self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request
