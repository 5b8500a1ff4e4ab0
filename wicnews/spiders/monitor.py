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
from datetime import datetime, timedelta, timezone
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import scrapy
from scrapy.http import TextResponse

from wicnews.pipelines.normalise import canonicalize_url, choose_canonical
from wicnews.errors import PageError
from wicnews.extract import extract_article
from wicnews.failures import SKIPS, classify
from wicnews.feeds import Entry, parse_feed
from wicnews.items import Article
from wicnews.sitemaps import parse_sitemap
from wicnews.sources import Source, adhoc_sources, load_sources

logger = logging.getLogger(__name__)

MAX_SITEMAP_DEPTH = 3
# Without a link_pattern, a listing page's links that look like articles: a date in the
# path, a numeric id, or a long hyphenated slug.
DEFAULT_ARTICLE_LINK = re.compile(r"/(?:19|20)\d{2}[/-]?\d{2}|/\d{5,}|/[a-z0-9]+(?:-[a-z0-9]+){3,}|/t\d{8}_\d+", re.I)


def best_published(page: datetime | None, precision: str | None, hint: datetime | None) -> datetime | None:
    """The publication instant from the page's (``precision`` as in ``published_time``) and
    the feed's or sitemap's (``hint``, only when it stated its zone). A page instant wins.
    A page's local time yields to the hint when they are the same wall-clock time (they
    differ by a whole UTC offset); a page's bare date yields to a hint on that day."""
    if page is None or hint is None or precision == "zone":
        return page or hint
    if precision == "local" and _same_wall_clock(page, hint):
        return hint
    if precision == "date" and abs((hint - page).total_seconds()) <= 36 * 3600:
        return hint
    return page


def _hint_time(hint: Entry, source: Source) -> datetime | None:
    """The entry's publication instant, if it can be trusted as one: it stated its zone, or
    the source names the zone its feed writes local times in."""
    if hint.published_at is None or hint.published_zone_stated:
        return hint.published_at
    if source.timezone:  # read as UTC: the same wall clock in the source's zone
        return hint.published_at.replace(tzinfo=ZoneInfo(source.timezone)).astimezone(timezone.utc)
    return None


def _same_wall_clock(a: datetime, b: datetime) -> bool:
    seconds = (a - b).total_seconds()
    return abs(seconds) <= 14 * 3600 and seconds % 900 == 0


def _split(value) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [v for v in re.split(r"[\s,]+", value) if v]
    return list(value)


class MonitorSpider(scrapy.Spider):
    name = "monitor"

    def __init__(self, *args, sources=None, feed=None, sitemap=None, page=None, source_list=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.sources_file = sources
        # source_list: Source objects from the library (wicnews.crawl.run_crawl); the others
        # are the `scrapy crawl monitor -a ...` arguments.
        self.adhoc = list(source_list or ()) or adhoc_sources(_split(feed), _split(sitemap), _split(page))
        self.requested: set[str] = set()

    @classmethod
    def update_settings(cls, settings):
        """Under a bare ``scrapy crawl``, ``WICNEWS_*`` environment variables apply as they
        do for ``wicnews crawl`` (see ``wicnews.config``)."""
        super().update_settings(settings)
        from wicnews.config import apply_environment

        apply_environment(settings)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.sources = spider.adhoc or load_sources(spider.sources_file or settings.get("WICNEWS_SOURCES"))
        spider.max_age_days = settings.getint("WICNEWS_MAX_AGE_DAYS")
        spider.min_text_chars = settings.getint("WICNEWS_MIN_TEXT_CHARS")
        spider.max_replacement_ratio = settings.getfloat("WICNEWS_MAX_REPLACEMENT_RATIO")
        return spider

    # --- sources ---------------------------------------------------------------------

    async def start(self):
        if not self.sources:
            logger.warning("no enabled sources: nothing to crawl")
        callbacks = {"feed": self.parse_feed, "sitemap": self.parse_sitemap, "page": self.parse_listing}
        for source in self.sources:
            yield scrapy.Request(source.url, callback=callbacks[source.kind], errback=self.source_failed,
                                 cb_kwargs={"source": source}, meta={"wicnews_source": source.name}, dont_filter=True)

    def _source_ok(self, source: Source) -> None:
        self.crawler.stats.inc_value("wicnews/sources/ok")
        logger.debug("source %s read", source.name)

    def _source_error(self, source: Source, kind: str, message: str) -> None:
        self.crawler.stats.inc_value("wicnews/sources/failed")
        self.crawler.stats.inc_value(f"wicnews/errors/{kind}")
        logger.error("source %s failed (%s): %s <%s>", source.name, kind, message, source.url)

    def source_failed(self, failure):
        request = failure.request
        source = request.cb_kwargs["source"]
        if request.cb_kwargs.get("child"):  # a child sitemap of an index: the source itself was read
            return self._page_failed(failure)
        self._source_error(source, classify(failure.value), str(failure.value) or type(failure.value).__name__)

    def parse_feed(self, response, source: Source):
        try:
            feed = parse_feed(response.body, response.url, response.headers.get("Content-Type", b"").decode("latin-1"))
        except PageError as exc:
            self._source_error(source, exc.kind, str(exc))
            return
        if feed.flaw:
            self._count_error("feed_malformed", f"broken feed, {len(feed.entries)} entries recovered: {feed.flaw}",
                              response.url)
        if feed.bad_links:
            self._count_error("bad_url", f"{feed.bad_links} entries without a usable http(s) link", response.url,
                              feed.bad_links)
        entries = feed.entries
        self._source_ok(source)
        self.crawler.stats.inc_value("wicnews/feed_entries", len(entries))
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
            self._count_error("bad_url", f"{sitemap.bad_locs} <loc> values that are not usable http(s) URLs",
                              response.url, sitemap.bad_locs)
        for url in sitemap.sitemaps:
            if depth >= MAX_SITEMAP_DEPTH:
                self._count_error("sitemap_too_deep", f"sitemap nesting deeper than {MAX_SITEMAP_DEPTH}", url)
                break
            yield scrapy.Request(url, callback=self.parse_sitemap, errback=self.source_failed,
                                 cb_kwargs={"source": source, "depth": depth + 1, "child": True})
        self.crawler.stats.inc_value("wicnews/sitemap_entries", len(sitemap.entries))
        yield from self._article_requests(sitemap.entries, source)

    def parse_listing(self, response, source: Source):
        if not isinstance(response, TextResponse):
            self._source_error(source, "not_html", "listing page is not HTML")
            return
        pattern = re.compile(source.link_pattern) if source.link_pattern else DEFAULT_ARTICLE_LINK
        host = urlsplit(response.url).hostname
        entries, seen = [], set()
        for href in response.css("a::attr(href)").getall():
            try:
                url = urljoin(response.url, href.strip())
                if not url.startswith(("http://", "https://")) or url in seen:
                    continue
                if not source.link_pattern and urlsplit(url).hostname != host:
                    continue
            except ValueError as exc:
                self._count_error("bad_url", str(exc), href)
                continue
            if pattern.search(url):
                seen.add(url)
                entries.append(Entry(url=url))
        self._source_ok(source)
        self.crawler.stats.inc_value("wicnews/listing_links", len(entries))
        yield from self._article_requests(entries, source)

    # --- articles ---------------------------------------------------------------------

    def _article_requests(self, entries: list[Entry], source: Source):
        max_age = source.max_age_days if source.max_age_days is not None else self.max_age_days
        oldest = datetime.now(timezone.utc) - timedelta(days=max_age) if max_age else None
        for entry in entries:
            when = entry.published_at or entry.updated_at
            if oldest and when and when < oldest:
                self.crawler.stats.inc_value("wicnews/skipped/too_old")
                continue
            try:
                url = canonicalize_url(entry.url)
            except ValueError as exc:  # e.g. "http://[x": one bad link must not end the source
                self._count_error("bad_url", str(exc), entry.url)
                continue
            if url in self.requested:
                self.crawler.stats.inc_value("wicnews/skipped/requested_twice")
                continue
            self.requested.add(url)
            # dont_filter: this spider dedupes article URLs itself (above), so that the
            # scheduler's filter cannot silently swallow a redirect loop; the loop then ends
            # at REDIRECT_MAX_TIMES and is counted as redirect_loop.
            yield scrapy.Request(url, callback=self.parse_article, errback=self._page_failed, dont_filter=True,
                                 cb_kwargs={"source": source, "hint": entry}, meta={"wicnews_article": True})

    def parse_article(self, response, source: Source, hint: Entry, via: tuple[str, ...] = (),
                      fallback: Article | None = None):
        """An article page -> ``Article``. An AMP page resolves to its canonical page, which is
        fetched instead; should that fail, the AMP page's own article (``fallback``) is kept."""
        headers = {k.decode("latin-1").lower(): b", ".join(v).decode("latin-1") for k, v in response.headers.items()}
        try:
            page = extract_article(
                response.body, response.url, headers,
                default_tz=ZoneInfo(source.timezone) if source.timezone else None,
                min_text_chars=self.min_text_chars, max_replacement_ratio=self.max_replacement_ratio,
            )
        except PageError as exc:
            self._count_error(exc.kind, str(exc), response.url)
            return fallback
        except Exception:  # a bug in extraction must not end the run
            logger.exception("extraction crashed on <%s>", response.url)
            self._count_error("extract_failed", "extraction crashed", response.url)
            return fallback
        if page.replaced_chars:  # stored all the same, but counted: the source sends broken bytes
            self._count_error("encoding_replaced", f"{page.replaced_chars} undecodable byte(s) replaced ({page.encoding})",
                              response.url)
        self.crawler.stats.inc_value("wicnews/articles_extracted")
        article = Article(
            url=response.url,
            source=source.name,
            text=page.text,
            title=page.title or hint.title,
            canonical_url=page.canonical_url,
            authors=page.authors or hint.authors,
            published_at=best_published(page.published_at, page.published_precision, _hint_time(hint, source))
            or hint.published_at,
            site_name=page.site_name,
            language=page.language or hint.language or source.language,
            description=page.description or hint.summary,
            image=page.image,
            tags=page.tags,
            requested_url=response.request.meta.get("redirect_urls", [response.url])[0],
            via=list(via),
        )
        canonical = choose_canonical(response.url, page.canonical_url)  # http(s) only, sane
        if page.is_amp and not via and canonical != canonicalize_url(response.url) and canonical not in self.requested:
            self.requested.add(canonical)
            self.crawler.stats.inc_value("wicnews/amp_resolved")
            # should the canonical page fail, the AMP page stands for itself (not for a dead link)
            fallback = dataclasses.replace(article, canonical_url=response.url)
            return scrapy.Request(canonical, callback=self.parse_article, errback=self._amp_canonical_failed,
                                  dont_filter=True, meta={"wicnews_article": True},
                                  cb_kwargs={"source": source, "hint": hint, "via": (response.url,), "fallback": fallback})
        return article

    def _amp_canonical_failed(self, failure):
        """The canonical page of an AMP page could not be had: keep the AMP page's article."""
        self._page_failed(failure)
        return failure.request.cb_kwargs["fallback"]

    def _count_error(self, kind: str, message: str, url: str, count: int = 1) -> None:
        bucket = "skipped" if kind in SKIPS else "errors"
        self.crawler.stats.inc_value(f"wicnews/{bucket}/{kind}", count)
        log = logger.info if bucket == "skipped" else logger.warning
        log("%s %s: %s <%s>", "skipped" if bucket == "skipped" else "error", kind, message, url)

    def _page_failed(self, failure):
        exc = failure.value
        self._count_error(classify(exc), str(exc) or type(exc).__name__, failure.request.url)
