"""What the read-only commands ask of the database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Engine, Row
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from wicnews.db.placements import PLACEMENT_FIELDS, placements_and_urls
from wicnews.models import PUBLIC_FIELDS, Article, ArticleEntity, ArticleUrl, Run, UTCDateTime

# Relevance levels, from the strongest: see wicnews.relevance.
LEVELS = ("coverage", "mention", "none")
# The largest article id a database can hold (a signed 64-bit integer).
MAX_ID = 2**63 - 1
# Ids bound in one IN (...): well below SQLite's limit on bound values.
ID_BATCH = 500


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


# The public columns that hold times: ISO 8601 text in what users see.
_TIME_FIELDS = tuple(c.key for c in Article.__table__.columns if c.key in PUBLIC_FIELDS and isinstance(c.type, UTCDateTime))


def article_dict(article: Any, also_at: list[str], placements: list[dict] | None = None,
                 fields: tuple[str, ...] = PUBLIC_FIELDS) -> dict:
    """An article (an ``Article``, or a row of its columns) as users see it (JSON-ready):
    its public columns (``fields``: only these), ``also_at`` (the other URLs, kept for
    compatibility) and ``placements`` (see ``wicnews.db.placements``)."""
    if isinstance(article, Row):  # ``new`` and ``search`` turn thousands of rows: by name, once each
        values = article._mapping
        shown = {name: values[name] for name in fields}
    else:
        shown = {name: getattr(article, name) for name in fields}
    for name in _TIME_FIELDS:
        if shown.get(name) is not None:
            shown[name] = shown[name].isoformat()
    shown["also_at"], shown["placements"] = also_at, placements or []
    return shown


def run_dict(run: Run) -> dict:
    """A run row as users see it (JSON-ready)."""
    return {column.key: _plain(getattr(run, column.key)) for column in Run.__table__.columns}


@dataclass(frozen=True)
class Filters:
    """What ``new``, ``search`` and webhooks select: each given filter must hold (several
    values of one filter: any of them). ``levels``: the relevance levels listed (coverage
    only by default; every level with ``include_all``); ``entity``: only the articles naming
    that organisation or person (its gazetteer name). ``sites`` match the site name (any
    case) or the host of the canonical URL (a domain also matches its subdomains); ``langs``
    match the language or its subtags (``zh`` matches ``zh-CN``)."""

    since: datetime | None = None
    sites: tuple[str, ...] = ()
    langs: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    include_all: bool = False
    limit: int | None = None
    levels: tuple[str, ...] = ("coverage",)
    entity: str | None = None


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def filtered(stmt: Select, filters: Filters) -> Select:
    """``stmt`` (over ``Article``) with the filters' conditions (not the limit)."""
    if filters.since is not None:
        stmt = stmt.where(Article.first_seen_at >= filters.since)
    if not filters.include_all and set(filters.levels) != set(LEVELS):
        stmt = stmt.where(Article.relevance_level.in_(list(filters.levels)))
    if filters.entity:
        named = select(ArticleEntity.article_id).where(func.lower(ArticleEntity.name) == filters.entity.lower())
        stmt = stmt.where(Article.id.in_(named))
    if filters.sites:
        stmt = stmt.where(or_(*[cond for site in filters.sites for cond in (
            func.lower(Article.site_name) == site.lower(),
            *[Article.canonical_url.like(f"{scheme}://{sub}{_escape_like(site.lower())}{end}", escape="\\")
              for scheme in ("http", "https") for sub in ("", "%.") for end in ("/%", ":%")])]))
    if filters.langs:
        stmt = stmt.where(or_(*[cond for lang in filters.langs for cond in (
            func.lower(Article.language) == lang.lower(),
            func.lower(Article.language).like(_escape_like(lang.lower()) + "-%", escape="\\"))]))
    if filters.sources:
        stmt = stmt.where(Article.source.in_(filters.sources))
    return stmt


@dataclass(frozen=True)
class Shown:
    """What a reader of articles is given: the public fields of each article (``id`` always)
    and of each of its placements. A format that shows less (the terminal's table) reads
    less: neither ``wicnews new`` nor its database converts what nobody looks at."""

    fields: tuple[str, ...] = PUBLIC_FIELDS
    placement_fields: tuple[str, ...] = PLACEMENT_FIELDS

    def __post_init__(self) -> None:
        unknown = sorted(set(self.fields) - set(PUBLIC_FIELDS)) + sorted(set(self.placement_fields) - set(PLACEMENT_FIELDS))
        if unknown:
            raise ValueError(f"not a public field of an article or placement: {', '.join(unknown)}")
        if "id" not in self.fields:
            object.__setattr__(self, "fields", ("id", *self.fields))


EVERYTHING = Shown()


def article_rows(shown: Shown = EVERYTHING) -> Select:
    """``SELECT`` the columns of ``articles`` that ``shown`` asks for (every one by default):
    rows read as ``Article``s are (attributes of the same names and values) without the
    ORM's cost per object."""
    if shown.fields == PUBLIC_FIELDS:
        return select(*Article.__table__.columns)
    return select(*[c for c in Article.__table__.columns if c.key in shown.fields])


def new_articles(session: Session, since: datetime | None = None, include_all: bool = False, limit: int | None = None,
                 filters: Filters | None = None, shown: Shown = EVERYTHING) -> list[Any]:
    """Articles (rows, see ``article_rows``) first seen since ``since`` that pass ``filters``
    (coverage only, unless ``include_all``), newest publication first (first-seen time where
    the date is unknown)."""
    filters = filters or Filters(since=since, include_all=include_all, limit=limit)
    stmt = filtered(article_rows(shown), filters)
    if since is not None:
        stmt = stmt.where(Article.first_seen_at >= since)
    newest = func.coalesce(Article.published_at, Article.first_seen_at)
    stmt = stmt.order_by(newest.desc(), Article.id.desc())
    if limit or filters.limit:
        stmt = stmt.limit(limit or filters.limit)
    return list(session.connection().execute(stmt))  # Core: rows, without the ORM's loading


def as_dicts(session: Session, articles: list[Any], shown: Shown = EVERYTHING) -> list[dict]:
    """``article_dict``s of ``articles`` (``Article``s or rows), with their URLs and placements."""
    copies: dict[int, list[str]] = {}
    placed: dict[int, list[dict]] = {}
    for start in range(0, len(articles), ID_BATCH):
        ids = [a.id for a in articles[start:start + ID_BATCH]]
        batch_placed, batch_copies = placements_and_urls(session, ids, shown.placement_fields)
        placed.update(batch_placed)
        copies.update(batch_copies)
    return [article_dict(a, copies[a.id], placed[a.id], shown.fields) for a in articles]


def coverage(engine: Engine, since: datetime | None = None, include_all: bool = False, limit: int | None = None,
             filters: Filters | None = None, shown: Shown = EVERYTHING) -> list[dict]:
    """``wicnews new``: the articles first seen since ``since``, as ``article_dict``s of what
    ``shown`` asks for."""
    with Session(engine) as session:
        return as_dicts(session, new_articles(session, since, include_all, limit, filters, shown), shown)


def search(engine: Engine, query: str, filters: Filters) -> list[dict]:
    """``wicnews search``: the articles every term of ``query`` matches, best first, as
    ``article_dict``s with a ``snippet``. No term (an empty query): no articles."""
    from wicnews.db import search as fts

    query_terms = fts.terms(query)
    if not query_terms:
        return []
    with Session(engine) as session:
        ids = fts.matching_ids(session, filtered(select(Article.id), filters), query_terms, filters.limit)
        found: dict[int, Any] = {}
        for start in range(0, len(ids), ID_BATCH):
            batch = article_rows().where(Article.id.in_(ids[start:start + ID_BATCH]))
            found.update((a.id, a) for a in session.connection().execute(batch))
        articles = [found[i] for i in ids]
        return [{**row, "snippet": fts.snippet(a.title, a.text, query_terms)}
                for a, row in zip(articles, as_dicts(session, articles), strict=True)]


def find_article(session: Session, ident: str) -> Article | None:
    """The article with id ``ident`` (``123`` or ``#123``), or the one found under the URL
    ``ident`` (any of its placements)."""
    from wicnews.urls import canonicalize_url, url_key

    if re.fullmatch(r"#?[0-9]+", ident.strip()):  # an id: ASCII digits within a bigint
        number = int(ident.strip().lstrip("#"))
        return session.get(Article, number) if number <= MAX_ID else None
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
        placed, copies = placements_and_urls(session, [article.id])
        detail = article_dict(article, copies[article.id], placed[article.id])
        revisions = [{"number": r.number, "fetched_at": _plain(r.fetched_at), "title": r.title, "text": r.text,
                      "summary": r.summary} for r in revisions_of(session, article.id)]
        detail["revisions"] = revisions or [{"number": 1, "fetched_at": _plain(article.first_seen_at),
                                             "title": article.title, "text": article.text, "summary": "first stored"}]
        return detail


def recent_runs(engine: Engine, limit: int = 20) -> list[dict]:
    """``wicnews runs``: the newest runs first, as ``run_dict``s."""
    with Session(engine) as session:
        return [run_dict(r) for r in session.scalars(select(Run).order_by(Run.id.desc()).limit(limit))]

