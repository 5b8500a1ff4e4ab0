"""Relevance levels and explanations, entities; JSON columns as jsonb on PostgreSQL

Revision ID: 0008
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JsonValue = sa.JSON().with_variant(JSONB(), "postgresql")
# Every JSON column of the earlier revisions: json -> jsonb on PostgreSQL.
JSON_COLUMNS = {"runs": ("sources", "error_counts"), "articles": ("authors", "tags", "matched_terms")}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, columns in JSON_COLUMNS.items():
            for column in columns:
                op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE jsonb USING {column}::jsonb")
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("relevance_level", sa.String(16), nullable=False, server_default="none"))
        batch.add_column(sa.Column("relevance", JsonValue, nullable=True))
    # stored verdicts so far: relevant = coverage; `wicnews rescore` re-judges them
    op.execute("UPDATE articles SET relevance_level = 'coverage' WHERE relevant")
    with op.batch_alter_table("articles") as batch:
        batch.alter_column("relevance_level", server_default=None)
    op.create_index("ix_articles_level_first_seen", "articles", ["relevance_level", "first_seen_at"])
    op.create_table(
        "article_entities",
        sa.Column("article_id", BigId, sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("mentions", sa.Integer(), nullable=False),
    )
    op.create_index("ix_article_entities_name", "article_entities", ["name"])


def downgrade() -> None:
    op.drop_index("ix_article_entities_name", "article_entities")
    op.drop_table("article_entities")
    op.drop_index("ix_articles_level_first_seen", "articles")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("relevance")
        batch.drop_column("relevance_level")
    if op.get_bind().dialect.name == "postgresql":
        for table, columns in JSON_COLUMNS.items():
            for column in columns:
                op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE json USING {column}::json")
