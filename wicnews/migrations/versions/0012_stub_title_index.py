"""articles: an index on (title_key, text_status), for the store's look-up of a stub by its title

Revision ID: 0012
Revises: 0011

Every full article the crawl stores first looks for a stub of the same title
(``wicnews.db.articles._upgrade_stub``). With the title index alone the database read every
stored article of that title to see whether it is a stub, and the text status sits after
the text in the row: a title shared by many pages (a site's generic headline) made each
store cost a scan growing with the database.
"""
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_articles_title_key_status", "articles", ["title_key", "text_status"])


def downgrade() -> None:
    op.drop_index("ix_articles_title_key_status", "articles")
