"""search: two-character Chinese (Japanese, Korean) terms through indexes; PostgreSQL's tsvector stored

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29

A term of two characters is below a trigram: ``wicnews search 乌镇`` read every article's
title and text with LIKE. A caseless pair of characters (no letter case: CJK, kana, hangul)
occurs in a title or text either at the start of one of its trigrams or as its last two
characters, so on SQLite it is now found through
- ``articles_tri_vocab``: an ``fts5vocab`` table over ``articles_tri`` (no data of its own),
  whose terms give the trigrams the pair starts, then searched in ``articles_tri``;
- ``ix_articles_search_tail_title`` / ``_text``: indexes on ``substr(title, -2)`` and
  ``substr(text, -2)``.
On PostgreSQL, ``pg_trgm`` cannot use a two-character pattern either: an index of each
article's CJK pairs (``wicnews_cjk_pairs(title || text)``, a GIN index over an array) finds
the candidates, LIKE decides as before.

PostgreSQL also keeps each article's ``to_tsvector('english', title || text)`` in a
generated column, ``articles.search_vector`` (indexed by ``ix_articles_search_vector``,
which replaces the expression index ``ix_articles_search_en``): ranking a page of results
and testing a word on a row read it instead of parsing the whole text again (about a
hundred times slower). The same expression, so the same matches and ranks; the upgrade
rewrites the table once.

The functions and expressions are frozen here; ``wicnews.db.search`` uses the same ones.
Nothing is written by the store: the database fills the column and the indexes. A later
batch migration of ``articles`` on SQLite must create the two indexes again (as it must the
triggers of 0003).
"""
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

DOC = "(coalesce(title, '') || ' ' || text)"
# The characters of wicnews.db.search.CJK_RANGES at this revision (kana, CJK, hangul).
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"

SQLITE = [
    "CREATE VIRTUAL TABLE articles_tri_vocab USING fts5vocab(articles_tri, 'row')",
    "CREATE INDEX ix_articles_search_tail_title ON articles (substr(title, -2))",
    "CREATE INDEX ix_articles_search_tail_text ON articles (substr(text, -2))",
]

POSTGRESQL = [
    # Every distinct pair of adjacent CJK characters of a text (its runs of two or more).
    f"""CREATE FUNCTION wicnews_cjk_pairs(doc text) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
          SELECT coalesce(array_agg(DISTINCT substr(run[1], i, 2)), '{{}}')
          FROM regexp_matches(doc, '[{CJK}]{{2,}}', 'g') AS run, generate_series(1, length(run[1]) - 1) AS i
        $$""",
    f"CREATE INDEX ix_articles_search_cjk ON articles USING gin (wicnews_cjk_pairs({DOC}))",
    "ALTER TABLE articles ADD COLUMN search_vector tsvector "
    f"GENERATED ALWAYS AS (to_tsvector('english'::regconfig, {DOC})) STORED",
    "CREATE INDEX ix_articles_search_vector ON articles USING gin (search_vector)",
    "DROP INDEX ix_articles_search_en",
]


def upgrade() -> None:
    for statement in SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP INDEX IF EXISTS ix_articles_search_tail_text")
        op.execute("DROP INDEX IF EXISTS ix_articles_search_tail_title")
        op.execute("DROP TABLE IF EXISTS articles_tri_vocab")
    else:
        op.execute(f"CREATE INDEX ix_articles_search_en ON articles USING gin (to_tsvector('english'::regconfig, {DOC}))")
        op.execute("DROP INDEX IF EXISTS ix_articles_search_vector")
        op.execute("ALTER TABLE articles DROP COLUMN IF EXISTS search_vector")
        op.execute("DROP INDEX IF EXISTS ix_articles_search_cjk")
        op.execute("DROP FUNCTION IF EXISTS wicnews_cjk_pairs(text)")
