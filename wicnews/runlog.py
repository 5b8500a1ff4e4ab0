"""Extension: every crawl is a row of ``runs`` with its outcome and counts."""

from __future__ import annotations

import atexit
import logging
from typing import Any, cast

from scrapy import signals
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from wicnews.crawldb import crawl_engine
from wicnews.db import runs

logger = logging.getLogger(__name__)


_ATTRIBUTE = "wicnews_run_id"


def adopt_run(crawler, run_id: int) -> None:
    """Hand the crawler a run row written beforehand (``wicnews.crawl.run_crawl`` writes it
    before anything that a signal could interrupt)."""
    setattr(crawler, _ATTRIBUTE, run_id)


class RunLog:
    """Inserts the run row when the spider opens, unless the crawl was given one
    (``adopt_run``); its id goes to the ``wicnews/run_id`` stat, which the store writes on
    each article. Completes it when the spider closes. A crawl stopped before its spider
    could close (a second Ctrl-C or SIGTERM forces the reactor down) still leaves a finished
    row: ``interrupted``, written when the reactor shuts down or, failing that, when the
    process exits. Only kill -9 leaves a row ``running`` (marked ``abandoned`` a day later)."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.run_id: int | None = getattr(crawler, _ATTRIBUTE, None)
        self.closed = False

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider):
        with Session(crawl_engine(self.crawler)) as session, session.begin():
            if abandoned := runs.abandon_stale_runs(session):
                logger.warning("%d run(s) still marked running since more than a day ago: marked abandoned", abandoned)
            cycle = getattr(spider, "cycle", None)  # a worker of a distributed cycle (wicnews.spiders.distributed)
            if self.run_id is None:
                self.run_id = runs.start_run(session, spider.name, [s.name for s in getattr(spider, "sources", [])],
                                             cycle_id=cycle.id if cycle else None)
            elif cycle is not None:
                runs.set_cycle(session, self.run_id, cycle.id)
        self.crawler.stats.set_value("wicnews/run_id", self.run_id)
        logger.info("run #%d started", self.run_id)
        from twisted.internet import reactor

        cast(Any, reactor).addSystemEventTrigger("before", "shutdown", self.close_interrupted)
        atexit.register(self.close_interrupted)

    def spider_closed(self, spider, reason):
        if self.run_id is None:
            return
        self.closed = True
        self._finish(runs.run_status(self.crawler.stats.get_stats(), reason))

    def close_interrupted(self) -> None:
        """The crawl is going down before its spider closed: record it as ``interrupted``."""
        if self.run_id is None or self.closed:
            return
        self.closed = True
        self._finish("interrupted")

    def _finish(self, status: str) -> None:
        assert self.run_id is not None
        stats = self.crawler.stats.get_stats()
        self.crawler.stats.set_value("wicnews/status", status)
        try:
            with Session(crawl_engine(self.crawler)) as session, session.begin():
                runs.finish_run(session, self.run_id, status, runs.run_counts(stats))
        except SQLAlchemyError as exc:
            logger.error("could not record the end of run #%d: %s", self.run_id, exc)
        logger.info("run #%d %s", self.run_id, status)
