"""Extension: every crawl is a row of ``runs`` with its outcome and counts."""

from __future__ import annotations

import logging

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
    each article. Completes it when the spider closes."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.run_id: int | None = getattr(crawler, _ATTRIBUTE, None)

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
            if self.run_id is None:
                self.run_id = runs.start_run(session, spider.name, [s.name for s in getattr(spider, "sources", [])])
        self.crawler.stats.set_value("wicnews/run_id", self.run_id)
        logger.info("run #%d started", self.run_id)

    def spider_closed(self, spider, reason):
        if self.run_id is None:
            return
        stats = self.crawler.stats.get_stats()
        status = runs.run_status(stats, reason)
        self.crawler.stats.set_value("wicnews/status", status)
        try:
            with Session(crawl_engine(self.crawler)) as session, session.begin():
                runs.finish_run(session, self.run_id, status, runs.run_counts(stats))
        except SQLAlchemyError as exc:
            logger.error("could not record the end of run #%d: %s", self.run_id, exc)
        logger.info("run #%d %s", self.run_id, status)
