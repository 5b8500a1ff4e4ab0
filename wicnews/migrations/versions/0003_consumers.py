"""consumers: the commit sequence of articles, consumer cursors, webhook deliveries, full-text search

Revision ID: 0003
Revises: 0004
Create Date: 2026-11-30

``articles.seq`` is set by the database on every insert, in commit order: on SQLite writers
are serialised, so the next number is max + 1; on PostgreSQL a BEFORE INSERT trigger takes a
transaction-level advisory lock before it draws from a sequence, so a number is only drawn
once every smaller one is committed or rolled back. A cursor at N therefore never skips an
article that commits later with a smaller number.

Full-text search, kept in step by the database itself:
- SQLite: two FTS5 external-content tables over ``articles(title, text)``, ``articles_fts``
  (unicode61 + porter stemming: English words) and ``articles_tri`` (trigram: substrings,
  Chinese), maintained by triggers and rebuilt here for existing rows;
- PostgreSQL: a GIN index on ``to_tsvector('english', title || text)`` and a ``pg_trgm`` GIN
  index on ``lower(title || text)`` (substring search, Chinese); indexes follow the rows.
The expressions are frozen here; ``wicnews.db.search`` uses the same ones.
"""
import sqlalchemy as sa
from alembic import op

from wicnews.models import UTCDateTime

revision = "0003"
down_revision = "0004"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

SEQ_LOCK_KEY = 0x77696373657131  # "wicseq1": the advisory lock that orders article inserts
DOC = "(coalesce(title, '') || ' ' || text)"

SQLITE = [
    """CREATE TRIGGER articles_seq AFTER INSERT ON articles BEGIN
         UPDATE articles SET seq = (SELECT coalesce(max(seq), 0) + 1 FROM articles) WHERE id = new.id;
       END""",
    "CREATE VIRTUAL TABLE articles_fts USING fts5(title, text, content='articles', content_rowid='id', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE articles_tri USING fts5(title, text, content='articles', content_rowid='id', "
    "tokenize='trigram')",
]
for _t in ("articles_fts", "articles_tri"):
    SQLITE += [
        f"""CREATE TRIGGER {_t}_ai AFTER INSERT ON articles BEGIN
              INSERT INTO {_t}(rowid, title, text) VALUES (new.id, new.title, new.text);
            END""",
        f"""CREATE TRIGGER {_t}_ad AFTER DELETE ON articles BEGIN
              INSERT INTO {_t}({_t}, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
            END""",
        f"""CREATE TRIGGER {_t}_au AFTER UPDATE OF title, text ON articles BEGIN
              INSERT INTO {_t}({_t}, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
              INSERT INTO {_t}(rowid, title, text) VALUES (new.id, new.title, new.text);
            END""",
        f"INSERT INTO {_t}({_t}) VALUES ('rebuild')",
    ]

POSTGRESQL = [
    "CREATE SEQUENCE articles_seq_seq",
    "SELECT setval('articles_seq_seq', coalesce((SELECT max(seq) FROM articles), 0) + 1, false)",
    f"""CREATE FUNCTION articles_set_seq() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          PERFORM pg_advisory_xact_lock({SEQ_LOCK_KEY});
          NEW.seq := nextval('articles_seq_seq');
          RETURN NEW;
        END $$""",
    "CREATE TRIGGER articles_seq BEFORE INSERT ON articles FOR EACH ROW EXECUTE FUNCTION articles_set_seq()",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX ix_articles_search_en ON articles USING gin (to_tsvector('english'::regconfig, {DOC}))",
    f"CREATE INDEX ix_articles_search_trgm ON articles USING gin (lower({DOC}) gin_trgm_ops)",
]


def upgrade() -> None:
    op.add_column("articles", sa.Column("seq", BigId, nullable=True))
    op.execute("UPDATE articles SET seq = id")
    op.create_index("ix_articles_seq", "articles", ["seq"], unique=True)
    op.create_table(
        "consumers",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("last_seq", BigId, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("webhook", sa.String(200), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("first_seq", BigId, nullable=False),
        sa.Column("last_seq", BigId, nullable=False),
        sa.Column("articles", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_webhook_deliveries_webhook", "webhook_deliveries", ["webhook"])
    for statement in SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("articles_seq", *(f"{t}_{s}" for t in ("articles_fts", "articles_tri") for s in ("ai", "ad", "au"))):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS articles_fts")
        op.execute("DROP TABLE IF EXISTS articles_tri")
    else:
        op.execute("DROP INDEX IF EXISTS ix_articles_search_trgm")
        op.execute("DROP INDEX IF EXISTS ix_articles_search_en")
        op.execute("DROP TRIGGER IF EXISTS articles_seq ON articles")
        op.execute("DROP FUNCTION IF EXISTS articles_set_seq()")
        op.execute("DROP SEQUENCE IF EXISTS articles_seq_seq")
    op.drop_table("webhook_deliveries")
    op.drop_table("consumers")
    op.drop_index("ix_articles_seq", "articles")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("seq")
