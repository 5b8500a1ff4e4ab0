"""source_state: per-source polling validators and health

Revision ID: 0004
Revises: 0009
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

from wicnews.models import UTCDateTime

revision = "0004"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_state",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("body_hash", sa.String(64), nullable=True),
        sa.Column("last_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("last_success_at", UTCDateTime(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_error_kind", sa.String(64), nullable=True),
        sa.Column("last_error_at", UTCDateTime(), nullable=True),
        sa.Column("last_new_article_at", UTCDateTime(), nullable=True),
        sa.Column("last_new_relevant_article_at", UTCDateTime(), nullable=True),
        sa.Column("new_article_gap_seconds", sa.Float(), nullable=True),
        sa.Column("polls", sa.Integer(), nullable=False),
        sa.Column("articles_total", sa.Integer(), nullable=False),
        sa.Column("next_poll_at", UTCDateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("source_state")
