"""Cheap polling and source health: conditional GET, unchanged bodies, backoff.

``SourcePolling`` is a downloader middleware over the requests of the sources themselves
(the feeds, sitemaps and listing pages a crawl starts from; ``meta["wicnews_source"]``):

- it sends ``If-None-Match`` / ``If-Modified-Since`` with the validators stored for the
  source; a 304 ends there (``skipped_not_modified``);
- a 200 whose body hashes (SHA-256) to that of the last full read ends there too
  (``skipped_unchanged``): nothing in it can be new;
- a source that keeps failing (``WICNEWS_BACKOFF_AFTER`` times in a row) is not polled
  before its next poll time (``skipped_backoff``; the delay doubles per failure up to
  ``WICNEWS_BACKOFF_MAX``);
- once the crawl is stopping (SIGTERM/SIGINT, see ``wicnews.crawl``), no request is
  downloaded any more (``skipped_stopped``);
- when the spider closes, each source's outcome (read, not modified, unchanged, failed;
  new and new relevant articles) goes into its ``source_state`` row. The validators of a
  response are stored only once the source was read without error.

Settings: ``WICNEWS_CONDITIONAL_GET``, ``WICNEWS_BACKOFF``, ``WICNEWS_BACKOFF_AFTER``,
``WICNEWS_BACKOFF_START``, ``WICNEWS_BACKOFF_MAX``.
"""

from __future__ import annotations

import hashlib
import logging
from functools import partial

from itemadapter import ItemAdapter
from scrapy import signals
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from wicnews.config import parse_span
from wicnews.crawldb import crawl_engine
from wicnews.db import health
from wicnews.errors import ErrorKind
from wicnews.failures import BackedOff, NotModified, Stopped, Unchanged
from wicnews.models import utcnow
from wicnews.scheduler import backoff_delay

logger = logging.getLogger(__name__)


class SourcePolling:
    def __init__(self, crawler, engine, conditional: bool = True, backoff: bool = True,
                 backoff_base: float = 900, backoff_max: float = 21600, backoff_after: int = 3):
        self.crawler, self.engine = crawler, engine
        self.conditional, self.backoff = conditional, backoff
        self.delay = partial(backoff_delay, base=backoff_base, cap=backoff_max, after=backoff_after)
        self.states: dict[str, dict] = {}
        self.skipped: dict[str, str] = {}  # name -> not_modified | unchanged | backoff
        self.validators: dict[str, dict] = {}
        self.new: dict[str, list[int]] = {}  # name -> [new, new relevant]

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        # a recheck (WICNEWS_RECHECK) reads every source in full: an unchanged feed still lists the articles to recheck
        conditional = s.getbool("WICNEWS_CONDITIONAL_GET") and not s.getbool("WICNEWS_RECHECK")
        mw = cls(crawler, crawl_engine(crawler), conditional, s.getbool("WICNEWS_BACKOFF"),
                 parse_span(s.get("WICNEWS_BACKOFF_START"), "WICNEWS_BACKOFF_START"),
                 parse_span(s.get("WICNEWS_BACKOFF_MAX"), "WICNEWS_BACKOFF_MAX"), s.getint("WICNEWS_BACKOFF_AFTER"))
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(mw.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def spider_opened(self, spider):
        names = [s.name for s in getattr(spider, "sources", [])]
        with Session(self.engine) as session:
            self.states = {name: {"url": st.url, "etag": st.etag, "last_modified": st.last_modified,
                                  "body_hash": st.body_hash, "next_poll_at": st.next_poll_at,
                                  "failures": st.consecutive_failures}
                           for name, st in health.load_states(session, names).items()}

    def _skip(self, name: str, kind: ErrorKind, exc: type[Exception], message: str):
        self.skipped[name] = kind
        self.crawler.stats.inc_value(f"wicnews/skipped/{kind}")
        if kind != ErrorKind.BACKOFF:
            self.crawler.stats.inc_value("wicnews/sources/ok")  # the source answered: nothing new
        logger.info("source %s: %s", name, message)
        raise exc(message)

    def process_request(self, request):
        if getattr(self.crawler, "wicnews_stopping", False):  # counted by the spider's errback
            raise Stopped("the crawl was stopped before this download")
        name = request.meta.get("wicnews_source")
        state = self.states.get(name) if name else None
        if state is None:
            return
        if self.backoff and state["next_poll_at"] is not None and state["next_poll_at"] > utcnow():
            when = f"{state['next_poll_at']:%Y-%m-%d %H:%M:%S} UTC"
            self._skip(name, ErrorKind.BACKOFF, BackedOff,
                       f"backed off after {state['failures']} failure(s) in a row: next poll at {when}")
        if self.conditional and state["url"] == request.url:
            if state["etag"]:
                request.headers.setdefault(b"If-None-Match", state["etag"].encode("latin-1"))
            if state["last_modified"]:
                request.headers.setdefault(b"If-Modified-Since", state["last_modified"].encode("latin-1"))

    def process_response(self, request, response):
        name = request.meta.get("wicnews_source")
        if not name or not self.conditional:
            return response
        if response.status == 304:
            self._skip(name, ErrorKind.NOT_MODIFIED, NotModified, "not modified (304)")
        if response.status != 200:
            return response
        digest = hashlib.sha256(response.body).hexdigest()
        state = self.states.get(name)
        if state is not None and state["body_hash"] == digest and state["url"] == request.url:
            self._skip(name, ErrorKind.UNCHANGED, Unchanged, "unchanged since the last poll")
        header = response.headers.get
        self.validators[name] = {"etag": _text(header(b"ETag")), "last_modified": _text(header(b"Last-Modified")),
                                 "body_hash": digest}
        return response

    def item_scraped(self, item, spider):
        adapter = ItemAdapter(item)
        counts = self.new.setdefault(str(adapter.get("source")), [0, 0])
        counts[0] += 1
        counts[1] += bool(adapter.get("relevant"))

    def polls(self, spider) -> list[health.Poll]:
        """Each source's outcome in this crawl (sources the crawl never got to are left out)."""
        read: set[str] = getattr(spider, "sources_read", set())
        errors: dict[str, str] = getattr(spider, "source_errors", {})
        result = []
        for source in getattr(spider, "sources", []):
            poll = health.Poll(source.name, source.url, source.kind, "")
            if source.name in errors:
                poll.outcome, poll.error_kind = "failed", errors[source.name]
            elif self.skipped.get(source.name) in (ErrorKind.NOT_MODIFIED, ErrorKind.UNCHANGED):
                poll.outcome = self.skipped[source.name]
            elif source.name in read:
                poll.outcome, poll.validators = "read", self.validators.get(source.name, {})
                poll.warning = getattr(spider, "source_warnings", {}).get(source.name)
                poll.articles_new, poll.relevant_new = self.new.get(source.name, [0, 0])
            else:
                continue
            result.append(poll)
        return result

    def spider_closed(self, spider, reason):
        try:
            with Session(self.engine) as session, session.begin():
                health.record_polls(session, self.polls(spider), utcnow(), self.delay)
        except SQLAlchemyError as exc:
            logger.error("could not record the health of the sources: %s", exc)


def _text(value: bytes | None) -> str | None:
    return value.decode("latin-1") if value else None
