"""What the read-only commands ask of the database."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from wicnews.db.placements import placements_of
from wicnews.models import PUBLIC_FIELDS, Article, ArticleEntity, ArticleUrl, Run


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def article_dict(article: Article, also_at: list[str], placements: list[dict] | None = None) -> dict:
    """An article as users see it (JSON-ready): every public column, ``also_at`` (the other
    URLs, kept for compatibility) and ``placements`` (see ``wicnews.db.placements``)."""
    return {**{name: _plain(getattr(article, name)) for name in PUBLIC_FIELDS}, "also_at": also_at,
            "placements": placements or []}


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
        ids = [a.id for a in articles]
        copies, placed = other_urls(session, ids), placements_of(session, ids)
        return [article_dict(a, copies[a.id], placed[a.id]) for a in articles]


def find_article(session: Session, ident: str) -> Article | None:
    """The article with id ``ident`` (``123`` or ``#123``), or the one found under the URL
    ``ident`` (any of its placements)."""
    from wicnews.urls import canonicalize_url, url_key

    if ident.lstrip("#").isdigit():
        return session.get(Article, int(ident.lstrip("#")))
    try:
        key = url_key(canonicalize_url(ident.strip()))
    except ValueError:
        return None
    article_id = session.scalar(select(ArticleUrl.article_id).where(ArticleUrl.url_key == key))
    if article_id is None:
        article_id = session.scalar(select(Article.id).where(Article.url_key == key))
    return session.get(Article, article_id) if article_id is not None else None


def article_detail(engine: Engine, ident: str) -> dict | None:
    """``wicnews show``: one article with its placements and its revisions (oldest first;
    an article never revised has one, the version stored)."""
    from wicnews.db.revisions import revisions_of

    with Session(engine) as session:
        article = find_article(session, ident)
        if article is None:
            return None
        detail = article_dict(article, other_urls(session, [article.id])[article.id],
                              placements_of(session, [article.id])[article.id])
        revisions = [{"number": r.number, "fetched_at": _plain(r.fetched_at), "title": r.title, "text": r.text,
                      "summary": r.summary} for r in revisions_of(session, article.id)]
        detail["revisions"] = revisions or [{"number": 1, "fetched_at": _plain(article.first_seen_at),
                                             "title": article.title, "text": article.text, "summary": "first stored"}]
        return detail


def recent_runs(engine: Engine, limit: int = 20) -> list[dict]:
    """``wicnews runs``: the newest runs first, as ``run_dict``s."""
    with Session(engine) as session:
        return [run_dict(r) for r in session.scalars(select(Run).order_by(Run.id.desc()).limit(limit))]

