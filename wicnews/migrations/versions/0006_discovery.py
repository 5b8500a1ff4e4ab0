"""discovery: stub articles (text_status, title_key) and the backfill checkpoint

Revision ID: 0006
Revises: 0008
Create Date: 2026-12-01

``articles.text_status`` is "full" for every existing article; "stub" marks a search feed's
item kept without its page. ``articles.title_key`` (the key of the normalised title, which
lets a full article find the stub of the same story) is computed here for existing rows with
a frozen copy of the key function of this revision (``pipelines.dedupe.title_key``).
"""
import hashlib
import re
import unicodedata

import sqlalchemy as sa
from alembic import op

from wicnews.models import UTCDateTime

revision = "0006"
down_revision = "0008"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "‟": '"'})
_CJK = "\u3400-\u9fff\uf900-\ufaff"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}]) (?=[{_CJK}])")


def title_key(title: str | None) -> str | None:
    """Frozen copy of pipelines.dedupe.title_key at revision 0006."""
    text = unicodedata.normalize("NFKC", title or "").translate(_QUOTES).casefold()
    words = _CJK_GAP.sub("", " ".join(re.findall(r"\w+", text)))
    return hashlib.sha256(words.encode("utf-8")).hexdigest() if len(words) >= 8 else None


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("text_status", sa.String(8), nullable=False, server_default="full"))
        batch.add_column(sa.Column("title_key", sa.String(64), nullable=True))
        batch.create_index("ix_articles_title_key", ["title_key"])
    conn = op.get_bind()
    for article_id, title in conn.execute(sa.text("SELECT id, title FROM articles")).all():
        key = title_key(title)
        if key:
            conn.execute(sa.text("UPDATE articles SET title_key = :key WHERE id = :id"), {"key": key, "id": article_id})
    op.create_table(
        "backfill_slices",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("start", UTCDateTime(), nullable=False),
        sa.Column("end", UTCDateTime(), nullable=False),
        sa.Column("results", sa.Integer(), nullable=False),
        sa.Column("done_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("source", "start", "end", name="uq_backfill_slices_source_start_end"),
    )


def downgrade() -> None:
    op.drop_table("backfill_slices")
    with op.batch_alter_table("articles") as batch:
        batch.drop_index("ix_articles_title_key")
        batch.drop_column("title_key")
        batch.drop_column("text_status")
