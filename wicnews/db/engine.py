"""Engines, schema upgrades and the locks that serialise them.

Callers own sessions and transactions (``with Session(engine) as s, s.begin(): ...``). No
engine is created at import time.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from contextlib import contextmanager
from pathlib import Path

import orjson
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from wicnews.errors import DatabaseError

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# How long a SQLite connection waits for another's lock (seconds).
SQLITE_BUSY_TIMEOUT = 30

logger = logging.getLogger(__name__)


def data_dir() -> Path:
    """Where the embedded database lives: ``$WICNEWS_HOME``, else ``$XDG_DATA_HOME/wicnews``,
    else ``~/.local/share/wicnews``. Always absolute."""
    if os.environ.get("WICNEWS_HOME"):
        return Path(os.environ["WICNEWS_HOME"]).expanduser().resolve()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return (Path(base).expanduser() / "wicnews").resolve()


def default_url() -> str:
    return f"sqlite:///{data_dir() / 'wicnews.db'}"


def resolve_url(url: str | None) -> str:
    """The SQLAlchemy URL to use: the given one, else the embedded default. A relative SQLite
    path is made absolute here, once, so it cannot depend on a later working directory;
    ``postgresql://`` means psycopg 3."""
    url = (url or "").strip() or default_url()
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(f"not a database URL: {url!r}") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:" \
            and not parsed.database.startswith("file:"):
        parsed = parsed.set(database=str(Path(parsed.database).expanduser().resolve()))
    return parsed.render_as_string(hide_password=False)


def reason(exc: BaseException) -> str:
    """The first line of what a database error says (the driver's message when there is one)."""
    return (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0]


def safe_url(url: str) -> str:
    """The URL for messages: password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r"//[^@/]*@", "//***@", url)


def _sqlite_connect(dbapi_conn, _record) -> None:
    # The sqlite3 module would send no BEGIN before a SAVEPOINT, so releasing the savepoint
    # would commit: let SQLAlchemy open every transaction itself (see _sqlite_begin).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    _sqlite_wal(cur)
    _sqlite_pragmas(cur)


def _sqlite_wal(cur) -> None:
    """``PRAGMA journal_mode=WAL``, waiting for another connection's write lock.

    Switching a file to WAL reads its header, then writes it. When another connection holds
    the write lock in between (processes opening a new database together, each switching
    it), SQLite answers "database is locked" at once, without its busy handler: waiting
    there could deadlock two readers. Nothing is held between two tries, so trying again
    until the busy timeout is safe; once the file is in WAL, the pragma only reads."""
    import sqlite3

    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT
    pause = 0.001
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            if pause == 0.001:
                logger.debug("waiting for another connection's write lock to switch the database to WAL")
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def _sqlite_connect_read_only(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA query_only=ON")
    _sqlite_pragmas(cur)


def _sqlite_pragmas(cur) -> None:
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT * 1000}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin(conn) -> None:
    # IMMEDIATE: take the write lock up front (waiting up to busy_timeout), so that two
    # writers never both read and then fail to upgrade their locks. A connection that only
    # reads says so (execution option ``wicnews_read_only``): it neither takes nor waits
    # for the lock (WAL: it reads the last committed state while a writer writes).
    conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("wicnews_read_only") else "BEGIN IMMEDIATE")


def _json_dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def _json_loads(value: str | bytes) -> object:
    """orjson's reading (several times faster: ``wicnews new`` reads thousands of JSON values
    a call), the standard library's for what orjson refuses (``NaN``, which ``json.dumps`` writes)."""
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return json.loads(value)


def _sqlite_begin_read(conn) -> None:
    conn.exec_driver_sql("BEGIN")


def _sqlite_read_only_creator(path: str):
    """Connections opened with ``mode=ro``: SQLite itself refuses every write. A WAL database
    is read while a crawl writes; its ``-wal`` and ``-shm`` files must be accessible."""
    import sqlite3
    from urllib.parse import quote

    uri = f"file:{quote(path)}?mode=ro"
    return lambda: sqlite3.connect(uri, uri=True, timeout=SQLITE_BUSY_TIMEOUT, check_same_thread=False)


def make_engine(url: str | None, read_only: bool = False) -> Engine:
    """An engine for ``url`` (see ``resolve_url``): SQLite in WAL mode with a busy timeout,
    PostgreSQL through psycopg 3 with a connect timeout (``read_only``: in read-only
    transactions). Does not connect."""
    url = resolve_url(url)
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseError(f"cannot use database {safe_url(url)}: wicnews stores into SQLite or PostgreSQL")
    # JSON written as is: Chinese stays Chinese in the database, so SQL on it works
    kwargs: dict = {"future": True, "json_serializer": _json_dumps, "json_deserializer": _json_loads}
    if backend == "sqlite":
        database = make_url(url).database
        if database and database != ":memory:":
            try:
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseError(f"cannot create the database directory {Path(database).parent}: "
                                    f"{exc.strerror or exc}") from None
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT}
        if read_only and database and database != ":memory:" and not database.startswith("file:"):
            kwargs["creator"] = _sqlite_read_only_creator(database)
    elif backend == "postgresql":
        kwargs["connect_args"] = {"connect_timeout": 10}
        if read_only:
            kwargs["connect_args"]["options"] = "-c default_transaction_read_only=on"
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(url, **kwargs)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise DatabaseError(f"cannot use database {safe_url(url)}: {exc}") from exc
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_connect_read_only if read_only else _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin_read if read_only else _sqlite_begin)
    return engine


# --- schema ----------------------------------------------------------------------------

def _alembic_config(connection):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


# ``revision = "0002"`` / ``down_revision = "0001"`` lines of a migration file
_REVISION_LINE = re.compile(r"""^(down_revision|revision)\s*(?::[^=\n]*)?=\s*(?:None|["']([^"']*)["'])\s*$""", re.MULTILINE)


def head_revision() -> str:
    """The newest migration's revision, read from the migration files: Alembic (a fifth of a
    second of imports) is only imported when something is to be migrated."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = {m[1]: m[2] for m in _REVISION_LINE.finditer(path.read_text(encoding="utf-8"))}
        if found.get("revision"):
            revisions.add(found["revision"])
            parents.add(found.get("down_revision"))
    heads = revisions - parents
    if len(heads) == 1:
        return heads.pop()
    from alembic.script import ScriptDirectory  # a merge, or an unusual file: Alembic decides

    head = ScriptDirectory.from_config(_alembic_config(None)).get_current_head()
    assert head is not None, "the migrations have a head"
    return head


def _known_revision(revision: str) -> bool:
    from alembic.script import ScriptDirectory

    return revision in {r.revision for r in ScriptDirectory.from_config(_alembic_config(None)).walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    """The database's revision (Alembic's ``alembic_version`` table), None without one."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        versions = list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    if len(versions) > 1:
        raise DatabaseError(f"database {safe_url(str(engine.url))} has several schema heads: {', '.join(versions)}")
    return versions[0] if versions else None


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the Alembic migrations up to ``revision``. On SQLite, foreign keys are off while
    they run: a batch ALTER copies a table and drops the old one, which must not cascade to
    the rows that refer to it."""
    from alembic import command

    with engine.connect() as conn:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:  # outside any transaction, or SQLite ignores it
            conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with conn.begin():
                command.upgrade(_alembic_config(conn), revision)
        finally:
            if sqlite:
                conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


def _new_sqlite_schema(engine: Engine, head: str) -> bool:
    """An empty SQLite database gets the schema at ``head`` in one transaction, from the
    snapshot of what the migrations make (``wicnews.db.snapshot``) instead of running them.
    False (nothing done) for another database, or when the snapshot is not at ``head``."""
    from wicnews.db import sqlite_schema

    if engine.dialect.name != "sqlite" or head != sqlite_schema.REVISION:
        return False
    with engine.begin() as conn:
        if conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar():
            return False
        for statement in sqlite_schema.STATEMENTS:
            conn.exec_driver_sql(statement)
    return True


def _alembic_error(exc: BaseException) -> bool:
    """An Alembic ``CommandError`` (Alembic is only imported if it has been already)."""
    import sys

    module = sys.modules.get("alembic.util.exc")
    return module is not None and isinstance(exc, module.CommandError)


_LOCK_KEY = 0x7769636E657773  # "wicnews": the PostgreSQL advisory lock of schema changes


@contextmanager
def schema_lock(engine: Engine):
    """Serialise schema changes between processes: crawls started together on a fresh
    database must not run the migrations twice. PostgreSQL: an advisory lock; SQLite: an
    exclusive lock on ``<database>.lock``."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK_KEY})
                conn.commit()
    elif engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        import fcntl

        with open(f"{engine.url.database}.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    else:
        yield


def open_database(url: str | None, *, auto_upgrade: bool = True, must_exist: bool = False,
                  read_only: bool = False, check_schema: bool = True) -> Engine:
    """Connect and make sure the schema is at the latest revision.

    A database without wicnews tables is migrated when ``auto_upgrade`` is on (the embedded
    default always is); one at an older revision is migrated only when it is SQLite (the
    embedded case), otherwise ``wicnews db upgrade`` must be run. ``must_exist``: a SQLite
    file that does not exist yet is an error, not a new empty database. ``read_only`` (the
    commands that only read): nothing is created or migrated; a database at another schema
    is an error. Raises ``DatabaseError`` with one readable line.
    """
    url = resolve_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        try:
            exists, directory = Path(parsed.database).exists(), Path(parsed.database).is_dir()
        except OSError as exc:  # a directory on the way that this user may not enter
            raise DatabaseError(f"cannot use database {parsed.database}: {exc.strerror or exc}") from None
        if must_exist and not exists:
            raise DatabaseError(f"no database at {parsed.database}: run `wicnews crawl` first, or give --db")
        if directory:
            raise DatabaseError(f"{parsed.database} is a directory, not a database file: give the file's path")
    engine = make_engine(url, read_only=read_only)
    if not check_schema:
        return engine
    try:
        head = head_revision()
        if read_only and (current := current_revision(engine)) != head:
            if current is not None and not _known_revision(current):
                raise DatabaseError(f"database {safe_url(str(engine.url))} has a schema this wicnews does not know "
                                    f"(latest known: {head}): Can't locate revision identified by {current!r}")
            raise DatabaseError(
                f"database {safe_url(str(engine.url))} is at schema {current or 'none'}, wicnews needs {head}: "
                + ("run `wicnews crawl` first" if current is None else "run `wicnews db upgrade`"))
        if current_revision(engine) != head:
            with schema_lock(engine):
                current = current_revision(engine)  # another process may have migrated meanwhile
                fresh = current is None and not inspect(engine).has_table("articles")
                if current == head:
                    pass
                elif (fresh and auto_upgrade) or engine.dialect.name == "sqlite":
                    if not _new_sqlite_schema(engine, head):
                        upgrade(engine)
                else:
                    raise DatabaseError(
                        f"database {safe_url(str(engine.url))} is at schema {current or 'none'}, "
                        f"wicnews needs {head}: run `wicnews db upgrade`")
    except SQLAlchemyError as exc:
        engine.dispose()
        raise DatabaseError(f"cannot open database {safe_url(str(engine.url))}: {reason(exc)}") from exc
    except BaseException as exc:
        engine.dispose()
        if _alembic_error(exc):  # e.g. a schema newer than this wicnews
            raise DatabaseError(f"database {safe_url(str(engine.url))} has a schema this wicnews does not know "
                                f"(latest known: {head_revision()}): {reason(exc)}") from exc
        raise
    return engine


