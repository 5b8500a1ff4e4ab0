"""Downloader middleware: do not download article URLs that are already stored."""

from __future__ import annotations

from scrapy.exceptions import NotConfigured
from sqlalchemy.orm import Session

from pipelines.dedupe import url_key
from wicnews import db
from wicnews.failures import AlreadySeen


class SkipSeenMiddleware:
    """A monitoring cycle re-reads the same feeds; their old items are stored already.
    Article requests (``meta["wicnews_article"]``) whose URL leads to a stored article are
    ignored before download and counted as ``wicnews/skipped/seen``. Off with
    ``WICNEWS_SKIP_SEEN=False`` (every article is then fetched and deduped by the store)."""

    def __init__(self, database_url: str, auto_upgrade: bool = True):
        self.database_url = database_url
        self.auto_upgrade = auto_upgrade
        self.engine = None

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("WICNEWS_SKIP_SEEN"):
            raise NotConfigured("WICNEWS_SKIP_SEEN is off")
        mw = cls(crawler.settings.get("WICNEWS_DATABASE_URL"), crawler.settings.getbool("WICNEWS_AUTO_UPGRADE"))
        from scrapy import signals

        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def process_request(self, request):
        if not request.meta.get("wicnews_article"):
            return None
        if self.engine is None:
            self.engine = db.open_database(self.database_url, auto_upgrade=self.auto_upgrade)
        key = url_key(request.url)
        with Session(self.engine) as session:
            if db.is_settled(session, key):
                raise AlreadySeen("already stored")
        return None

    def spider_closed(self):
        if self.engine is not None:
            self.engine.dispose()
