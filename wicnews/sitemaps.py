"""Sitemap parsing: urlset and sitemap index, plain or gzip, with the Google News extension.

The XML parser never resolves entities, never touches the network and refuses huge trees.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

from lxml import etree
from scrapy.utils.gz import gunzip

from wicnews.dates import parse_datetime, parse_time
from wicnews.errors import ErrorKind, PageError
from wicnews.feeds import Entry, language_code
from wicnews.urls import resolve_http_url

NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps.org limit, uncompressed


@dataclass
class Sitemap:
    """A parsed sitemap: article entries (urlset) or child sitemap URLs (index)."""

    kind: str  # "urlset" or "sitemapindex"
    entries: list[Entry] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    bad_locs: int = 0  # <loc> values that are malformed or not http(s)


def _local(tag) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _child_text(el, name: str, ns: str | None = None) -> str | None:
    for child in el:
        if _local(child.tag) == name and (ns is None or etree.QName(child.tag).namespace == ns):
            return (child.text or "").strip() or None
    return None


def parse_sitemap(body: bytes, url: str) -> Sitemap:
    """Parse sitemap bytes (gunzipped first when they are gzip). Raises
    ``PageError(ErrorKind.SITEMAP_MALFORMED)`` when they are not a sitemap."""
    if body[:2] == b"\x1f\x8b":
        try:
            body = gunzip(body, max_size=MAX_SITEMAP_BYTES)
        except (OSError, EOFError, ValueError, zlib.error) as exc:
            raise PageError(ErrorKind.SITEMAP_MALFORMED, f"bad gzip sitemap: {exc}") from exc
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False, remove_comments=True)
    try:
        root = etree.fromstring(body.strip(), parser=parser)
    except etree.XMLSyntaxError as exc:
        raise PageError(ErrorKind.SITEMAP_MALFORMED, f"not XML: {exc}") from exc
    if root is None or _local(root.tag) not in ("urlset", "sitemapindex"):
        raise PageError(ErrorKind.SITEMAP_MALFORMED, "neither <urlset> nor <sitemapindex>")
    kind = _local(root.tag)
    result = Sitemap(kind=kind)
    for node in root:
        try:
            loc = resolve_http_url(url, _child_text(node, "loc"))
        except ValueError:  # e.g. "http://[broken"
            loc = None
        if loc is None:
            result.bad_locs += 1
            continue
        if kind == "sitemapindex":
            result.sitemaps.append(loc)
            continue
        entry = Entry(url=loc, updated_at=parse_datetime(_child_text(node, "lastmod")))
        for news in node:
            if _local(news.tag) == "news" and etree.QName(news.tag).namespace == NEWS_NS:
                entry.title = _child_text(news, "title", NEWS_NS)
                published = parse_time(_child_text(news, "publication_date", NEWS_NS))
                if published is not None:  # a naive time is read as UTC, and flagged as such
                    entry.published_at, entry.published_zone_stated = published.instant(), published.zone_stated
                for pub in news:
                    if _local(pub.tag) == "publication":
                        entry.language = language_code(_child_text(pub, "language", NEWS_NS))
        result.entries.append(entry)
    return result
