"""metadata: publication offset, source and modification time, editors, origin, extractor
version per article; raw_pages keeps each fetched article page (compressed) for reextract

Revision ID: 0005
Revises: 0006
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from wicnews.models import UTCDateTime

revision = "0005"
down_revision = "0006"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JsonValue = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    # plain ADD COLUMNs (no batch table copy: on SQLite that copy drops the old table, and the
    # ON DELETE CASCADE of article_bands would empty it)
    op.add_column("articles", sa.Column("published_offset", sa.Integer(), nullable=True))
    op.add_column("articles", sa.Column("published_source", sa.String(16), nullable=True))
    op.add_column("articles", sa.Column("modified_at", UTCDateTime(), nullable=True))
    op.add_column("articles", sa.Column("editors", JsonValue, nullable=False, server_default="[]"))
    op.add_column("articles", sa.Column("origin", sa.Text(), nullable=True))
    op.add_column("articles", sa.Column("extractor_version", sa.Integer(), nullable=True))
    op.create_table(
        "raw_pages",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("article_id", BigId, sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
        sa.Column("headers", JsonValue, nullable=False),
        sa.Column("compression", sa.String(8), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_raw_pages_article_id", "raw_pages", ["article_id"])
    op.create_index("ix_raw_pages_fetched_at", "raw_pages", ["fetched_at"])


def downgrade() -> None:
    op.drop_table("raw_pages")
    with op.batch_alter_table("articles") as batch:  # SQLite: a table copy (bands are rebuilt by 0002 only)
        for name in ("extractor_version", "origin", "editors", "modified_at", "published_source", "published_offset"):
            batch.drop_column(name)
