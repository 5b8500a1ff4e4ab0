"""Re-extraction: rebuild stored articles' text and metadata from their kept raw pages.

When the extractor improves (``EXTRACTOR_VERSION`` is bumped), ``reextract(engine, since)``
runs each article's newest kept page (``raw_pages``) through the same pure steps as a crawl
(``extract_article`` -> ``item_from_page`` -> ``prepare_item``) and updates the row: text,
metadata, relevance, text key and bands. The article keeps its id, URL, canonical URL,
source and first-seen time. A page the new extractor refuses is counted and left as stored;
a new text identical to another article's keeps its old text key (counted as a conflict).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime

from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wicnews.models import PAGE_ROLES, Article, ArticleBand

logger = logging.getLogger(__name__)

# What re-extraction never changes: the article's identity and where it was found.
_KEPT = {"url", "canonical_url", "source"}


def reextract(engine, since: datetime | None = None) -> Counter:
    """Re-extract every article with a raw page fetched at or after ``since``; returns counts
    (``articles``, ``changed``, ``unchanged``, ``refused/<kind>``, ``text_conflicts``)."""
    from wicnews.articles import item_from_page, prepare_item
    from wicnews.db.raw import decompress, latest_raw_pages
    from wicnews.errors import PageError
    from wicnews.extract import extract_article

    counts: Counter = Counter()
    with Session(engine) as session, session.begin():
        work = [(a.id, a.url, raw.url, dict(raw.headers or {}), raw.compression, raw.body)
                for a, raw in latest_raw_pages(session, since)]
    for article_id, url, raw_url, headers, compression, data in work:
        counts["articles"] += 1
        try:
            page = extract_article(decompress(compression, data), raw_url, headers)
        except PageError as exc:
            counts[f"refused/{exc.kind}"] += 1
            logger.warning("article #%d <%s>: the extractor now refuses its page: %s", article_id, url, exc)
            continue
        item = prepare_item(item_from_page(page, url))
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
