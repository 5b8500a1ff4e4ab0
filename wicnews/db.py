"""The data layer: engines, schema upgrades, and the functions that read and write rows.

Callers own sessions and transactions (``with Session(engine) as s, s.begin(): ...``);
functions here take the session. No engine is created at import time.
"""

from __future__ import annotations

import logging
import os
import re
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

from alembic.util.exc import CommandError as AlembicCommandError
from sqlalchemy import create_engine, event, func, inspect, or_, select, text, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session

from wicnews.errors import DatabaseError
from wicnews.models import Article, ArticleBand, ArticleUrl, Run, utcnow

MIGRATIONS = Path(__file__).with_name("migrations")


# --- engines -----------------------------------------------------------------------------

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
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin(conn) -> None:
    # IMMEDIATE: take the write lock up front (waiting up to busy_timeout), so that two
    # writers never both read and then fail to upgrade their locks.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str | None) -> Engine:
    """An engine for ``url`` (see ``resolve_url``): SQLite in WAL mode with a busy timeout,
    PostgreSQL through psycopg 3 with a connect timeout. Does not connect."""
    url = resolve_url(url)
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseError(f"cannot use database {safe_url(url)}: wicnews stores into SQLite or PostgreSQL")
    kwargs: dict = {"future": True}
    if backend == "sqlite":
        database = make_url(url).database
        if database and database != ":memory:":
            try:
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseError(f"cannot create the database directory {Path(database).parent}: "
                                    f"{exc.strerror or exc}") from None
        kwargs["connect_args"] = {"timeout": 30}
    elif backend == "postgresql":
        kwargs["connect_args"] = {"connect_timeout": 10}
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(url, **kwargs)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise DatabaseError(f"cannot use database {safe_url(url)}: {exc}") from exc
    if backend == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


# --- schema ----------------------------------------------------------------------------

def _alembic_config(connection):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    cfg = _alembic_config(None)
    return ScriptDirectory.from_config(cfg).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    quiet = logging.getLogger("alembic.runtime.migration")
    level = quiet.level
    quiet.setLevel(logging.WARNING)  # it logs its dialect at INFO on every look
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        quiet.setLevel(level)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the Alembic migrations up to ``revision``."""
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), revision)


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


def open_database(url: str | None, *, auto_upgrade: bool = True, must_exist: bool = False) -> Engine:
    """Connect and make sure the schema is at the latest revision.

    A database without wicnews tables is migrated when ``auto_upgrade`` is on (the embedded
    default always is); one at an older revision is migrated only when it is SQLite (the
    embedded case), otherwise ``wicnews db upgrade`` must be run. ``must_exist``: a SQLite
    file that does not exist yet is an error, not a new empty database (for the commands
    that only read). Raises ``DatabaseError`` with one readable line.
    """
    url = resolve_url(url)
    parsed = make_url(url)
    if must_exist and parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
            and not Path(parsed.database).exists():
        raise DatabaseError(f"no database at {parsed.database}: run `wicnews crawl` first, or give --db")
    engine = make_engine(url)
    try:
        head = head_revision()
        if current_revision(engine) != head:
            with schema_lock(engine):
                current = current_revision(engine)  # another process may have migrated meanwhile
                fresh = current is None and not inspect(engine).has_table("articles")
                if current == head:
                    pass
                elif (fresh and auto_upgrade) or engine.dialect.name == "sqlite":
                    upgrade(engine)
                else:
                    raise DatabaseError(
                        f"database {safe_url(str(engine.url))} is at schema {current or 'none'}, "
                        f"wicnews needs {head}: run `wicnews db upgrade`")
    except SQLAlchemyError as exc:
        engine.dispose()
        raise DatabaseError(f"cannot open database {safe_url(str(engine.url))}: {reason(exc)}") from exc
    except AlembicCommandError as exc:  # e.g. a schema newer than this wicnews
        engine.dispose()
        raise DatabaseError(f"database {safe_url(str(engine.url))} has a schema this wicnews does not know "
                            f"(latest known: {head_revision()}): {reason(exc)}") from exc
    except BaseException:
        engine.dispose()
        raise
    return engine


# --- writes ----------------------------------------------------------------------------

def _insert(session: Session, model):
    """The dialect's INSERT, which knows ``ON CONFLICT DO NOTHING`` (SQLite and PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)


def _insert_ignore(session: Session, model, values: dict):
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING <primary key>``: the new row's key, or
    None when a unique constraint already holds an equal row."""
    key = inspect(model).primary_key[0]
    return session.execute(_insert(session, model).values(**values).on_conflict_do_nothing().returning(key)
                           ).scalar_one_or_none()


def _insert_many_ignore(session: Session, model, rows: list[dict]) -> None:
    """One multi-row ``INSERT ... ON CONFLICT DO NOTHING``."""
    if rows:
        session.execute(_insert(session, model).values(rows).on_conflict_do_nothing())


# The article columns that come from its page: what the store writes, and what a stored
# article takes over from its original when a copy was stored first.
PAGE_FIELDS = ("url", "canonical_url", "url_key", "text_key", "title", "authors", "published_at", "site_name",
                  "language", "description", "image", "tags", "text", "relevant", "matched_terms", "source")


def _promote_original(session: Session, article_id: int, values: dict, same_url: bool) -> bool:
    """Let the original, not the first copy fetched, represent an article.

    The stored row takes the incoming page's URL and metadata when the incoming page is
    the canonical page itself and the stored row came from a copy pointing at it
    (``same_url``), or when the same text arrives under another canonical URL with an
    earlier publication time. One conditional UPDATE, so concurrent writers cannot undo
    each other; the id, first-seen time and run stay."""
    new = {k: values[k] for k in PAGE_FIELDS}
    if same_url:
        if values["url"] != values["canonical_url"]:
            return False
        stmt = update(Article).where(Article.id == article_id, Article.url != Article.canonical_url)
    else:
        if values.get("published_at") is None:
            return False
        taken = select(Article.id).where(Article.url_key == values["url_key"], Article.id != article_id).exists()
        stmt = update(Article).where(
            Article.id == article_id, ~taken,
            or_(Article.published_at.is_(None), Article.published_at > values["published_at"]))
    try:
        with session.begin_nested():
            return session.execute(stmt.values(**new)).rowcount == 1
    except IntegrityError:
        return False


def _add_bands(session: Session, article_id: int, bands) -> None:
    _insert_many_ignore(session, ArticleBand, [{"band": band, "article_id": article_id} for band in dict.fromkeys(bands)])


def _near_duplicate(session: Session, article_id: int, bands, score: Callable[[str], float], threshold: float) -> int | None:
    """The stored article whose text is most similar (at least ``threshold``) among those
    sharing an LSH band with this one, or None."""
    shared = func.count().label("shared")
    candidates = session.execute(
        select(ArticleBand.article_id, shared).where(ArticleBand.band.in_(list(bands)), ArticleBand.article_id != article_id)
        .group_by(ArticleBand.article_id).order_by(shared.desc(), ArticleBand.article_id).limit(20)).all()
    best, best_score = None, threshold
    for candidate_id, _ in candidates:
        value = score(session.execute(select(Article.text).where(Article.id == candidate_id)).scalar_one())
        if value >= best_score:
            best, best_score = candidate_id, value
    return best


# Below this similarity, two texts under one canonical URL are different articles.
CANONICAL_MIN_SIMILARITY = 0.3


def _wrong_canonical(session: Session, article_id: int, values: dict, other_urls: dict[str, str],
                     score: Callable[[str], float]) -> bool:
    """True when this page names a canonical URL that belongs to a stored article whose text
    has little to do with its own (a template's section link, a wrong og:url)."""
    if values["url"] == values["canonical_url"] or values["url"] not in other_urls.values():
        return False
    existing = session.execute(select(Article.text).where(Article.id == article_id)).scalar_one()
    return score(existing) < CANONICAL_MIN_SIMILARITY


def store_article(session: Session, values: dict, other_urls: dict[str, str], bands=(),
                  score: Callable[[str], float] | None = None, threshold: float = 0.0) -> tuple[int, str]:
    """Store an article unless it is already stored; returns ``(article_id, outcome)`` with
    outcome ``new``, ``duplicate``, ``near_duplicate`` or ``canonical_ignored`` (stored as
    new under its own URL: its canonical URL belongs to an article with another text).

    ``values`` holds the ``Article`` columns (``url_key`` and ``text_key`` included);
    ``other_urls`` maps URL keys to the URLs it was fetched under (requested, final).
    Exact duplicates (same canonical URL or text) are found by the unique constraints with
    ``INSERT ... ON CONFLICT``. When ``bands`` and ``score`` are given (``score(text)`` is the
    similarity of a stored text to this one), a stored article sharing a band and scoring at
    least ``threshold`` makes this one a near-duplicate. Either way the canonical and the
    other URLs are recorded as URLs of the article. An original that arrives after its copy
    becomes the article's representative (see ``_promote_original``).
    """
    def url_row(article_id: int, url: str, key: str) -> dict:
        return {"article_id": article_id, "url": url, "url_key": key, "fetched": key in other_urls,
                "site_name": values.get("site_name"), "source": values["source"],
                "first_seen_at": values["first_seen_at"], "run_id": values.get("run_id")}

    outcome, same_url = "new", False
    savepoint = session.begin_nested()
    article_id = _insert_ignore(session, Article, values)
    if article_id is not None:
        # The canonical URL may already lead to another article (found there as a copy's or
        # an AMP page's URL): article_urls.url_key is unique, so it decides, atomically.
        if _insert_ignore(session, ArticleUrl, url_row(article_id, values["canonical_url"], values["url_key"])) is None:
            savepoint.rollback()
            outcome = "duplicate"
            article_id = session.execute(
                select(ArticleUrl.article_id).where(ArticleUrl.url_key == values["url_key"])).scalar_one()
        elif bands and score and threshold and (near := _near_duplicate(session, article_id, bands, score, threshold)):
            savepoint.rollback()
            outcome, article_id = "near_duplicate", near
        else:
            savepoint.commit()
    else:
        savepoint.commit()
        outcome = "duplicate"
        by_url = session.execute(select(Article.id).where(Article.url_key == values["url_key"])).scalar_one_or_none()
        article_id = by_url or session.execute(
            select(Article.id).where(Article.text_key == values["text_key"])).scalar_one_or_none()
        if article_id is None:  # lost a race with a delete; let the caller retry later
            raise IntegrityError("article vanished during dedupe", None, ValueError())
        same_url = by_url is not None
    if outcome == "duplicate" and score and _wrong_canonical(session, article_id, values, other_urls, score):
        # two different texts under one canonical URL: the page's canonical link is wrong
        own_key = next(k for k, u in other_urls.items() if u == values["url"])
        article_id, outcome = store_article(session, {**values, "canonical_url": values["url"], "url_key": own_key},
                                            other_urls, bands, score, threshold)
        return article_id, "canonical_ignored" if outcome == "new" else outcome
    promoted = outcome != "new" and _promote_original(session, article_id, values, same_url=same_url)
    if outcome == "new" or promoted:
        _add_bands(session, article_id, bands)
    _insert_many_ignore(session, ArticleUrl, [url_row(article_id, url, key) for key, url in
                                              {values["url_key"]: values["canonical_url"], **other_urls}.items()])
    if other_urls:  # URLs named earlier (as a copy's canonical) and downloaded now
        session.execute(update(ArticleUrl).where(ArticleUrl.url_key.in_(list(other_urls)), ArticleUrl.fetched.is_(False))
                        .values(fetched=True))
    return article_id, outcome


def is_settled(session: Session, key: str) -> bool:
    """True when the URL with this key was downloaded and led to a stored article. A URL
    only named so far (the canonical of a copy stored first) is not: fetching the original
    lets it take over."""
    return session.execute(
        select(ArticleUrl.id).where(ArticleUrl.url_key == key, ArticleUrl.fetched.is_(True))).first() is not None


def start_run(session: Session, spider: str, sources: list[str]) -> int:
    run = Run(spider=spider, started_at=utcnow(), status="running", sources=sources,
              pages_fetched=0, articles_new=0, duplicates=0, not_relevant=0, errors=0, error_counts={})
    session.add(run)
    session.flush()
    return run.id


def abandon_stale_runs(session: Session, older_than: timedelta = timedelta(days=1)) -> int:
    """Runs still ``running`` long after they started died without closing (killed, machine
    lost): mark them ``abandoned``. Returns how many."""
    return session.execute(update(Run).where(Run.status == "running", Run.started_at < utcnow() - older_than)
                           .values(status="abandoned")).rowcount


def finish_run(session: Session, run_id: int, status: str, counts: dict) -> None:
    session.execute(update(Run).where(Run.id == run_id).values(finished_at=utcnow(), status=status, **counts))


# --- reads -----------------------------------------------------------------------------

def new_articles(session: Session, since: datetime | None, include_all: bool = False, limit: int | None = None) -> list[Article]:
    """Articles first seen since ``since`` (relevant ones unless ``include_all``), newest
    publication first (first-seen time where the date is unknown)."""
    stmt = select(Article)
    if since is not None:
        stmt = stmt.where(Article.first_seen_at >= since)
    if not include_all:
        stmt = stmt.where(Article.relevant.is_(True))
    newest = func.coalesce(Article.published_at, Article.first_seen_at)
    stmt = stmt.order_by(newest.desc(), Article.id.desc())
    if limit:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def other_urls(session: Session, article_ids: list[int]) -> dict[int, list[str]]:
    """For each article, the URLs it was also found under (copies, AMP, tracking variants)."""
    result: dict[int, list[str]] = {i: [] for i in article_ids}
    if not article_ids:
        return result
    rows = session.execute(
        select(ArticleUrl.article_id, ArticleUrl.url, Article.url, Article.canonical_url)
        .join(Article, Article.id == ArticleUrl.article_id)
        .where(ArticleUrl.article_id.in_(article_ids)).order_by(ArticleUrl.id))
    for article_id, url, representative, canonical in rows:
        if url not in (representative, canonical) and url not in result[article_id]:
            result[article_id].append(url)
    return result


def list_runs(session: Session, limit: int = 20) -> list[Run]:
    return list(session.scalars(select(Run).order_by(Run.id.desc()).limit(limit)))
