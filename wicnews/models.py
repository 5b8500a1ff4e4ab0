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

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from wicnews.page_fields import PAGE_ROLES

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


# JSON values: jsonb on PostgreSQL (indexable, comparable); text written as is, Chinese
# included, never as \u escapes (see ``wicnews.db.engine.make_engine``'s serializer).
JsonValue = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict] = {datetime: UTCDateTime(), dict: JsonValue, list: JsonValue}


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
    revised: Mapped[int] = mapped_column(Integer, default=0)  # stored articles whose page changed (revisions)
    error_counts: Mapped[dict] = mapped_column(default=dict)
    # The distributed cycle (wicnews crawl --redis) this run was one worker of; None alone.
    cycle_id: Mapped[str | None] = mapped_column(String(40), index=True)


# ``info=page()`` marks the columns of ``articles`` that come from the article's page; their
# roles (what the normaliser does with each) are ``wicnews.page_fields.PAGE_ROLES``.
def page() -> dict:
    return {"page": True}


class Article(Base):
    """One article, whatever number of URLs and copies it was found under.

    This class is the one declaration of an article's fields: the item, the stored row,
    the JSON of ``wicnews new`` and ``wicnews extract`` derive from it (``PAGE_FIELDS``)."""

    __tablename__ = "articles"
    __table_args__ = (Index("ix_articles_relevant_first_seen", "relevant", "first_seen_at"),
                      Index("ix_articles_level_first_seen", "relevance_level", "first_seen_at"),
                      Index("ix_articles_title_key_status", "title_key", "text_status"))  # a stub by its title

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(Text, info=page())
    canonical_url: Mapped[str] = mapped_column(Text, info=page())
    url_key: Mapped[str] = mapped_column(String(64), unique=True, info={"internal": True})
    text_key: Mapped[str] = mapped_column(String(64), unique=True, info={"internal": True})
    title: Mapped[str | None] = mapped_column(Text, info=page())
    authors: Mapped[list] = mapped_column(default=list, info=page())
    published_at: Mapped[datetime | None] = mapped_column(info=page())
    # minutes east of UTC the publisher wrote the time in (or the zone assumed): the local day
    published_offset: Mapped[int | None] = mapped_column(Integer, info=page())
    # which candidate gave the time: jsonld, meta, time, title, htmldate, text, url or feed
    published_source: Mapped[str | None] = mapped_column(String(16), info=page())
    modified_at: Mapped[datetime | None] = mapped_column(info=page())
    site_name: Mapped[str | None] = mapped_column(Text, info=page())
    language: Mapped[str | None] = mapped_column(String(16), info=page())
    description: Mapped[str | None] = mapped_column(Text, info=page())
    image: Mapped[str | None] = mapped_column(Text, info=page())
    tags: Mapped[list] = mapped_column(default=list, info=page())
    editors: Mapped[list] = mapped_column(default=list, info=page())  # credited editors (编辑), not authors
    origin: Mapped[str | None] = mapped_column(Text, info=page())  # the outlet credited (来源：新华社)
    extractor_version: Mapped[int | None] = mapped_column(Integer, info=page())
    text: Mapped[str] = mapped_column(Text, info=page())
    # "full": the page's text; "stub": only a search feed's item (title, outlet, time, link)
    # was had; the full article upgrades the row in place when it arrives (same id).
    text_status: Mapped[str] = mapped_column(String(8), default="full", server_default="full", info=page())
    title_key: Mapped[str | None] = mapped_column(String(64), index=True, info={"internal": True})
    relevant: Mapped[bool] = mapped_column(Boolean, info=page())  # relevance_level == "coverage"
    matched_terms: Mapped[list] = mapped_column(default=list, info=page())
    # coverage (about the topic), mention (names it in passing) or none; see wicnews.relevance
    relevance_level: Mapped[str] = mapped_column(String(16), default="none", info=page())
    relevance: Mapped[dict | None] = mapped_column(info=page())  # {score, level, explanation, entities}
    source: Mapped[str] = mapped_column(Text, info=page())
    first_seen_at: Mapped[datetime] = mapped_column(index=True)
    run_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("runs.id", ondelete="SET NULL"))
    # The commit sequence: set by the database on insert (a trigger, migration 0003), in the
    # order inserts commit, so a consumer's cursor never skips a slow crawl's article.
    seq: Mapped[int | None] = mapped_column(BigId, unique=True, index=True, info={"internal": True})


def _check_page_columns() -> None:
    """The columns marked ``page()`` are ``PAGE_ROLES`` (name -> role of every column that comes
    from the page), in the same order."""
    marked = [c.key for c in Article.__table__.columns if "page" in c.info]
    if marked != list(PAGE_ROLES):
        raise RuntimeError(f"wicnews.page_fields.PAGE_ROLES {list(PAGE_ROLES)} differs from the page columns {marked}")


_check_page_columns()
# The columns the store writes from an item, keys included, and that an original takes over.
PAGE_FIELDS: tuple[str, ...] = (*PAGE_ROLES, "url_key", "text_key", "title_key")
# The columns shown to users (``wicnews new --format json``): all but the internal keys.
PUBLIC_FIELDS: tuple[str, ...] = tuple(c.key for c in Article.__table__.columns if not c.info.get("internal"))


class RawPage(Base):
    """A fetched article page as it came (body compressed), one row per fetch, so that
    ``wicnews reextract`` can rebuild text and metadata when the extractor improves."""

    __tablename__ = "raw_pages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(index=True)
    headers: Mapped[dict] = mapped_column(default=dict)
    compression: Mapped[str] = mapped_column(String(8))  # "gzip" (zstd when the standard library has it)
    body: Mapped[bytes] = mapped_column(LargeBinary)


class ArticleBand(Base):
    """A MinHash LSH band of an article's text: articles sharing a band are candidates for
    near-duplicates (see ``pipelines.dedupe``)."""

    __tablename__ = "article_bands"

    band: Mapped[str] = mapped_column(String(24), primary_key=True)
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)


# The kinds of placement (``article_urls.kind``).
PLACEMENT_KINDS = ("original", "amp", "copy", "alias")


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
    """A placement: a URL under which an article was found, with what that page said.

    ``kind``: ``original`` (the article's canonical URL), ``amp`` (its AMP edition),
    ``copy`` (the same text on another page: a syndicated or republished copy), ``alias``
    (another URL of the same page: a redirect, a tracking variant). The page's own outlet,
    headline, time and authors are kept (None while the URL is only named, not fetched)."""

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
    kind: Mapped[str] = mapped_column(String(16), default="original")
    title: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None]
    authors: Mapped[list | None] = mapped_column()
    checked_at: Mapped[datetime | None]  # last time a recheck let this URL be downloaded again


class ArticleRevision(Base):
    """A version of an article's page: number 1 is the text first stored, the next ones what
    a recheck found changed (``summary``: what changed). The article row holds the latest.
    Written only once an article changes (an article never revised has no rows here)."""

    __tablename__ = "article_revisions"
    __table_args__ = (UniqueConstraint("article_id", "number", name="uq_article_revisions_article_number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    fetched_at: Mapped[datetime]
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    run_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("runs.id", ondelete="SET NULL"))


class ArticleEntity(Base):
    """An organisation or person an article names (from the topic profile's gazetteer)."""

    __tablename__ = "article_entities"

    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)
    kind: Mapped[str] = mapped_column(String(16))  # org or person
    mentions: Mapped[int] = mapped_column(Integer, default=1)


class BackfillSlice(Base):
    """A time slice of a backfill that was walked to the end through a source: the
    checkpoint an interrupted ``wicnews backfill`` resumes from (see ``wicnews.backfill``)."""

    __tablename__ = "backfill_slices"
    __table_args__ = (UniqueConstraint("source", "start", "end", name="uq_backfill_slices_source_start_end"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(Text)
    start: Mapped[datetime]
    end: Mapped[datetime]
    results: Mapped[int] = mapped_column(Integer)  # links the source gave for the slice
    done_at: Mapped[datetime]


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
