"""The tables: articles, the URLs that lead to them, and runs.

Uniqueness lives here, in the database: one row per canonical URL (``articles.url_key``)
and per normalised text (``articles.text_key``); every URL that led to a stored article
(the canonical one, AMP pages, syndicated copies, tracking variants) is in
``article_urls`` once (``article_urls.url_key``). ``article_bands`` indexes the MinHash
bands that find near-duplicate texts. Times are stored in UTC.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import ClassVar

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, TypeDecorator
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
    status: Mapped[str] = mapped_column(String(32))  # running, finished, failed, or Scrapy's close reason
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
    # The commit sequence: set by the database on insert (a trigger, migration 0003), in the
    # order inserts commit, so a consumer's cursor never skips a slow crawl's article.
    seq: Mapped[int | None] = mapped_column(BigId, unique=True, index=True, info={"internal": True})


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


class Consumer(Base):
    """A reader of new coverage (``wicnews new --consumer NAME``, a webhook): the commit
    sequence number of the last article it was given."""

    __tablename__ = "consumers"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigId, default=0)
    updated_at: Mapped[datetime]


class WebhookDelivery(Base):
    """One POST of new coverage to a webhook endpoint, with its outcome."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    webhook: Mapped[str] = mapped_column(String(200), index=True)
    url: Mapped[str] = mapped_column(Text)
    first_seq: Mapped[int] = mapped_column(BigId)
    last_seq: Mapped[int] = mapped_column(BigId)
    articles: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # delivered, failed
    attempts: Mapped[int] = mapped_column(Integer)
    http_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    body_sha256: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime]


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
