"""article_bands recomputed: 32 bands of 2 rows (was 16 of 4)

Revision ID: 0010
Revises: 0003
Create Date: 2026-11-29

Near-duplicate candidates are now found from a Jaccard similarity of about 0.3 (copies that
dropped paragraphs or gained template lines; ``pipelines.dedupe.resemblance`` confirms
them). The bands of stored articles are recomputed here with a frozen copy of the band
function of this revision (``pipelines.dedupe.bands``): a later change to that function
needs a migration of its own. Downgrade recomputes the 16 bands of 4 rows.
"""
import hashlib
import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0003"
branch_labels = None
depends_on = None

_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "‟": '"'})
_CJK = "\u3400-\u9fff\uf900-\ufaff"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}]) (?=[{_CJK}])")
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")
_EMPTY = 1 << 64


def bands(text: str, rows: int = 2) -> list[str]:
    """Frozen copy of pipelines.dedupe.bands at revision 0010 (4-token shingles, 64-bin
    one-permutation MinHash with rotation densification, 32 bands of 2 rows; ``rows=4``
    gives the 16 bands of revision 0002)."""
    normal = unicodedata.normalize("NFKC", text or "").translate(_QUOTES).casefold()
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
    return [f"{band:02d}:" + hashlib.blake2b(b"".join(v.to_bytes(16, "big")
                                                     for v in signature[band * rows:band * rows + rows]),
                                             digest_size=8).hexdigest() for band in range(64 // rows)]


def _recompute(rows: int) -> None:
    conn = op.get_bind()
    table = sa.table("article_bands", sa.column("band"), sa.column("article_id"))
    conn.execute(sa.text("DELETE FROM article_bands"))
    result = conn.execute(sa.text("SELECT id, text FROM articles WHERE text_status = 'full' ORDER BY id"))
    batch: list[dict] = []
    for article_id, text in result.fetchall():
        batch += [{"band": b, "article_id": article_id} for b in dict.fromkeys(bands(text, rows))]
        if len(batch) >= 10000:
            conn.execute(table.insert(), batch)
            batch = []
    if batch:
        conn.execute(table.insert(), batch)


def upgrade() -> None:
    _recompute(2)


def downgrade() -> None:
    _recompute(4)
