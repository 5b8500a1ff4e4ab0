"""From a page to an article item, by the same pure steps in the crawl and in ``wicnews extract``:

    extract_article (bytes -> Extracted)  ->  item_from_page (+ feed hints)  ->  prepare_item
    (normalise, relevance, keys: what the item pipelines run before the store)
"""

from __future__ import annotations

import functools
import gzip
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wicnews.errors import ConfigError, ErrorKind, PageError
from wicnews.items import Article
from wicnews.page_fields import PAGE_ROLES

if TYPE_CHECKING:
    from wicnews.feeds import Entry
    from wicnews.page import Extracted
    from wicnews.sources import Source
    from wicnews.topic import Topic

# A saved page, once decompressed, is no larger than a crawled one may be.
MAX_PAGE_BYTES = 32 * 1024 * 1024


def item_from_page(page: Extracted, url: str, source: Source | None = None, hint: Entry | None = None,
                   requested_url: str | None = None, via: Iterable[str] = ()) -> Any:
    """The article item of an extracted page: every page column the extractor gives, with
    the feed's or sitemap's ``hint`` filling what the page lacks."""
    from wicnews.dates import best_published, trusted_hint

    values = {name: getattr(page, name) for name in PAGE_ROLES if hasattr(page, name)}
    if hint is not None:
        values["title"] = page.title or hint.title
        values["authors"] = page.authors or hint.authors
        values["description"] = page.description or hint.summary
        values["language"] = page.language or hint.language
        values["site_name"] = page.site_name or hint.outlet
        when = best_published(page.published_at, page.published_precision,
                              trusted_hint(hint.published_at, hint.published_zone_stated,
                                           source.timezone if source else None)) or hint.published_at
        if when is not None and when != page.published_at:  # the feed's or sitemap's time won
            values.update(published_source="feed", published_at=when)
            offset = _hint_offset(hint, when, source)
            if offset is not None or page.published_at is None:
                values["published_offset"] = offset
    if source is not None:
        values["language"] = values.get("language") or source.language
    values.update(url=url, source=source.name if source else "extract", requested_url=requested_url or url,
                  via=list(via))
    return Article(**values)


def _hint_offset(hint: Entry, when: Any, source: Source | None) -> int | None:
    """Minutes east of UTC of the zone a feed's time ``when`` was written in: the zone the
    feed stated, else the source's zone, else unknown (None)."""
    if hint.published_zone_stated:
        return hint.published_offset if when == hint.published_at else None
    if source is not None and source.timezone:
        from zoneinfo import ZoneInfo

        offset = when.astimezone(ZoneInfo(source.timezone)).utcoffset()
        return int(offset.total_seconds() // 60) if offset is not None else None
    return None


def prepare_item(item: Any, topic: Topic | None = None) -> Any:
    """What the crawl's item pipelines do before the store, by the same functions: normalise,
    judge relevance (against ``topic``, default the bundled profile), compute the dedupe keys.
    On the item's own fields (``vars``), with no ``ItemAdapter``: that would import Scrapy into
    the extraction workers."""
    from wicnews.pipelines.dedupe import key_fields
    from wicnews.pipelines.normalise import normalise_fields
    from wicnews.pipelines.relevance import judge_fields
    from wicnews.topic import load_topic

    fields = vars(item)
    normalise_fields(fields)
    judge_fields(fields, topic or load_topic())
    key_fields(fields)
    return item


@functools.cache
def _topic(path: str) -> Topic:
    from wicnews.topic import load_topic

    return load_topic(path)


def prepared_page(body: bytes, url: str, headers: dict[str, str], options: dict | None = None, *,
                  extract: str = "wicnews.extract:extract_article", source: Source | None = None, hint: Entry | None = None,
                  requested_url: str | None = None, via: Iterable[str] = (), topic_file: str = "") -> tuple[Extracted, Any]:
    """A crawled page's pure steps in one call, what an extraction worker runs (``wicnews.pool``):
    ``extract`` (``module:function``, called with ``options``) -> ``item_from_page`` ->
    ``prepare_item`` against the topic file (empty: the bundled topic). Returns the page and
    its item; the item pipelines then skip the judgement and keys already made (the
    CPU-heavy part), so that only the store is left on the crawl's own process."""
    from wicnews.pool import resolve

    page = resolve(extract)(body, url, headers, **(options or {}))
    item = item_from_page(page, url, source, hint, requested_url=requested_url, via=via)
    return page, prepare_item(item, _topic(topic_file))


def crawled_page(body: bytes, url: str, headers: dict[str, str], options: dict | None = None, *, keep_raw: bool = True,
                 **context: Any) -> tuple[Extracted, Any]:
    """``prepared_page`` for the crawl (what its extraction workers run): with ``keep_raw``,
    the item also carries the page's bytes compressed for ``raw_pages``
    (``item.raw = {"compressed": (compression, data)}``), compressed in the worker."""
    from wicnews.raw_codec import compress

    page, item = prepared_page(body, url, headers, options, **context)
    if keep_raw:
        item.raw = {"compressed": compress(body)}
    return page, item


def _result(item: Any, page: Extracted) -> dict:
    from wicnews.db.queries import _plain

    shown = {name: _plain(getattr(item, name)) for name in PAGE_ROLES}
    shown.update(encoding=page.encoding)
    return shown


def article_from_bytes(body: bytes, url: str, headers: dict[str, str] | None = None,
                       topic: Topic | None = None) -> dict:
    """The article ``wicnews extract`` shows for a page's bytes (``PageError`` when none),
    judged against ``topic`` (default: the bundled profile)."""
    from wicnews.extract import extract_article

    page = extract_article(body, url, headers or {})
    return _result(prepare_item(item_from_page(page, url), topic), page)


def _gunzip(data: bytes, limit: int) -> bytes:
    """``data`` decompressed, in 1 MB steps: ``PageError(too_large)`` as soon as it exceeds
    ``limit`` (a 261 kB file can inflate to 256 MB; memory stays near ``limit``)."""
    inflater, chunks, size = zlib.decompressobj(16 + zlib.MAX_WBITS), [], 0
    try:
        while data and size <= limit:
            chunk = inflater.decompress(data, 1 << 20)
            data = inflater.unconsumed_tail
            chunks.append(chunk)
            size += len(chunk)
            if not chunk and not data:
                break
    except (zlib.error, gzip.BadGzipFile) as exc:
        raise PageError(ErrorKind.EMPTY_BODY, f"not a readable gzip file: {exc}") from None
    if size > limit:
        raise PageError(ErrorKind.TOO_LARGE, f"larger than {limit} bytes")
    return b"".join(chunks)


def article_from_file(path: Path, url: str | None = None, topic: Topic | None = None) -> dict:
    """A saved page (``.html`` or gzip-compressed), with the crawl's size limit."""
    try:
        with path.open("rb") as handle:
            body = handle.read(MAX_PAGE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    if body[:2] == b"\x1f\x8b":
        body = _gunzip(body, MAX_PAGE_BYTES)
    if len(body) > MAX_PAGE_BYTES:
        raise PageError(ErrorKind.TOO_LARGE, f"larger than {MAX_PAGE_BYTES} bytes")
    return article_from_bytes(body, url or path.resolve().as_uri(), topic=topic)


def article_from_url(target: str, url: str | None = None, overrides: Iterable[str] = (),
                     topic: Topic | None = None) -> dict:
    """A page fetched the way the crawler fetches (robots.txt, size and time limits;
    ``overrides``: ``NAME=VALUE`` settings)."""
    from wicnews.fetch import fetch_page

    body, headers, final_url = fetch_page(target, overrides)
    return article_from_bytes(body, url or final_url, headers, topic)
