"""Re-extraction: rebuild stored articles' text and metadata from their kept raw pages.

When the extractor improves (``EXTRACTOR_VERSION`` is bumped), ``reextract(engine, since)``
runs each article's newest kept page (``raw_pages``) through the same pure steps as a crawl
(``extract_article`` -> ``item_from_page`` -> ``prepare_item``) and updates the row: text,
metadata, relevance, text key and bands. The article keeps its id, URL, canonical URL,
source and first-seen time. A page the new extractor refuses is counted and left as stored;
a new text identical to another article's keeps its old text key (counted as a conflict).

Re-extraction never undoes what the crawl knew that the page alone cannot say: a publication
time taken from the feed (``published_source == "feed"``) and the feed's title, authors,
summary, language and outlet when the page gives none are kept as stored; naive page times
are read in the zone of the article's source (``sources``, by name), else in the zone of the
stored offset. So re-extracting with an unchanged extractor changes nothing.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wicnews.models import PAGE_ROLES, Article, ArticleBand

if TYPE_CHECKING:
    from wicnews.sources import Source
    from wicnews.topic import Topic

logger = logging.getLogger(__name__)

# What re-extraction never changes: the article's identity and where it was found.
_KEPT = {"url", "canonical_url", "source"}
# What a feed or sitemap may have given when the page did not: kept when the page still does not.
_HINTED = ("title", "authors", "description", "language", "site_name")
# The publication time the crawl took from the feed (published_source == "feed").
_FEED_TIME = ("published_at", "published_offset", "published_source")


def _page_zone(source: Source | None, stored_offset: int | None) -> tzinfo | None:
    """The zone naive page times are read in: the source's, as in the crawl; for an article
    of an unknown source, the zone of its stored offset (what the crawl assumed)."""
    if source is not None:
        from zoneinfo import ZoneInfo

        return ZoneInfo(source.timezone) if source.timezone else None
    return timezone(timedelta(minutes=stored_offset)) if stored_offset is not None else None


def _keep_crawl_knowledge(item: Any, page: Any, stored: dict) -> None:
    """Put back on ``item`` the stored values the page alone cannot give (see the module doc)."""
    for name in _HINTED:
        if not getattr(page, name, None) and stored.get(name):
            setattr(item, name, stored[name])
    if stored.get("published_source") == "feed":
        for name in _FEED_TIME:
            setattr(item, name, stored[name])


def reextract(engine, since: datetime | None = None, *, sources: Mapping[str, Source] | None = None,
              topic: Topic | None = None, options: Mapping[str, Any] | None = None) -> Counter:
    """Re-extract every article with a raw page fetched at or after ``since``; returns counts
    (``articles``, ``changed``, ``unchanged``, ``refused/<kind>``, ``text_conflicts``).
    ``sources``: the sources file's sources by name (their zones); ``topic``: the relevance
    profile (default: bundled); ``options``: ``extract_article`` keywords of the crawl's settings."""
    from wicnews.articles import item_from_page, prepare_item
    from wicnews.db.raw import decompress, latest_raw_pages
    from wicnews.errors import PageError
    from wicnews.extract import extract_article

    counts: Counter = Counter()
    sources = sources or {}
    with Session(engine) as session, session.begin():
        work = [(a.id, a.url, raw.url, dict(raw.headers or {}), raw.compression, raw.body,
                 {name: getattr(a, name) for name in (*_HINTED, *_FEED_TIME, "source")})
                for a, raw in latest_raw_pages(session, since)]
    for article_id, url, raw_url, headers, compression, data, kept in work:
        counts["articles"] += 1
        source = sources.get(kept["source"])
        try:
            page = extract_article(decompress(compression, data), raw_url, headers,
                                   default_tz=_page_zone(source, kept["published_offset"]), **(options or {}))
        except PageError as exc:
            counts[f"refused/{exc.kind}"] += 1
            logger.warning("article #%d <%s>: the extractor now refuses its page: %s", article_id, url, exc)
            continue
        item = item_from_page(page, url, source)
        _keep_crawl_knowledge(item, page, kept)
        item = prepare_item(item, topic)
        values = {name: getattr(item, name) for name in PAGE_ROLES if name not in _KEPT}
        values["editors"] = values.get("editors") or []
        with Session(engine) as session, session.begin():
            stored = session.get(Article, article_id)
            if stored is None:
                continue
            before = {name: getattr(stored, name) for name in values}
            session.execute(update(Article).where(Article.id == article_id).values(**values))
            try:
                with session.begin_nested():
                    session.execute(update(Article).where(Article.id == article_id).values(text_key=item.text_key))
                    session.execute(delete(ArticleBand).where(ArticleBand.article_id == article_id))
                    bands = [{"band": b, "article_id": article_id} for b in dict.fromkeys(item.bands or ())]
                    if bands:
                        session.execute(insert(ArticleBand), bands)
            except IntegrityError:
                counts["text_conflicts"] += 1
            session.refresh(stored)
            changed = any(getattr(stored, name) != before[name] for name in values if name != "extractor_version")
        counts["changed" if changed else "unchanged"] += 1
    return counts
