"""``INSERT ... ON CONFLICT DO NOTHING``, the store's way of letting the database decide what is new.

Each statement is built once per table and dialect with no values in it: the row (or the
rows) are given at execution, so SQLAlchemy compiles it once and reuses it, and a list of
rows is one ``executemany``. Building a statement with ``.values(...)`` for every row cost
the crawl more than the SQL itself.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Table
from sqlalchemy.orm import Session


@functools.cache
def ignore_statement(dialect: str, table: Table, returning: bool = False) -> Any:
    """``INSERT INTO table ... ON CONFLICT DO NOTHING`` (``RETURNING`` its primary key)."""
    from sqlalchemy.dialects import postgresql, sqlite

    stmt = (postgresql if dialect == "postgresql" else sqlite).insert(table).on_conflict_do_nothing()
    return stmt.returning(*table.primary_key.columns) if returning else stmt


def insert_ignore(session: Session, model: Any, values: dict) -> Any:
    """Insert one row of ``model``: the new row's primary key, or None when a unique
    constraint already holds an equal row."""
    conn = session.connection()
    return conn.execute(ignore_statement(conn.dialect.name, model.__table__, True), values).scalar_one_or_none()


def insert_many_ignore(session: Session, model: Any, rows: list[dict]) -> None:
    """Insert rows of ``model`` that all have the same columns; those a unique constraint
    already holds are left out."""
    if rows:
        conn = session.connection()
        conn.execute(ignore_statement(conn.dialect.name, model.__table__), rows)
