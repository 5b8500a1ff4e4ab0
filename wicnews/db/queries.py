"""What the read-only commands ask of the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, true
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from wicnews.models import PUBLIC_FIELDS, Article, ArticleUrl, Run


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def article_dict(article: Article, also_at: list[str]) -> dict:
    """An article as users see it (JSON-ready): every public column, and ``also_at``."""
    return {**{name: _plain(getattr(article, name)) for name in PUBLIC_FIELDS}, "also_at": also_at}


def run_dict(run: Run) -> dict:
    """A run row as users see it (JSON-ready)."""
    return {column.key: _plain(getattr(run, column.key)) for column in Run.__table__.columns}


def new_articles(session: Session, since: datetime | None, include_all: bool = False, limit: int | None = None) -> list[Article]:
    """Articles first seen since ``since`` (relevant ones unless ``include_all``), newest
    publication first (first-seen time where the date is unknown)."""
    stmt = select(Article)
    if since is not None:
        stmt = stmt.where(Article.first_seen_at >= since)
    if not include_all:  # "= true", not "IS TRUE": PostgreSQL uses ix_articles_relevant_first_seen only for the former
        stmt = stmt.where(Article.relevant == true())
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




def coverage(engine: Engine, since: datetime | None, include_all: bool = False, limit: int | None = None) -> list[dict]:
    """``wicnews new``: the articles first seen since ``since``, as ``article_dict``s."""
    with Session(engine) as session:
        articles = new_articles(session, since, include_all, limit)
        copies = other_urls(session, [a.id for a in articles])
        return [article_dict(a, copies[a.id]) for a in articles]


def recent_runs(engine: Engine, limit: int = 20) -> list[dict]:
    """``wicnews runs``: the newest runs first, as ``run_dict``s."""
    with Session(engine) as session:
        return [run_dict(r) for r in session.scalars(select(Run).order_by(Run.id.desc()).limit(limit))]
