"""article_bands: MinHash LSH bands for near-duplicate detection

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

Existing articles are indexed here, with the band function of this release.
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "article_bands",
        sa.Column("band", sa.String(24), primary_key=True),
        sa.Column("article_id", BigId, sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_article_bands_article_id", "article_bands", ["article_id"])

    from pipelines.dedupe import bands

    conn = op.get_bind()
    table = sa.table("article_bands", sa.column("band"), sa.column("article_id"))
    for article_id, text in conn.execute(sa.text("SELECT id, text FROM articles")):
        rows = [{"band": b, "article_id": article_id} for b in dict.fromkeys(bands(text))]
        if rows:
            conn.execute(table.insert(), rows)


def downgrade() -> None:
    op.drop_table("article_bands")
