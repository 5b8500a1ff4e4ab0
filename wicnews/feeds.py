"""Feed parsing: RSS 2.0, RSS 1.0 (RDF) and Atom bytes -> entries with article links.

feedparser is only ever given the bytes (``io.BytesIO``): given a string it would fetch URLs
or open local files by itself.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import feedparser
import lxml.html

from wicnews.dates import parse_time
from wicnews.errors import ErrorKind, PageError
from wicnews.urls import resolve_http_url

# A feed larger than this is not a news feed (feedparser holds it all in memory).
MAX_FEED_BYTES = 20 * 1024 * 1024
# Entries read from one feed (newest first in any real feed): a feed of 100,000 entries would
# hold the crawl for a minute in feedparser; the rest are dropped (``Feed.dropped``).
MAX_FEED_ENTRIES = 2000


@dataclass
class Entry:
    """One item of a feed or sitemap: the article URL and the hints that travel with it."""

    url: str
    title: str | None = None
    published_at: datetime | None = None
    published_zone_stated: bool = True  # False: written without a zone, read as UTC
    published_offset: int | None = None  # minutes east of UTC of the zone the feed stated, if it did
    updated_at: datetime | None = None   # last modification (feed <updated>, sitemap <lastmod>)
    authors: list[str] = field(default_factory=list)
    summary: str | None = None
    language: str | None = None
    outlet: str | None = None            # the publisher's name (a Google News <source>, a GDELT domain)


_EMAIL = re.compile(r"\S+@\S+")


def language_code(value: str | None) -> str | None:
    """``"zh-CN"`` -> ``"zh"``; anything that is not a language code -> None."""
    code = re.split(r"[-_]", (value or "").strip().lower())[0]
    return code if re.fullmatch(r"[a-z]{2,3}", code) else None


def _authors(item) -> list[str]:
    """Author names of an entry. RSS ``<author>`` holds "email (Name)"; feedparser's own
    split of that breaks on long top-level domains, so the raw value is read here."""
    raw = [a.get("name") or "" for a in item.get("authors", [])] if "author_detail" not in item or \
        item.get("author_detail", {}).get("email") is None else []
    if item.get("author"):
        raw = [item["author"]] if not raw or "@" in item["author"] else raw
    names: list[str] = []
    for value in raw:
        inner = re.search(r"\(([^()]+)\)", value)
        value = inner[1] if inner and "@" in value else _EMAIL.sub("", value)
        names.extend(n.strip() for n in re.split(r",|\band\b|;", value) if n.strip())
    return list(dict.fromkeys(names))


def _entry_time(entry, *keys: str) -> tuple[datetime | None, bool, int | None]:
    """``(when, zone_stated, offset)`` of the first of these entry dates that reads; a date
    written without a zone is read as UTC and reported as such (offset None); ``offset``: the
    stated zone's minutes east of UTC."""
    for key in keys:
        # dict.get: FeedParserDict.get("updated") would fall back to "published", with a warning
        raw, parsed = dict.get(entry, key), dict.get(entry, f"{key}_parsed")
        when = parse_time(raw) if isinstance(raw, str) else None
        if when is not None:
            offset = when.value.utcoffset() if when.zone_stated else None
            return when.instant(), when.zone_stated, None if offset is None else int(offset.total_seconds() // 60)
        if parsed:  # a form only feedparser reads (its struct is in UTC; the zone it stated is lost)
            year, month, day, hour, minute, second = tuple(parsed)[:6]
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC), True, None
    return None, True, None


def _plain(summary: str | None) -> str | None:
    """A feed summary as plain text (feeds carry HTML there)."""
    if not summary or "<" not in summary:
        return summary
    try:
        return " ".join(lxml.html.fromstring(summary).text_content().split()) or None
    except (lxml.etree.ParserError, ValueError):
        return None


@dataclass
class Feed:
    """A parsed feed: its entries, and ``flaw`` when the XML was broken but entries could
    still be recovered (the caller counts it as ``feed_malformed`` and uses the entries)."""

    entries: list[Entry]
    flaw: str | None = None
    bad_links: int = 0  # entries whose link is missing, malformed or not http(s)
    dropped: int = 0  # entries past MAX_FEED_ENTRIES, not read


def _xml_flaw(parsed) -> str | None:
    exc = parsed.get("bozo_exception")
    # feedparser also sets bozo for harmless things (charset override, no XML content type)
    if parsed.get("bozo") and exc is not None and not isinstance(exc, feedparser.ThingsNobodyCaresAboutButMe):
        return str(exc) or type(exc).__name__
    return None


def _trim(body: bytes, limit: int = MAX_FEED_ENTRIES) -> tuple[bytes, int]:
    """The feed with at most ``limit`` entries (lxml: fast, no entities, no network), and how
    many were dropped; a feed lxml cannot read whole is left to feedparser as it is."""
    if body.count(b"<item") + body.count(b"<entry") <= limit:
        return body, 0
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError:
        return body, 0
    entries = [el for el in root.iter() if isinstance(el.tag, str) and etree.QName(el).localname in ("item", "entry")]
    for el in entries[limit:]:
        el.getparent().remove(el)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8"), max(0, len(entries) - limit)


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> Feed:
    """Entries of a feed with absolute http(s) links. Raises ``PageError(ErrorKind.FEED_MALFORMED)``
    when the bytes hold no usable feed; a broken feed whose entries can be recovered yields
    them with ``flaw`` set."""
    if not body.strip():
        raise PageError(ErrorKind.FEED_MALFORMED, "empty feed")
    if len(body) > MAX_FEED_BYTES:
        raise PageError(ErrorKind.FEED_MALFORMED, f"feed of {len(body)} bytes is too large")
    body, dropped = _trim(body)
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    # no content-location: feedparser would resolve links itself and blank the malformed ones
    headers.pop("content-location")
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers, sanitize_html=False, resolve_relative_uris=False)
    if not parsed.entries:
        reason = parsed.get("bozo_exception") or "no entries"
        if parsed.get("bozo") or not parsed.get("version"):
            raise PageError(ErrorKind.FEED_MALFORMED, f"not a readable feed: {reason}")
        return Feed([])
    language = language_code(parsed.feed.get("language"))
    entries, bad_links = [], 0
    for item in parsed.entries:
        link = item.get("feedburner_origlink") or item.get("link")
        if not link:
            links = [ln.get("href") for ln in item.get("links", []) if ln.get("rel", "alternate") == "alternate"]
            link = links[0] if links else item.get("id")
        try:
            link = resolve_http_url(url, link)
        except ValueError:  # e.g. "http://[broken"
            link = None
        if link is None:
            bad_links += 1
            continue
        authors = _authors(item)
        # RSS 1.0's dc:date arrives as "updated": with no publication date, it stands in
        published, stated, offset = _entry_time(item, "published", "created", "updated")
        entries.append(Entry(url=link, title=item.get("title"), published_at=published, published_zone_stated=stated,
                             published_offset=offset,
                             updated_at=_entry_time(item, "updated")[0], authors=authors,
                             summary=_plain(item.get("summary")), language=language,
                             outlet=(item.get("source") or {}).get("title") or None))
    return Feed(entries, _xml_flaw(parsed), bad_links, dropped)
