"""metadata: publication offset, source and modification time, editors, origin, extractor
version per article; raw_pages keeps each fetched article page (compressed) for reextract

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

from wicnews.models import UTCDateTime

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("published_offset", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("published_source", sa.String(16), nullable=True))
        batch.add_column(sa.Column("modified_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("editors", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("origin", sa.Text(), nullable=True))
        batch.add_column(sa.Column("extractor_version", sa.Integer(), nullable=True))
    op.execute("UPDATE articles SET editors = '[]'")
    with op.batch_alter_table("articles") as batch:
        batch.alter_column("editors", existing_type=sa.JSON(), nullable=False)
    op.create_table(
        "raw_pages",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("article_id", BigId, sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("compression", sa.String(8), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_raw_pages_article_id", "raw_pages", ["article_id"])
    op.create_index("ix_raw_pages_fetched_at", "raw_pages", ["fetched_at"])


def downgrade() -> None:
    op.drop_table("raw_pages")
    with op.batch_alter_table("articles") as batch:
        for name in ("extractor_version", "origin", "editors", "modified_at", "published_source", "published_offset"):
            batch.drop_column(name)
