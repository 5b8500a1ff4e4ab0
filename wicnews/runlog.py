"""Extension: every crawl is a row of ``runs`` with its outcome and counts."""

from __future__ import annotations

import logging

from scrapy import signals
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from wicnews import db

logger = logging.getLogger(__name__)


def run_counts(stats: dict) -> dict:
    """The ``runs`` columns from a crawl's stats."""
    errors = {k.removeprefix("wicnews/errors/"): v for k, v in stats.items() if k.startswith("wicnews/errors/")}
    skipped = {f"skipped_{k.removeprefix('wicnews/skipped/')}": v for k, v in stats.items() if k.startswith("wicnews/skipped/")}
    return {
        "pages_fetched": stats.get("response_received_count", 0),
        "articles_new": stats.get("wicnews/articles_new", 0),
        "duplicates": stats.get("wicnews/duplicates", 0),
        "not_relevant": stats.get("wicnews/not_relevant", 0),
        "errors": sum(errors.values()),
        "error_counts": dict(sorted({**errors, **skipped}.items())),
    }


def run_status(stats: dict, reason: str) -> str:
    """``finished``; ``failed`` when no source could be read; else Scrapy's close reason."""
    if reason != "finished":
        return reason
    if stats.get("wicnews/sources/failed", 0) and not stats.get("wicnews/sources/ok", 0):
        return "failed"
    return "finished"


class RunLog:
    """Inserts the run row when the spider opens (its id goes to the ``wicnews/run_id``
    stat, which the store writes on each article) and completes it when the spider closes."""

    def __init__(self, crawler, database_url: str, auto_upgrade: bool):
        self.crawler = crawler
        self.database_url = database_url
        self.auto_upgrade = auto_upgrade
        self.engine = None
        self.run_id = None

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler, crawler.settings.get("WICNEWS_DATABASE_URL"), crawler.settings.getbool("WICNEWS_AUTO_UPGRADE"))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider):
        self.engine = db.open_database(self.database_url, auto_upgrade=self.auto_upgrade)
        with Session(self.engine) as session, session.begin():
            if abandoned := db.abandon_stale_runs(session):
                logger.warning("%d run(s) still marked running since more than a day ago: marked abandoned", abandoned)
            self.run_id = db.start_run(session, spider.name, [s.name for s in getattr(spider, "sources", [])])
        self.crawler.stats.set_value("wicnews/run_id", self.run_id)
        logger.info("run #%d started", self.run_id)

    def spider_closed(self, spider, reason):
        if self.engine is None or self.run_id is None:
            return
        stats = self.crawler.stats.get_stats()
        status = run_status(stats, reason)
        self.crawler.stats.set_value("wicnews/status", status)
        try:
            with Session(self.engine) as session, session.begin():
                db.finish_run(session, self.run_id, status, run_counts(stats))
        except SQLAlchemyError as exc:
            logger.error("could not record the end of run #%d: %s", self.run_id, exc)
        finally:
            self.engine.dispose()
        logger.info("run #%d %s", self.run_id, status)
