"""Topic search sources in the monitoring spider: a mixin of ``MonitorSpider``.

- ``google_news``: the search feed is read as a feed; each item's link is an aggregator
  link, resolved to the publisher's page: the link's own encoded target (``?url=...``), HTTP
  redirects and ``<meta http-equiv=refresh>`` (Scrapy's middlewares), then, on a page still at
  the aggregator, a script redirect or ``<link rel=canonical>`` (``wicnews.aggregators``).
- ``gdelt``: the DOC 2.0 API's ``ArtList`` JSON for a time window (the last
  ``WICNEWS_GDELT_HOURS`` in a monitoring cycle; the slices of a ``wicnews backfill``, each
  split in two while the API answers with as many results as it can give).

A topic item whose article cannot be fetched, or has no text, is kept as a stub (title,
outlet, time, link; ``text_status = "stub"``) that the full article upgrades later.
API requests share one download slot, ``wicnews-api``, with ``WICNEWS_API_DELAY`` seconds
between calls.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.http import TextResponse

from wicnews.aggregators import (
    GDELT_MAX_RECORDS,
    GOOGLE_NEWS_MAX_ITEMS,
    encoded_target,
    gdelt_url,
    google_news_title,
    google_news_url,
    parse_gdelt,
    redirect_target,
)
from wicnews.errors import ErrorKind, PageError
from wicnews.failures import AlreadySeen, Stopped
from wicnews.items import Article

if TYPE_CHECKING:
    from wicnews.backfill import BackfillPlan
    from wicnews.feeds import Entry
    from wicnews.sources import Source

logger = logging.getLogger(__name__)

API_SLOT = "wicnews-api"
MAX_HOPS = 3                      # redirect pages followed from one aggregator link
MIN_SLICE = timedelta(minutes=15)  # GDELT's own time resolution: slices are not split below it


class DiscoveryMixin:
    """Requests and callbacks of the topic search kinds (see the module docstring)."""

    crawler: Any
    backfill: BackfillPlan | None = None
    _slices: dict

    @staticmethod
    def configure_api_slot(settings) -> None:
        """The API download slot: one call at a time, ``WICNEWS_API_DELAY`` seconds apart."""
        slots = dict(settings.getdict("DOWNLOAD_SLOTS"))
        slots.setdefault(API_SLOT, {"concurrency": 1, "delay": settings.getfloat("WICNEWS_API_DELAY"),
                                    "jitter": 0.0})
        settings.set("DOWNLOAD_SLOTS", slots, priority=settings.getpriority("DOWNLOAD_SLOTS") or 0)

    # --- the sources ----------------------------------------------------------------

    def topic_requests(self, source: Source):
        """The first requests of a topic source: its search feed, or its API windows."""
        self._slices = getattr(self, "_slices", {})
        if self.backfill is not None:
            from wicnews.crawldb import crawl_engine

            self.backfill.bind(crawl_engine(self.crawler))
            for start, end in self.backfill.pending(source):
                yield self._window_request(source, start, end)
            return
        if source.kind == "google_news":
            yield self._api_request(source, source.url, self.parse_topic_feed)
        else:
            end = datetime.now(UTC).replace(microsecond=0)
            start = end - timedelta(hours=self.crawler.settings.getint("WICNEWS_GDELT_HOURS"))
            yield self._api_request(source, gdelt_url(source.query or "", start, end, source.api_url,
                                                      self._max_records()), self.parse_gdelt)

    def _max_records(self) -> int:
        return min(GDELT_MAX_RECORDS, self.crawler.settings.getint("WICNEWS_GDELT_MAX_RECORDS"))

    def _api_request(self, source: Source, url: str, callback, **kwargs) -> scrapy.Request:
        return scrapy.Request(url, callback=callback, errback=self.source_failed,  # type: ignore[attr-defined]
                              cb_kwargs={"source": source, **kwargs}, dont_filter=True,
                              meta={"wicnews_source": source.name, "download_slot": API_SLOT,
                                    "autothrottle_dont_adjust_delay": True})

    def _window_request(self, source: Source, start: datetime, end: datetime) -> scrapy.Request:
        if source.kind == "google_news":
            url = google_news_url(source.query or "", source.language or "en", source.api_url, start, end)
            return self._api_request(source, url, self.parse_topic_feed, window=(start, end))
        url = gdelt_url(source.query or "", start, end, source.api_url, self._max_records())
        return self._api_request(source, url, self.parse_gdelt, window=(start, end))

    def parse_topic_feed(self, response, source: Source, window=None):
        """A Google News search feed: a feed whose item titles end in `` - Outlet``."""
        requests = list(self.parse_feed(response, source))  # type: ignore[attr-defined]
        if window is not None and len(requests) >= GOOGLE_NEWS_MAX_ITEMS:
            logger.warning("source %s: %d items for %s..%s, the feed's limit: some may be missing",
                           source.name, len(requests), *window)
        yield from self._track(source, window, requests)

    def parse_gdelt(self, response, source: Source, window=None):
        try:
            entries = parse_gdelt(response.body)
        except PageError as exc:
            self._source_error(source, exc.kind, str(exc))  # type: ignore[attr-defined]
            return
        if window is not None and len(entries) >= self._max_records() and window[1] - window[0] > MIN_SLICE:
            start, end = window
            middle = start + (end - start) / 2
            middle = middle.replace(microsecond=0)
            logger.info("source %s: %d results (the cap) for %s..%s: split in two", source.name, len(entries), start, end)
            self.crawler.stats.inc_value("wicnews/backfill/slices_split")
            if self.backfill is not None:
                self.backfill.progress.add(1)
            yield self._window_request(source, start, middle)
            yield self._window_request(source, middle, end)
            return
        self._source_ok(source)  # type: ignore[attr-defined]
        self.crawler.stats.inc_value("wicnews/api_results", len(entries))
        if not entries and window is None:
            self.no_links(source, response.url, "the search gave no results")
        yield from self._track(source, window, list(self._article_requests(entries, source)))  # type: ignore[attr-defined]

    def no_links(self, source: Source, url: str, what: str) -> None:
        """A source that yielded no article link: a counted warning, per source too."""
        self.crawler.stats.inc_value(f"wicnews/errors/{ErrorKind.NO_LINKS}")
        self.crawler.stats.inc_value(f"wicnews/sources/{source.name}/no_links")
        logger.warning("source %s: %s (no_links) <%s>", source.name, what, url)
        self.source_warnings[source.name] = ErrorKind.NO_LINKS  # type: ignore[attr-defined]  # shown in its health

    # --- the slices of a backfill ---------------------------------------------------------
    #
    # A slice is checkpointed once everything its article requests led to is settled: each
    # request answered (or failed), and each item it gave has left the pipelines (stored and
    # committed, or dropped on purpose). A crawl killed before the store commits a slice's
    # last article, or a store that could not take it, leaves the slice unchecked, so a
    # resumed backfill asks for it again.

    def _track(self, source: Source, window, requests: list):
        """Tag a window's article requests; the window is checkpointed once all are settled."""
        if window is None:
            yield from requests
            return
        key = (source.name, *window)
        articles = [r for r in requests if isinstance(r, scrapy.Request) and r.meta.get("wicnews_article")]
        self._slices[key] = {"pending": len(articles), "results": len(requests)}
        if articles and not getattr(self, "_slice_signals", False):
            self._slice_signals = True
            for signal in (signals.item_scraped, signals.item_dropped):
                self.crawler.signals.connect(self._item_settled, signal=signal)
        for request in articles:
            request.meta["wicnews_slice"] = key
        if not articles:
            self._slice_done(key)
        yield from requests

    def _settled(self, meta: dict, result: Any = None) -> Any:
        """An article request of a slice is answered with ``result``: an item (or a request,
        the canonical page of an AMP page) that the slice now waits for instead."""
        key = meta.get("wicnews_slice")
        state = self._slices.get(key) if key else None
        if state is None:
            return result
        if isinstance(result, scrapy.Request):
            result.meta["wicnews_slice"] = key
            if result.callback == self.parse_article:  # type: ignore[attr-defined]
                result = result.replace(callback=self._parse_sliced, errback=self._sliced_failed)
            state["pending"] += 1
        elif isinstance(result, Article):
            result.backfill_slice = key
            state["pending"] += 1
        self._slice_step(key)
        return result

    def _item_settled(self, item: Any, exception: BaseException | None = None, **_kwargs: Any) -> None:
        """A signal: ``item`` left the pipelines, stored or dropped on purpose (a duplicate, not
        relevant). An item the store could not take (``StoreFailed``), or one a pipeline failed
        on (``item_error``), leaves its slice unfinished: a resumed backfill fetches it again."""
        from wicnews.pipelines.store import StoreFailed

        key = getattr(item, "backfill_slice", None)
        if key is not None and key in self._slices and not isinstance(exception, StoreFailed):
            self._slice_step(key)

    def _slice_step(self, key) -> None:
        state = self._slices[key]
        state["pending"] -= 1
        if state["pending"] <= 0:
            self._slice_done(key)

    def _slice_done(self, key) -> None:
        state = self._slices.pop(key)
        if self.backfill is not None:
            name, start, end = key
            self.backfill.slice_done(name, start, end, results=state["results"])
        self.crawler.stats.inc_value("wicnews/backfill/slices_done")

    async def _parse_sliced(self, response, **kwargs: Any) -> Any:
        """``parse_article`` of a page that a slice's article led to (an AMP page's canonical)."""
        return self._settled(response.meta, await self.parse_article(response, **kwargs))  # type: ignore[attr-defined]

    def _sliced_failed(self, failure) -> Any:
        result = self._amp_canonical_failed(failure)  # type: ignore[attr-defined]
        if failure.check(Stopped):  # the crawl is stopping: the slice stays unfinished
            return result
        return self._settled(failure.request.meta, result)

    # --- the articles of a topic source ---------------------------------------------------

    def topic_article_request(self, url: str, entry: Entry, source: Source) -> scrapy.Request:
        """The request of a topic item's article: the link's own target when it carries one."""
        if source.kind == "google_news":
            entry = dataclasses.replace(entry, title=google_news_title(entry.title, entry.outlet))
        target = encoded_target(url) if source.kind == "google_news" else None
        if target:
            self.crawler.stats.inc_value("wicnews/redirects_resolved")
        return scrapy.Request(target or url, callback=self.parse_aggregated, errback=self._aggregated_failed,
                              dont_filter=True, meta={"wicnews_article": True},
                              cb_kwargs={"source": source, "hint": entry, "link": url, "hops": 1 if target else 0})

    async def parse_aggregated(self, response, source: Source, hint: Entry, link: str, hops: int = 0):
        """An aggregator page resolved to the publisher's, or the article itself; a stub when
        it has no text."""
        at_aggregator = urlsplit(response.url).netloc == urlsplit(link).netloc
        if source.kind == "google_news" and at_aggregator and hops < MAX_HOPS and isinstance(response, TextResponse):
            target = redirect_target(response.text, response.url)
            if target:
                self.crawler.stats.inc_value("wicnews/redirects_resolved")
                meta = {k: v for k, v in response.meta.items() if k in ("wicnews_article", "wicnews_slice")}
                return scrapy.Request(target, callback=self.parse_aggregated, errback=self._aggregated_failed,
                                      dont_filter=True, meta=meta,
                                      cb_kwargs={"source": source, "hint": hint, "link": link, "hops": hops + 1})
        via = (link,) if hops else ()
        stub = self.stub(source, hint, link, response.url if not at_aggregator else None)
        result = await self.parse_article(response, source, hint, via=via, fallback=stub)  # type: ignore[attr-defined]
        return self._settled(response.meta, result)

    def _aggregated_failed(self, failure):
        """A topic item's article could not be fetched: counted, and kept as a stub. A download
        dropped because the crawl is stopping (``Stopped``) leaves its backfill slice unfinished:
        the slice is not checkpointed, so a resumed backfill asks for it again and fetches the
        article (upgrading the stub) instead of skipping it for good."""
        self._page_failed(failure)  # type: ignore[attr-defined]
        request = failure.request
        if isinstance(failure.value, AlreadySeen):
            return self._settled(request.meta)
        kwargs = request.cb_kwargs
        target = request.url if urlsplit(request.url).netloc != urlsplit(kwargs["link"]).netloc else None
        stub = self.stub(kwargs["source"], kwargs["hint"], kwargs["link"], target)
        return stub if failure.check(Stopped) else self._settled(request.meta, stub)

    def stub(self, source: Source, hint: Entry, link: str, target: str | None = None) -> Any:
        """The coverage record of a topic item without its article: judged by its title."""
        self.crawler.stats.inc_value("wicnews/stubs_made")
        return Article(url=target or link, source=source.name, text="", title=hint.title, site_name=hint.outlet,
                       published_at=hint.published_at, language=hint.language or source.language,
                       text_status="stub", requested_url=link, via=[link] if target else [])
