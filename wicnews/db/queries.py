"""What the read-only commands ask of the database."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from wicnews.models import PUBLIC_FIELDS, Article, ArticleEntity, ArticleUrl, Run


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def article_dict(article: Article, also_at: list[str]) -> dict:
    """An article as users see it (JSON-ready): every public column, and ``also_at``."""
    return {**{name: _plain(getattr(article, name)) for name in PUBLIC_FIELDS}, "also_at": also_at}


def run_dict(run: Run) -> dict:
    """A run row as users see it (JSON-ready)."""
    return {column.key: _plain(getattr(run, column.key)) for column in Run.__table__.columns}


# Relevance levels, from the strongest: see wicnews.relevance.
LEVELS = ("coverage", "mention", "none")


def new_articles(session: Session, since: datetime | None, include_all: bool = False, limit: int | None = None, *,
                 levels: Collection[str] = ("coverage",), entity: str | None = None) -> list[Article]:
    """Articles first seen since ``since`` at one of ``levels`` (every level with
    ``include_all``), naming ``entity`` when given; newest publication first (first-seen
    time where the date is unknown)."""
    stmt = select(Article)
    if since is not None:
        stmt = stmt.where(Article.first_seen_at >= since)
    if not include_all and set(levels) != set(LEVELS):
        stmt = stmt.where(Article.relevance_level.in_(list(levels)))
    if entity:
        named = select(ArticleEntity.article_id).where(func.lower(ArticleEntity.name) == entity.lower())
        stmt = stmt.where(Article.id.in_(named))
    newest = func.coalesce(Article.published_at, Article.first_seen_at)
    stmt = stmt.order_by(newest.desc(), Article.id.desc())
    if limit:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def other_urls(session: Session, article_ids: list[int]) -> dict[int, list[str]]:
    """For each article, the URLs it was also found under (copies, AMP, tracking variants)."""
    result: dict[int, list[str]] = {i: [] for i in article_ids}
    if not article_ids:
        return result
    rows = session.execute(
        select(ArticleUrl.article_id, ArticleUrl.url, Article.url, Article.canonical_url)
        .join(Article, Article.id == ArticleUrl.article_id)
        .where(ArticleUrl.article_id.in_(article_ids)).order_by(ArticleUrl.id))
    for article_id, url, representative, canonical in rows:
        if url not in (representative, canonical) and url not in result[article_id]:
            result[article_id].append(url)
    return result


def coverage(engine: Engine, since: datetime | None, include_all: bool = False, limit: int | None = None, *,
             levels: Collection[str] = ("coverage",), entity: str | None = None) -> list[dict]:
    """``wicnews new``: the articles first seen since ``since``, as ``article_dict``s."""
    with Session(engine) as session:
        articles = new_articles(session, since, include_all, limit, levels=levels, entity=entity)
        copies = other_urls(session, [a.id for a in articles])
        return [article_dict(a, copies[a.id]) for a in articles]


def recent_runs(engine: Engine, limit: int = 20) -> list[dict]:
    """``wicnews runs``: the newest runs first, as ``run_dict``s."""
    with Session(engine) as session:
        return [run_dict(r) for r in session.scalars(select(Run).order_by(Run.id.desc()).limit(limit))]


def find_article(session: Session, ref: str) -> Article | None:
    """The article a user names: its id (``42`` or ``#42``), or any URL it was found under."""
    from wicnews.urls import url_key

    ref = ref.strip()
    if ref.lstrip("#").isdigit():
        return session.get(Article, int(ref.lstrip("#")))
    try:
        key = url_key(ref)
    except ValueError:
        return None
    found = session.scalar(select(ArticleUrl.article_id).where(ArticleUrl.url_key == key))
    if found is None:
        found = session.scalar(select(Article.id).where(Article.url_key == key))
    return session.get(Article, found) if found is not None else None
