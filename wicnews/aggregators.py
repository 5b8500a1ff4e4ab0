"""Topic search sources (Google News search RSS, the GDELT DOC 2.0 API): their URLs, their
answers, and the redirect pages an aggregator puts between its items and the publishers.

Pure functions of strings and bytes; no network, no Scrapy.

    google_news_url("World Internet Conference", "zh")
        -> https://news.google.com/rss/search?q=...&hl=zh-CN&gl=CN&ceid=CN:zh-Hans
    gdelt_url('"Wuzhen Summit"', start, end)
        -> https://api.gdeltproject.org/api/v2/doc/doc?query=...&mode=ArtList&format=json&maxrecords=250&...
    parse_gdelt(body)             -> [Entry(url, title, outlet, language, published_at), ...]
    redirect_target(html, url)    -> the publisher URL a redirect page sends its reader to, or None
    encoded_target(url)           -> the URL an aggregator link carries in itself (``?url=...``), or None
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from wicnews.errors import ErrorKind, PageError
from wicnews.feeds import Entry
from wicnews.urls import is_http_url

GOOGLE_NEWS_API = "https://news.google.com/rss/search"
GDELT_API = "https://api.gdeltproject.org/api/v2/doc/doc"
GDELT_MAX_RECORDS = 250      # the DOC 2.0 API's cap on one ArtList answer
GOOGLE_NEWS_MAX_ITEMS = 100  # a Google News search feed lists at most this many items

# Google News editions: language code -> (hl, gl, ceid).
GOOGLE_NEWS_EDITIONS = {
    "en": ("en-US", "US", "US:en"),
    "en-GB": ("en-GB", "GB", "GB:en"),
    "zh": ("zh-CN", "CN", "CN:zh-Hans"),
    "zh-CN": ("zh-CN", "CN", "CN:zh-Hans"),
    "zh-TW": ("zh-TW", "TW", "TW:zh-Hant"),
    "zh-HK": ("zh-HK", "HK", "HK:zh-Hant"),
}

# GDELT names languages in English; the ones WIC coverage comes in, as codes.
GDELT_LANGUAGES = {
    "english": "en", "chinese": "zh", "japanese": "ja", "korean": "ko", "russian": "ru", "french": "fr",
    "german": "de", "spanish": "es", "portuguese": "pt", "arabic": "ar", "italian": "it", "vietnamese": "vi",
    "indonesian": "id", "thai": "th", "turkish": "tr", "malay": "ms", "hindi": "hi",
}

# Query parameters in which a redirect link carries its target.
TARGET_PARAMS = ("url", "u", "q", "target", "dest", "destination", "redirect", "redirect_url", "to", "link")


def google_news_url(query: str, language: str = "en", api_url: str | None = None,
                    start: datetime | None = None, end: datetime | None = None) -> str:
    """The Google News search feed of ``query`` in the edition of ``language``. A time window
    is written as the search operators ``after:`` and ``before:`` (whole days, UTC)."""
    hl, gl, ceid = GOOGLE_NEWS_EDITIONS.get(language, GOOGLE_NEWS_EDITIONS["en"])
    q = query
    if start is not None:
        q += f" after:{start.astimezone(UTC).date().isoformat()}"
    if end is not None:  # before: is exclusive of its day
        q += f" before:{(end.astimezone(UTC) + timedelta(days=1) - timedelta(microseconds=1)).date().isoformat()}"
    return f"{api_url or GOOGLE_NEWS_API}?{urlencode({'q': q, 'hl': hl, 'gl': gl, 'ceid': ceid})}"


def gdelt_time(when: datetime) -> str:
    """``YYYYMMDDHHMMSS`` in UTC, as the DOC API reads ``startdatetime``/``enddatetime``."""
    return when.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def gdelt_url(query: str, start: datetime, end: datetime, api_url: str | None = None,
              max_records: int = GDELT_MAX_RECORDS) -> str:
    """The DOC 2.0 ``ArtList`` request (JSON) for ``query`` between ``start`` and ``end``."""
    params = {"query": query, "mode": "ArtList", "format": "json", "maxrecords": str(max_records),
              "sort": "DateDesc", "startdatetime": gdelt_time(start), "enddatetime": gdelt_time(end)}
    return f"{api_url or GDELT_API}?{urlencode(params)}"


def parse_gdelt_time(value: str | None) -> datetime | None:
    """``"20241120T083000Z"`` (a ``seendate``) -> an aware UTC datetime; None when unreadable."""
    try:
        return datetime.strptime((value or "").strip(), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def parse_gdelt(body: bytes) -> list[Entry]:
    """The articles of a DOC 2.0 ``ArtList`` JSON answer as entries with their hints (title,
    outlet = the domain, language, the time GDELT saw them). ``{}`` means no results. The API
    answers a bad query with a line of plain text: ``PageError(FEED_MALFORMED)`` with it."""
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return []
    try:
        data = json.loads(text)
    except ValueError:
        raise PageError(ErrorKind.FEED_MALFORMED, f"not a GDELT JSON answer: {text.splitlines()[0][:200]!r}") from None
    if not isinstance(data, dict) or not isinstance(data.get("articles", []), list):
        raise PageError(ErrorKind.FEED_MALFORMED, "GDELT answer without an 'articles' list")
    entries = []
    for article in data.get("articles", []):
        url = article.get("url") if isinstance(article, dict) else None
        if not isinstance(url, str) or not is_http_url(url.strip()):
            continue
        language = GDELT_LANGUAGES.get(str(article.get("language") or "").strip().lower())
        entries.append(Entry(url=url.strip(), title=(article.get("title") or "").strip() or None,
                             published_at=parse_gdelt_time(article.get("seendate")), language=language,
                             outlet=(article.get("domain") or "").strip() or None))
    return entries


def google_news_title(title: str | None, outlet: str | None) -> str | None:
    """A Google News item's title without the `` - Outlet`` it appends."""
    if title and outlet and title.endswith(f" - {outlet}"):
        return title[: -len(outlet) - 3].strip() or title
    return title


def encoded_target(url: str) -> str | None:
    """The publisher URL an aggregator link carries in itself: a ``url=`` (``u=``, ``q=``...)
    query parameter holding an http(s) URL, or a Google News article id that embeds it
    (the older ``CBMi...`` ids are base64 of a record holding the URL)."""
    parts = urlsplit(url)
    for name, value in parse_qsl(parts.query):
        if name.lower() in TARGET_PARAMS and is_http_url(value.strip()):
            return value.strip()
    match = re.search(r"/(?:rss/)?articles/([A-Za-z0-9_-]{16,})", parts.path)
    if match:
        raw = match[1]
        try:
            decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        except (binascii.Error, ValueError):
            return None
        found = re.search(rb"https?://[\x21-\x7e]+", decoded)
        if found:
            return found[0].decode("ascii")
    return None


_META_REFRESH = re.compile(
    r"""<meta[^>]+http-equiv\s*=\s*["']?refresh["']?[^>]*content\s*=\s*["']\s*\d*\s*;?\s*url\s*=\s*['"]?([^"'>\s]+)""",
    re.IGNORECASE)
_META_REFRESH_REV = re.compile(
    r"""<meta[^>]+content\s*=\s*["']\s*\d*\s*;?\s*url\s*=\s*['"]?([^"'>\s]+)[^>]*http-equiv\s*=\s*["']?refresh""",
    re.IGNORECASE)
_CANONICAL = re.compile(r"""<link[^>]+rel\s*=\s*["']?canonical["']?[^>]*href\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_CANONICAL_REV = re.compile(r"""<link[^>]+href\s*=\s*["']([^"']+)["'][^>]*rel\s*=\s*["']?canonical""", re.IGNORECASE)
_SCRIPT = (
    re.compile(r"""location\s*\.\s*(?:replace|assign)\s*\(\s*["']([^"']+)["']\s*\)"""),
    re.compile(r"""(?:window\s*\.\s*|document\s*\.\s*|top\s*\.\s*)?location(?:\s*\.\s*href)?\s*=\s*["']([^"']+)["']"""),
)


def _unescape_js(value: str) -> str:
    return value.replace("\\/", "/").replace("\\u0026", "&").replace("&amp;", "&")


def redirect_target(html: str, url: str) -> str | None:
    """Where a redirect page sends its reader, in the order a browser would go: a script
    redirect (``window.location.replace("...")``, ``location.href = "..."``), a
    ``<meta http-equiv=refresh>``, then the page's ``<link rel=canonical>``. Absolute http(s)
    only; None when the page names no other URL than its own."""
    head = html[:200_000]
    candidates = [m[1] for pattern in _SCRIPT for m in pattern.finditer(head)]
    candidates += [m[1] for pattern in (_META_REFRESH, _META_REFRESH_REV, _CANONICAL, _CANONICAL_REV)
                   for m in pattern.finditer(head)]
    for candidate in candidates:
        target = urljoin(url, _unescape_js(candidate.strip()))
        if is_http_url(target) and target.split("#")[0] != url.split("#")[0]:
            return target
    return None
