"""The tables: articles, the URLs that lead to them, runs, and the health of each source.

Uniqueness lives here, in the database: one row per canonical URL (``articles.url_key``)
and per normalised text (``articles.text_key``); every URL that led to a stored article
(the canonical one, AMP pages, syndicated copies, tracking variants) is in
``article_urls`` once (``article_urls.url_key``). ``article_bands`` indexes the MinHash
bands that find near-duplicate texts. Times are stored in UTC.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import ClassVar

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on every backend (SQLite has no zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: wicnews stores aware datetimes only")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict] = {datetime: UTCDateTime(), dict: JSON(), list: JSON()}


class Run(Base):
    """One crawl: when, how it ended, and what it counted."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    spider: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    # running, finished, failed, interrupted (SIGTERM/SIGINT), skipped (another crawl held the
    # sources' lock), abandoned, or Scrapy's close reason
    status: Mapped[str] = mapped_column(String(32))
    sources: Mapped[list] = mapped_column(default=list)
    pages_fetched: Mapped[int] = mapped_column(Integer, default=0)
    articles_new: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    not_relevant: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    error_counts: Mapped[dict] = mapped_column(default=dict)


# How a column of ``articles`` is filled: ``info={"page": ROLE}`` marks the columns that
# come from the article's page (the item carries them, the store writes them, a copy's
# original takes them over); ROLE tells the normaliser what to do with the value:
# "url", "text" (paragraphs), "line" (one line of text), "lines" (a list of them), or
# "value" (left as it is). Unmarked columns are the database's own (ids, keys, times).
def page(role: str) -> dict:
    return {"page": role}


class Article(Base):
    """One article, whatever number of URLs and copies it was found under.

    This class is the one declaration of an article's fields: the item, the stored row,
    the JSON of ``wicnews new`` and ``wicnews extract`` derive from it (``PAGE_FIELDS``)."""

    __tablename__ = "articles"
    __table_args__ = (Index("ix_articles_relevant_first_seen", "relevant", "first_seen_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(Text, info=page("url"))
    canonical_url: Mapped[str] = mapped_column(Text, info=page("url"))
    url_key: Mapped[str] = mapped_column(String(64), unique=True, info={"internal": True})
    text_key: Mapped[str] = mapped_column(String(64), unique=True, info={"internal": True})
    title: Mapped[str | None] = mapped_column(Text, info=page("line"))
    authors: Mapped[list] = mapped_column(default=list, info=page("lines"))
    published_at: Mapped[datetime | None] = mapped_column(info=page("value"))
    site_name: Mapped[str | None] = mapped_column(Text, info=page("line"))
    language: Mapped[str | None] = mapped_column(String(16), info=page("value"))
    description: Mapped[str | None] = mapped_column(Text, info=page("line"))
    image: Mapped[str | None] = mapped_column(Text, info=page("value"))
    tags: Mapped[list] = mapped_column(default=list, info=page("lines"))
    text: Mapped[str] = mapped_column(Text, info=page("text"))
    relevant: Mapped[bool] = mapped_column(Boolean, info=page("value"))
    matched_terms: Mapped[list] = mapped_column(default=list, info=page("value"))
    source: Mapped[str] = mapped_column(Text, info=page("value"))
    first_seen_at: Mapped[datetime] = mapped_column(index=True)
    run_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("runs.id", ondelete="SET NULL"))


def _page_columns() -> dict[str, str]:
    return {c.key: c.info["page"] for c in Article.__table__.columns if "page" in c.info}


# name -> role of every column that comes from the page, in declaration order.
PAGE_ROLES: dict[str, str] = _page_columns()
# The columns the store writes from an item, keys included, and that an original takes over.
PAGE_FIELDS: tuple[str, ...] = (*PAGE_ROLES, "url_key", "text_key")
# The columns shown to users (``wicnews new --format json``): all but the internal keys.
PUBLIC_FIELDS: tuple[str, ...] = tuple(c.key for c in Article.__table__.columns if not c.info.get("internal"))


class ArticleBand(Base):
    """A MinHash LSH band of an article's text: articles sharing a band are candidates for
    near-duplicates (see ``pipelines.dedupe``)."""

    __tablename__ = "article_bands"

    band: Mapped[str] = mapped_column(String(24), primary_key=True)
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)


class ArticleUrl(Base):
    """A URL that led to an article: its canonical URL, the URL fetched, copies elsewhere."""

    __tablename__ = "article_urls"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    url_key: Mapped[str] = mapped_column(String(64), unique=True)
    fetched: Mapped[bool] = mapped_column(Boolean)  # False: only named (a copy's canonical), not downloaded yet
    site_name: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime]
    run_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("runs.id", ondelete="SET NULL"))


class SourceState(Base):
    """One source's polling state and health (``wicnews sources``), keyed by its name: the
    validators of its last full response (conditional GET), its last outcomes, and when it
    is next due (a failing source backs off exponentially, see ``wicnews.scheduler``)."""

    __tablename__ = "source_state"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)  # the HTTP date as the server sent it
    body_hash: Mapped[str | None] = mapped_column(String(64))  # SHA-256 of the last body read in full
    last_attempt_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error_kind: Mapped[str | None] = mapped_column(String(64))
    last_error_at: Mapped[datetime | None]
    last_new_article_at: Mapped[datetime | None]
    last_new_relevant_article_at: Mapped[datetime | None]
    new_article_gap_seconds: Mapped[float | None] = mapped_column(Float)  # moving average of the time between new articles
    polls: Mapped[int] = mapped_column(Integer, default=0)  # successful polls (304 and unchanged included)
    articles_total: Mapped[int] = mapped_column(Integer, default=0)  # new articles over those polls
    next_poll_at: Mapped[datetime | None]
