"""Raw pages: each fetched article page kept compressed, so extraction can be redone.

``keep_raw_page`` writes one row per fetch (``raw_pages``); ``latest_raw_pages`` yields, per
article, the newest fetch of the page the article is stored under — what ``wicnews
reextract`` feeds back to the extractor. Callers own sessions.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from wicnews.models import Article, RawPage, utcnow
from wicnews.raw_codec import compress, decompress

__all__ = ["compress", "decompress", "keep_raw_page", "latest_raw_pages"]


_INSERT = insert(RawPage)  # built once, compiled once


def keep_raw_page(session: Session, article_id: int, url: str, headers: dict[str, str], body: bytes,
                  fetched_at: datetime | None = None, compressed: tuple[str, bytes] | None = None) -> None:
    """Store one fetch of ``url`` for ``article_id`` (``compressed``: ``compress(body)``, when
    the caller has it already)."""
    compression, data = compressed or compress(body)
    session.connection().execute(_INSERT, {"article_id": article_id, "url": url, "fetched_at": fetched_at or utcnow(),
                                           "headers": dict(headers), "compression": compression, "body": data})


def latest_raw_pages(session: Session, since: datetime | None = None
                     ) -> Iterator[tuple[Article, RawPage]]:
    """``(article, raw page)`` for every article with a kept page (``since``: fetched at or
    after), the newest fetch of its own URL first, else its newest fetch of any URL."""
    newest = (select(RawPage.article_id, func.max(RawPage.id).label("raw_id"))
              .group_by(RawPage.article_id))
    if since is not None:
        newest = newest.where(RawPage.fetched_at >= since)
    sub = newest.subquery()
    rows = session.execute(select(Article, RawPage).join(sub, sub.c.article_id == Article.id)
                           .join(RawPage, RawPage.id == sub.c.raw_id).order_by(Article.id))
    for article, raw in rows:
        own = session.scalars(select(RawPage).where(RawPage.article_id == article.id, RawPage.url == article.url)
                              .order_by(RawPage.id.desc()).limit(1)).first()
        yield article, own or raw
