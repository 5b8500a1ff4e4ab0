"""runs, articles, article_urls

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

from wicnews.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("spider", sa.String(64), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("pages_fetched", sa.Integer(), nullable=False),
        sa.Column("articles_new", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("not_relevant", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("error_counts", sa.JSON(), nullable=False),
    )
    op.create_table(
        "articles",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("canonical_url", sa.Text(), nullable=False),
        sa.Column("url_key", sa.String(64), nullable=False, unique=True),
        sa.Column("text_key", sa.String(64), nullable=False, unique=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("authors", sa.JSON(), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.Column("site_name", sa.Text(), nullable=True),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("image", sa.Text(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("relevant", sa.Boolean(), nullable=False),
        sa.Column("matched_terms", sa.JSON(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("run_id", BigId, sa.ForeignKey("runs.id", ondelete="SET NULL"), nullable=True),
    )
    op.create_index("ix_articles_first_seen_at", "articles", ["first_seen_at"])
    op.create_index("ix_articles_relevant_first_seen", "articles", ["relevant", "first_seen_at"])
    op.create_table(
        "article_urls",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("article_id", BigId, sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("url_key", sa.String(64), nullable=False, unique=True),
        sa.Column("fetched", sa.Boolean(), nullable=False),
        sa.Column("site_name", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("run_id", BigId, sa.ForeignKey("runs.id", ondelete="SET NULL"), nullable=True),
    )
    op.create_index("ix_article_urls_article_id", "article_urls", ["article_id"])


def downgrade() -> None:
    op.drop_table("article_urls")
    op.drop_table("articles")
    op.drop_table("runs")
