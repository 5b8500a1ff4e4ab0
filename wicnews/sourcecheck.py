"""``wicnews sources check``: fetch each source once and report what it yields.

For a maintainer before a summit: which sources still answer, how many article links each
gives, and how recent its newest item is. One Scrapy crawl (robots.txt, timeouts and the
user agent of the crawler); articles are not fetched and nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wicnews.sources import Source


# A sitemap index's children fetched by the check: enough to tell a live index from an empty one.
MAX_CHILD_SITEMAPS = 5


@dataclass
class SourceReport:
    name: str
    kind: str
    url: str
    status: str = "not fetched"   # ok, no_links, or an ErrorKind
    links: int = 0
    sitemaps: int = 0               # child sitemaps of a sitemap index (fetched, up to MAX_CHILD_SITEMAPS)
    newest: datetime | None = None
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def entries_of(source: Source, body: bytes, url: str, content_type: str, response: Any = None,
               children: list[str] | None = None) -> list:
    """The article entries a source's answer holds, by the parsers of the crawl
    (``PageError`` when it holds none that can be read). A sitemap index's child sitemaps
    are not article links: they go to ``children`` when given."""
    from wicnews.aggregators import parse_gdelt
    from wicnews.feeds import Entry, parse_feed
    from wicnews.sitemaps import parse_sitemap

    if source.kind in ("feed", "google_news"):
        return parse_feed(body, url, content_type).entries
    if source.kind == "gdelt":
        return parse_gdelt(body)
    if source.kind == "sitemap":
        sitemap = parse_sitemap(body, url)
        if children is not None:
            children.extend(sitemap.sitemaps)
        return sitemap.entries
    import re

    from scrapy.linkextractors import LinkExtractor

    from wicnews.spiders.monitor import DEFAULT_ARTICLE_LINK

    pattern = re.compile(source.link_pattern) if source.link_pattern else DEFAULT_ARTICLE_LINK
    links = {link.url for link in LinkExtractor(allow=pattern, tags=("a",), attrs=("href",), deny_extensions=())
             .extract_links(response)}
    return [Entry(url=u) for u in sorted(links)]


def check_sources(sources: list[Source], settings: Any) -> list[SourceReport]:
    """One request per source; a report for each, in the order given."""
    import scrapy
    from scrapy.crawler import CrawlerProcess
    from scrapy.http import TextResponse

    from wicnews.aggregators import gdelt_url
    from wicnews.errors import ErrorKind, PageError
    from wicnews.failures import classify
    from wicnews.fetch import quiet_fetch_settings

    reports = {s.name: SourceReport(s.name, s.kind, s.url) for s in sources}
    quiet_fetch_settings(settings)

    class SourceCheck(scrapy.Spider):
        name = "sources-check"

        async def start(self):
            for source in sources:
                url = source.url
                if source.kind == "gdelt":
                    end = datetime.now(UTC).replace(microsecond=0)
                    url = gdelt_url(source.query or "", end - timedelta(days=7), end, source.api_url)
                reports[source.name].url = url
                yield scrapy.Request(url, callback=self.got, errback=self.failed, dont_filter=True,
                                     cb_kwargs={"source": source})

        def got(self, response, source, child=False):
            report = reports[source.name]
            if source.kind == "page" and not isinstance(response, TextResponse):
                report.status, report.note = ErrorKind.NOT_HTML, "the listing page is not HTML"
                return
            children: list[str] = []
            try:
                entries = entries_of(source, response.body, response.url,
                                     response.headers.get("Content-Type", b"").decode("latin-1"), response,
                                     children=None if child else children)
            except PageError as exc:
                if not child:
                    report.status, report.note = exc.kind, str(exc)
                return
            report.links += len(entries)
            times = [t for e in entries if (t := e.published_at or e.updated_at)]
            if times:
                report.newest = max([*times, report.newest] if report.newest else times)
            report.status = "ok" if report.links else ErrorKind.NO_LINKS
            if children:  # a sitemap index: its links are in its children (a few are fetched)
                report.sitemaps = len(children)
                report.note = f"{len(children)} sitemaps"
                for url in children[:MAX_CHILD_SITEMAPS]:
                    yield scrapy.Request(url, callback=self.got, errback=self.failed, dont_filter=True,
                                         cb_kwargs={"source": source, "child": True})

        def failed(self, failure):
            report = reports[failure.request.cb_kwargs["source"].name]
            if failure.request.cb_kwargs.get("child"):  # a child sitemap: the index itself answered
                report.note += f"; a child failed: {classify(failure.value)}"
                return
            report.status, report.note = classify(failure.value), str(failure.value) or type(failure.value).__name__

    process = CrawlerProcess(settings)
    process.crawl(SourceCheck)
    process.start()
    return list(reports.values())


def report_lines(reports: list[SourceReport], now: datetime | None = None) -> list[str]:
    """The table ``sources check`` prints."""
    now = now or datetime.now(UTC)
    rows = [("source", "kind", "status", "links", "newest item", "note")]
    for r in reports:
        age = f"{r.newest:%Y-%m-%d %H:%M} ({(now - r.newest).days}d ago)" if r.newest else "-"
        rows.append((r.name, r.kind, str(r.status), str(r.links), age, r.note[:80]))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
