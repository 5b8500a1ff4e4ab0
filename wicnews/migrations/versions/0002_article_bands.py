"""article_bands: MinHash LSH bands for near-duplicate detection

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

Existing articles are indexed here with a frozen copy of the band function of this
revision (pipelines.dedupe.bands): a later change to that function needs a migration of its
own that recomputes the bands, or old articles stop matching new copies.
"""
import hashlib
import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "‟": '"'})
_CJK = "\u3400-\u9fff\uf900-\ufaff"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}]) (?=[{_CJK}])")
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")
_EMPTY = 1 << 64


def bands(text: str) -> list[str]:
    """Frozen copy of pipelines.dedupe.bands at revision 0002 (4-token shingles, 64-bin
    one-permutation MinHash with rotation densification, 16 bands of 4 rows)."""
    normal = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()
    tokens = _TOKEN.findall(_CJK_GAP.sub("", " ".join(re.findall(r"\w+", normal))))
    if 0 < len(tokens) < 4:
        tokens += [""] * (4 - len(tokens))
    shingles = {int.from_bytes(hashlib.blake2b("\x1f".join(tokens[i:i + 4]).encode(), digest_size=8).digest(), "big")
                for i in range(max(0, len(tokens) - 3))}
    if not shingles:
        return []
    bins = [_EMPTY] * 64
    for h in shingles:
        bins[h % 64] = min(bins[h % 64], h // 64)
    signature = [next(bins[(i + d) % 64] + d * _EMPTY for d in range(64) if bins[(i + d) % 64] != _EMPTY)
                 for i in range(64)]
    return [f"{band:02d}:" + hashlib.blake2b(b"".join(v.to_bytes(16, "big") for v in signature[band * 4:band * 4 + 4]),
                                             digest_size=8).hexdigest() for band in range(16)]


def upgrade() -> None:
    op.create_table(
        "article_bands",
        sa.Column("band", sa.String(24), primary_key=True),
        sa.Column("article_id", BigId, sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_article_bands_article_id", "article_bands", ["article_id"])

    conn = op.get_bind()
    table = sa.table("article_bands", sa.column("band"), sa.column("article_id"))
    for article_id, text in conn.execute(sa.text("SELECT id, text FROM articles")):
        rows = [{"band": b, "article_id": article_id} for b in dict.fromkeys(bands(text))]
        if rows:
            conn.execute(table.insert(), rows)


def downgrade() -> None:
    op.drop_table("article_bands")
