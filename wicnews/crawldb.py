"""One database engine per crawl, shared by the run log, the skip-seen middleware and the store.

``wicnews crawl`` opens the engine once (checking the schema) and hands it to the crawler
before the crawl starts; under a bare ``scrapy crawl`` the first component that asks opens
it. Either way it is disposed of when the engine of the crawl stops.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy import signals

from wicnews.db.engine import open_database

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from sqlalchemy.engine import Engine

_ATTRIBUTE = "wicnews_engine"


def attach_engine(crawler: Crawler, engine: Engine) -> None:
    """Give the crawler an engine opened beforehand (the CLI's pre-flight check)."""
    setattr(crawler, _ATTRIBUTE, engine)
    crawler.signals.connect(engine.dispose, signal=signals.engine_stopped, weak=False)


def crawl_engine(crawler: Crawler) -> Engine:
    """The crawl's engine, opened (and the schema checked) on first use."""
    engine = getattr(crawler, _ATTRIBUTE, None)
    if engine is None:
        settings = crawler.settings
        engine = open_database(settings.get("WICNEWS_DATABASE_URL"), auto_upgrade=settings.getbool("WICNEWS_AUTO_UPGRADE"))
        attach_engine(crawler, engine)
    return engine
