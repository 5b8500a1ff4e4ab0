"""Run one monitoring cycle in this process: ``run_crawl(settings, sources) -> CrawlResult``.

The CLI, the demo and the tests call this; the scheduler runs ``wicnews crawl`` in a
subprocess per cycle (a Twisted reactor cannot be restarted in one process).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from wicnews.errors import ConfigError

if TYPE_CHECKING:
    from scrapy.settings import Settings

    from wicnews.sources import Source


@dataclass
class CrawlResult:
    """How a crawl ended: its run row's id, status and counts (the ``runs`` columns)."""

    run_id: int | None
    status: str  # finished, failed, unknown (no run recorded), or Scrapy's close reason
    counts: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "finished"


def crawl_sources(settings: Settings, feeds=(), sitemaps=(), pages=()) -> list[Source]:
    """The sources of a crawl: those given on the command line, else the sources file's."""
    from wicnews.sources import adhoc_sources, load_sources

    return adhoc_sources(feeds, sitemaps, pages) or load_sources(settings.get("WICNEWS_SOURCES"))


def run_crawl(settings: Settings, sources: list[Source], **spider_args) -> CrawlResult:
    """Crawl ``sources`` with ``settings`` (see ``wicnews.config.build_settings``). The
    database is opened (and its schema checked) once, before the crawl, and shared by every
    component. ``spider_args`` go to the spider (``backfill=``, see ``wicnews.backfill``).
    Raises ``ConfigError`` or ``DatabaseError`` before anything is fetched."""
    from scrapy.crawler import CrawlerProcess

    from wicnews.crawldb import attach_engine
    from wicnews.db.engine import open_database
    from wicnews.db.runs import run_counts

    if not sources:
        raise ConfigError("no enabled sources to crawl")
    from wicnews.config import parse_spans

    parse_spans(settings.get("WICNEWS_RECHECK_AFTER"), "WICNEWS_RECHECK_AFTER")  # a mistake stops here, not mid-crawl
    if redis_url := settings.get("WICNEWS_REDIS_URL"):  # a distributed crawl: PostgreSQL, a reachable Redis
        from wicnews.distributed import check_database, connect

        check_database(settings.get("WICNEWS_DATABASE_URL") or "")
        connect(redis_url).close()
    engine = open_database(settings.get("WICNEWS_DATABASE_URL"), auto_upgrade=settings.getbool("WICNEWS_AUTO_UPGRADE"))
    try:
        process = CrawlerProcess(settings)
        crawler = process.create_crawler("monitor")
        attach_engine(crawler, engine)
        process.crawl(crawler, source_list=sources, **spider_args)
        process.start()
    finally:
        engine.dispose()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    return CrawlResult(run_id=stats.get("wicnews/run_id"), status=stats.get("wicnews/status") or "unknown",
                       counts=run_counts(stats))
