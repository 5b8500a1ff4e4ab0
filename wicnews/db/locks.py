"""One crawl at a time over the same sources: a lock keyed on the set of their URLs.

PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) held on one connection for
the whole crawl. SQLite: an exclusive ``flock`` on a file beside the database
(``<database>.crawl-<key>.lock``). Either way the lock belongs to the process: when it
ends, however it ends (SIGKILL included), the server or the kernel releases the lock at
once, so a killed crawl never blocks the next cycle.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool


def sources_key(urls: Iterable[str]) -> str:
    """The lock key of a crawl: a hash of its sources' URLs (order and repeats do not matter)."""
    return hashlib.sha256("\n".join(sorted(set(urls))).encode("utf-8")).hexdigest()


def lock_file(engine: Engine, key: str) -> str | None:
    """Where the SQLite lock of ``key`` lives (None for an in-memory database)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or database in (None, "", ":memory:"):
        return None
    return f"{database}.crawl-{key[:16]}.lock"


@contextmanager
def crawl_lock(engine: Engine, key: str) -> Iterator[bool]:
    """Try to take the crawl lock of ``key`` without waiting; yields whether it was taken
    (and holds it until the block ends)."""
    if engine.dialect.name == "postgresql":
        number = int.from_bytes(bytes.fromhex(key[:16]), "big", signed=True)
        # A connection of its own, outside the crawl's pool (which the crawl disposes of when
        # it stops), closed for real at the end.
        own = create_engine(engine.url, poolclass=NullPool, connect_args={"connect_timeout": 10})
        try:
            with own.connect() as conn:
                held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": number}).scalar())
                conn.commit()
                try:
                    yield held
                finally:
                    if held:
                        conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": number})
                        conn.commit()
        finally:
            own.dispose()
        return
    path = lock_file(engine, key)
    if path is None:
        yield True
        return
    import fcntl

    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
