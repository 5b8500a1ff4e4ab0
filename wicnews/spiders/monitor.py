"""The monitoring spider: sources (feeds, sitemaps, listing pages) -> article pages -> items.

    scrapy crawl monitor                              # the configured sources file
    scrapy crawl monitor -a sources=my-sources.toml
    scrapy crawl monitor -a feed=URL[,URL] -a sitemap=URL -a page=URL

The spider only schedules requests and turns responses into ``Article`` items with the pure
functions of ``wicnews.feeds``, ``wicnews.sitemaps`` and ``wicnews.extract``. Every per-URL
failure is logged with its URL and counted as ``wicnews/errors/<kind>``; the run goes on.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import scrapy
from scrapy.http import TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.utils.response import get_base_url

from wicnews.errors import SKIPS, ErrorKind, PageError
from wicnews.extraction import Extraction
from wicnews.failures import classify
from wicnews.feeds import Entry, parse_feed
from wicnews.sitemaps import parse_sitemap
from wicnews.sources import Source, adhoc_sources, load_sources
from wicnews.spiders.discovery import DiscoveryMixin
from wicnews.urls import (
    canonicalize_url,
    choose_canonical,
    is_http_url,
    resolve_http_url,
    url_problem,
)

logger = logging.getLogger(__name__)

MAX_SITEMAP_DEPTH = 3
# Without a link_pattern, a listing page's links that look like articles: a date in the
# path, a numeric id, or a long hyphenated slug.
DEFAULT_ARTICLE_LINK = re.compile(r"/(?:19|20)\d{2}[/-]?\d{2}|/\d{5,}|/[a-z0-9]+(?:-[a-z0-9]+){3,}|/t\d{8}_\d+", re.IGNORECASE)


def _split(value) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [v for v in re.split(r"[\s,]+", value) if v]
    return list(value)


def dated_stub(stub, page):
    """A topic item's stub whose page was refused (``no_text``) but dated: the publisher's
    own time (``page``, the refused page's ``Extracted``) replaces the aggregator's. Anything
    else is returned as it is."""
    if stub is None or getattr(stub, "text_status", None) != "stub" or getattr(page, "published_at", None) is None:
        return stub
    return dataclasses.replace(stub, published_at=page.published_at, published_offset=page.published_offset,
                               published_source=page.published_source, modified_at=page.modified_at)


class MonitorSpider(DiscoveryMixin, scrapy.Spider):
    name = "monitor"
    sources: list[Source]
    max_age_days: int
    min_text_chars: int
    max_replacement_ratio: float
    extraction: Extraction

    def __init__(self, *args, sources=None, feed=None, sitemap=None, page=None, source_list=None, backfill=None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.backfill = backfill  # a wicnews.backfill.BackfillPlan: walk its window through the topic sources
        self.sources_file = sources
        # source_list: Source objects from the library (wicnews.crawl.run_crawl); the others
        # are the `scrapy crawl monitor -a ...` arguments.
        self.adhoc = list(source_list or ()) or adhoc_sources(_split(feed), _split(sitemap), _split(page))
        self.requested: set[str] = set()
        # per source name: read, or the kind of its failure (wicnews.polling keeps its health)
        self.sources_read: set[str] = set()
        self.source_errors: dict[str, str] = {}
        self.source_warnings: dict[str, str] = {}  # read, but with a warning (no_links)

    @classmethod
    def update_settings(cls, settings):
        """Under a bare ``scrapy crawl``, ``WICNEWS_*`` environment variables apply as they
        do for ``wicnews crawl`` (see ``wicnews.config``)."""
        super().update_settings(settings)
        from wicnews.config import apply_environment, apply_redis

        apply_environment(settings)
        cls.configure_api_slot(settings)
        apply_redis(settings)  # with WICNEWS_REDIS_URL: the scrapy-redis scheduler, for this run only

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        if crawler.settings.get("WICNEWS_REDIS_URL") and not getattr(cls, "distributed", False):
            from wicnews.spiders.distributed import distributed

            return distributed(cls).from_crawler(crawler, *args, **kwargs)
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.sources = spider.adhoc or load_sources(spider.sources_file or settings.get("WICNEWS_SOURCES"))
        spider.max_age_days = settings.getint("WICNEWS_MAX_AGE_DAYS")
        spider.min_text_chars = settings.getint("WICNEWS_MIN_TEXT_CHARS")
        spider.max_replacement_ratio = settings.getfloat("WICNEWS_MAX_REPLACEMENT_RATIO")
        spider.extraction = Extraction.from_crawler(crawler)  # in worker processes (WICNEWS_EXTRACT_WORKERS)
        return spider

    # --- sources ---------------------------------------------------------------------

    async def start(self):
        if not self.sources:
            logger.warning("no enabled sources: nothing to crawl")
        callbacks = {"feed": self.parse_feed, "sitemap": self.parse_sitemap, "page": self.parse_listing}
        for source in self.sources:
            if source.is_topic:
                for request in self.topic_requests(source):
                    yield request
                continue
            problem = url_problem(source.url, self.settings.getint("URLLENGTH_LIMIT"))
            if problem:  # a bad host or port is this source's error; the others crawl
                self._source_error(source, ErrorKind.BAD_URL, problem)
                continue
            yield scrapy.Request(source.url, callback=callbacks[source.kind], errback=self.source_failed,
                                 cb_kwargs={"source": source}, meta={"wicnews_source": source.name}, dont_filter=True)

    def _source_ok(self, source: Source) -> None:
        self.crawler.stats.inc_value("wicnews/sources/ok")
        self.sources_read.add(source.name)
        logger.debug("source %s read", source.name)

    def _source_error(self, source: Source, kind: str, message: str) -> None:
        self.crawler.stats.inc_value("wicnews/sources/failed")
        self.source_errors[source.name] = kind
        self.crawler.stats.inc_value(f"wicnews/errors/{kind}")
        logger.error("source %s failed (%s): %s <%s>", source.name, kind, message, source.url)

    def source_failed(self, failure):
        request = failure.request
        source = request.cb_kwargs["source"]
        if request.cb_kwargs.get("child"):  # a child sitemap of an index: the source itself was read
            return self._page_failed(failure)
        kind = classify(failure.value)
        if kind in SKIPS:  # not modified, unchanged, backed off: counted by wicnews.polling
            return None
        self._source_error(source, kind, str(failure.value) or type(failure.value).__name__)

    def parse_feed(self, response, source: Source):
        try:
            feed = parse_feed(response.body, response.url, response.headers.get("Content-Type", b"").decode("latin-1"))
        except PageError as exc:
            self._source_error(source, exc.kind, str(exc))
            return
        if feed.flaw:
            self._count_error(ErrorKind.FEED_MALFORMED, f"broken feed, {len(feed.entries)} entries recovered: {feed.flaw}",
                              response.url)
        if feed.dropped:
            self.crawler.stats.inc_value("wicnews/feed_entries_dropped", feed.dropped)
            logger.warning("feed has more than %d entries: the %d after them were not read <%s>",
                           len(feed.entries) + feed.bad_links, feed.dropped, response.url)
        if feed.bad_links:
            self._count_error(ErrorKind.BAD_URL, f"{feed.bad_links} entries without a usable http(s) link", response.url,
                              feed.bad_links)
        entries = feed.entries
        self._source_ok(source)
        self.crawler.stats.inc_value("wicnews/feed_entries", len(entries))
        if not entries:
            self.no_links(source, response.url, "the feed has no items")
        yield from self._article_requests(entries, source)

    def parse_sitemap(self, response, source: Source, depth: int = 0, child: bool = False):
        try:
            sitemap = parse_sitemap(response.body, response.url)
        except PageError as exc:
            if child:
                self._count_error(exc.kind, str(exc), response.url)
                return
            self._source_error(source, exc.kind, str(exc))
            return
        if not child:
            self._source_ok(source)
        if sitemap.bad_locs:
            self._count_error(ErrorKind.BAD_URL, f"{sitemap.bad_locs} <loc> values that are not usable http(s) URLs",
                              response.url, sitemap.bad_locs)
        for url in sitemap.sitemaps:
            if depth >= MAX_SITEMAP_DEPTH:
                self._count_error(ErrorKind.SITEMAP_TOO_DEEP, f"sitemap nesting deeper than {MAX_SITEMAP_DEPTH}", url)
                break
            if problem := url_problem(url, self.settings.getint("URLLENGTH_LIMIT")):
                self._count_error(ErrorKind.BAD_URL, problem, url)
                continue
            yield scrapy.Request(url, callback=self.parse_sitemap, errback=self.source_failed,
                                 cb_kwargs={"source": source, "depth": depth + 1, "child": True})
        self.crawler.stats.inc_value("wicnews/sitemap_entries", len(sitemap.entries))
        if not sitemap.entries and not sitemap.sitemaps:
            self.no_links(source, response.url, "the sitemap lists no URLs")
        yield from self._article_requests(sitemap.entries, source)

    def parse_listing(self, response, source: Source):
        """A listing page's article links, through Scrapy's ``LinkExtractor`` (``<base href>``
        honoured): those matching the source's ``link_pattern``, else those on the page's own
        host that look like articles (``DEFAULT_ARTICLE_LINK``). A malformed href is counted
        as ``bad_url``; the other links are still followed."""
        if not isinstance(response, TextResponse):
            self._source_error(source, ErrorKind.NOT_HTML, "listing page is not HTML")
            return
        base = get_base_url(response)
        for href in response.xpath("//a/@href").getall():  # LinkExtractor drops these silently
            try:
                resolve_http_url(base, href)
            except ValueError as exc:
                self._count_error(ErrorKind.BAD_URL, str(exc), href)
        pattern = re.compile(source.link_pattern) if source.link_pattern else DEFAULT_ARTICLE_LINK
        extractor = LinkExtractor(allow=pattern, tags=("a",), attrs=("href",), deny_extensions=(), unique=False)
        host = urlsplit(response.url).hostname
        entries, seen = [], set()
        for link in extractor.extract_links(response):
            url = link.url
            if not is_http_url(url) or url in seen:
                continue
            if not source.link_pattern and urlsplit(url).hostname != host:
                continue
            seen.add(url)
            entries.append(Entry(url=url))
        self._source_ok(source)
        self.crawler.stats.inc_value("wicnews/listing_links", len(entries))
        if not entries:
            self.no_links(source, response.url, "the listing page has no article links")
        yield from self._article_requests(entries, source)

    # --- articles ---------------------------------------------------------------------

    def _article_requests(self, entries: list[Entry], source: Source):
        max_age = source.max_age_days if source.max_age_days is not None else self.max_age_days
        oldest = datetime.now(UTC) - timedelta(days=max_age) if max_age else None
        for entry in entries:
            when = entry.published_at or entry.updated_at
            if oldest and when and when < oldest:
                self._count_skip(ErrorKind.TOO_OLD)
                continue
            try:
                url = canonicalize_url(entry.url)
            except ValueError as exc:  # e.g. "http://[x": one bad link must not end the source
                self._count_error(ErrorKind.BAD_URL, str(exc), entry.url)
                continue
            if not self._claim(url):
                self._count_skip(ErrorKind.REQUESTED_TWICE)
                continue
            if source.is_topic:
                yield self.topic_article_request(url, entry, source)
                continue
            # dont_filter: this spider dedupes article URLs itself (above), so that the
            # scheduler's filter cannot silently swallow a redirect loop; the loop then ends
            # at REDIRECT_MAX_TIMES and is counted as redirect_loop.
            yield scrapy.Request(url, callback=self.parse_article, errback=self._page_failed, dont_filter=True,
                                 cb_kwargs={"source": source, "hint": entry}, meta={"wicnews_article": True})

    async def parse_article(self, response, source: Source, hint: Entry, via: tuple[str, ...] = (),
                            fallback=None):
        """An article page -> ``Article``. An AMP page resolves to its canonical page, which is
        fetched instead; should that fail, the AMP page's own article (``fallback``) is kept."""
        headers = {k.decode("latin-1").lower(): b", ".join(v).decode("latin-1") for k, v in response.headers.items()}
        try:
            page, article = await self.extraction.prepare(
                response.body, response.url, headers,
                options={"default_tz": ZoneInfo(source.timezone) if source.timezone else None,
                         "min_text_chars": self.min_text_chars, "max_replacement_ratio": self.max_replacement_ratio,
                         "syndication": self.settings.getdict("WICNEWS_SYNDICATION")},
                source=source, hint=hint, via=via, requested_url=response.request.meta.get("redirect_urls", [response.url])[0])
        except PageError as exc:
            self._count_error(exc.kind, str(exc), response.url)
            return dated_stub(fallback, exc.extracted)
        except Exception:  # a bug in extraction must not end the run
            logger.exception("extraction crashed on <%s>", response.url)
            self._count_error(ErrorKind.EXTRACT_FAILED, "extraction crashed", response.url)
            return fallback
        if page.replaced_chars:  # stored all the same, but counted: the source sends broken bytes
            self._count_error(ErrorKind.ENCODING_REPLACED,
                              f"{page.replaced_chars} undecodable byte(s) replaced ({page.encoding})", response.url)
        if page.canonical_claim:  # stored under its own URL; the claim is logged and counted
            self._count_error(ErrorKind.CANONICAL_UNTRUSTED, f"canonical link to another site not trusted: "
                              f"{page.canonical_claim}", response.url)
        self.crawler.stats.inc_value("wicnews/articles_extracted")
        # kept in raw_pages (compressed in the extraction worker)
        article.raw = {"url": response.url, "headers": headers, **(article.raw or {"body": response.body})}
        canonical = choose_canonical(response.url, page.canonical_url)  # http(s) only, sane
        if page.is_amp and not via and canonical != canonicalize_url(response.url) and self._claim(canonical):
            self.crawler.stats.inc_value("wicnews/amp_resolved")
            # should the canonical page fail, the AMP page stands for itself (not for a dead link)
            fallback = dataclasses.replace(article, canonical_url=response.url)
            return scrapy.Request(canonical, callback=self.parse_article, errback=self._amp_canonical_failed,
                                  dont_filter=True, meta={"wicnews_article": True, "wicnews_amp": response.url},
                                  cb_kwargs={"source": source, "hint": hint, "via": (response.url,), "fallback": fallback})
        if amp := response.meta.get("wicnews_amp"):
            # the AMP page that led here is a copy of this article, counted as one whichever of
            # the two was asked for first (the canonical page first: the store drops the AMP page)
            self.crawler.stats.inc_value("wicnews/duplicates")
            logger.info("AMP page <%s>: a copy of <%s>, stored from there", amp, response.url)
        return article

    def _claim(self, url: str) -> bool:
        """True the first time ``url`` is asked for in this crawl (a distributed crawl claims
        it in the fingerprint set that the workers share)."""
        if url in self.requested:
            return False
        self.requested.add(url)
        return True

    def _amp_canonical_failed(self, failure):
        """The canonical page of an AMP page could not be had: keep the AMP page's article."""
        self._page_failed(failure)
        return failure.request.cb_kwargs["fallback"]

    def _count_skip(self, kind: ErrorKind) -> None:
        self.crawler.stats.inc_value(f"wicnews/skipped/{kind}")

    def _count_error(self, kind: str, message: str, url: str, count: int = 1) -> None:
        bucket = "skipped" if kind in SKIPS else "errors"
        self.crawler.stats.inc_value(f"wicnews/{bucket}/{kind}", count)
        log = logger.info if bucket == "skipped" else logger.warning
        log("%s %s: %s <%s>", "skipped" if bucket == "skipped" else "error", kind, message, url)

    def _page_failed(self, failure):
        exc = failure.value
        self._count_error(classify(exc), str(exc) or type(exc).__name__, failure.request.url)
