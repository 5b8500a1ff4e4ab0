"""Distributed cycles: runs.cycle_id (the workers of one `wicnews crawl --redis` cycle)

Revision ID: 0009
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("cycle_id", sa.String(40), nullable=True))
    op.create_index("ix_runs_cycle_id", "runs", ["cycle_id"])


def downgrade() -> None:
    op.drop_index("ix_runs_cycle_id", "runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("cycle_id")
