"""Alembic environment: wicnews passes the connection in ``config.attributes``."""

from alembic import context

from wicnews.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("wicnews migrations run through `wicnews db upgrade` (wicnews.db.upgrade)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
