"""placements (article_urls: kind, title, published_at, authors, checked_at), article_revisions, runs.revised

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-01

Existing URLs get a kind: ``original`` for the article's canonical URL, ``copy`` for a URL
on another host, ``amp`` for an AMP-looking URL on the same host, ``alias`` otherwise; the
URL the article is represented by takes the article's title, time and authors.
"""
from urllib.parse import urlsplit

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from wicnews.models import UTCDateTime

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JsonValue = sa.JSON().with_variant(JSONB(), "postgresql")


def _kind(url: str, url_key: str, article_key: str, canonical: str) -> str:
    if url_key == article_key:
        return "original"
    if (urlsplit(url).hostname or "") != (urlsplit(canonical).hostname or ""):
        return "copy"
    return "amp" if "amp" in urlsplit(url).path.lower().split("/") or "/amp/" in url.lower() else "alias"


def upgrade() -> None:
    with op.batch_alter_table("article_urls") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="original"))
        batch.add_column(sa.Column("title", sa.Text(), nullable=True))
        batch.add_column(sa.Column("published_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("authors", JsonValue, nullable=True))
        batch.add_column(sa.Column("checked_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("revised", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "article_revisions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("article_id", BigId, sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("run_id", BigId, sa.ForeignKey("runs.id", ondelete="SET NULL"), nullable=True),
        sa.UniqueConstraint("article_id", "number", name="uq_article_revisions_article_number"),
    )

    conn = op.get_bind()
    urls = sa.table("article_urls", sa.column("id"), sa.column("kind"))
    rows = conn.execute(sa.text("SELECT u.id, u.url, u.url_key, a.url_key, a.canonical_url "
                                "FROM article_urls u JOIN articles a ON a.id = u.article_id")).all()
    for uid, url, key, article_key, canonical in rows:
        kind = _kind(url, key, article_key, canonical)
        if kind != "original":
            conn.execute(urls.update().where(urls.c.id == uid).values(kind=kind))
    # the page an article is represented by: its own headline, time and authors
    conn.execute(sa.text(
        "UPDATE article_urls SET "
        "title = (SELECT a.title FROM articles a WHERE a.id = article_urls.article_id), "
        "published_at = (SELECT a.published_at FROM articles a WHERE a.id = article_urls.article_id), "
        "authors = (SELECT a.authors FROM articles a WHERE a.id = article_urls.article_id) "
        "WHERE url = (SELECT a.url FROM articles a WHERE a.id = article_urls.article_id)"))


def downgrade() -> None:
    op.drop_table("article_revisions")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("revised")
    with op.batch_alter_table("article_urls") as batch:
        for column in ("checked_at", "authors", "published_at", "title", "kind"):
            batch.drop_column(column)
