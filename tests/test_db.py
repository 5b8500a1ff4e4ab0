"""The data layer on SQLite and on the real PostgreSQL: migrations, uniqueness, promotion."""

from __future__ import annotations

import threading
import warnings
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wicnews.db import articles as db_articles
from wicnews.db import engine as db
from wicnews.db import runs as db_runs
from wicnews.db.placements import placements_and_urls
from wicnews.db.search import is_search_object
from wicnews.errors import DatabaseError
from wicnews.models import Article, ArticleBand, ArticleUrl, Base, Run
from wicnews.pipelines.dedupe import bands, shingles, similarity, text_key
from wicnews.urls import url_key

T0 = datetime(2022, 11, 10, 11, 30, tzinfo=timezone.utc)


def row(url: str, text: str, canonical: str | None = None, published: datetime | None = T0, **extra) -> dict:
    canonical = canonical or url
    values = dict(url=url, canonical_url=canonical, url_key=url_key(canonical), text_key=text_key(text), title="t",
                  authors=["A"], published_at=published, site_name="S", language="en", description=None, image=None,
                  tags=[], text=text, relevant=True, matched_terms=["WIC"], source="src",
                  first_seen_at=datetime.now(timezone.utc), run_id=None)
    values.update(extra)
    return values


@pytest.fixture
def engine(db_url):
    engine = db.open_database(db_url)
    yield engine
    engine.dispose()


def store(engine, values, *others, near: float = 0.0):
    mine = shingles(values["text"])
    with Session(engine) as s, s.begin():
        return db_articles.store_article(s, values, {url_key(u): u for u in others}, bands=bands(values["text"]),
                                score=lambda text: similarity(mine, shingles(text)), policy=db_articles.StorePolicy(near_dup_threshold=near))


def test_migrations_match_the_models(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with warnings.catch_warnings():
        # SQLAlchemy cannot reflect SQLite's indexes on expressions (the search indexes of 0011)
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index ix_articles_search_")
        with engine.connect() as conn:
            # the full-text search objects of migrations 0003 and 0011 are backend-specific DDL, not models
            opts = {"compare_type": True, "include_name": lambda name, kind, _parent: not is_search_object(name)}
            assert compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata) == []
    assert db.current_revision(engine) == db.head_revision()


def test_same_canonical_url_or_same_text_is_one_article(engine):
    first, outcome = store(engine, row("http://a/1", "the text of one article"))
    assert outcome == "new"
    assert store(engine, row("http://b/copy", "The  TEXT of one article!"), "http://b/copy") == (first, "duplicate")
    # the same page fetched again with another text: one article, a new revision of it
    assert store(engine, row("http://a/1", "the text, edited later")) == (first, "revised")
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Article)) == 1
        urls = set(s.scalars(select(ArticleUrl.url).where(ArticleUrl.article_id == first)))
    assert urls == {"http://a/1", "http://b/copy"}


def test_the_earlier_original_takes_over_from_a_copy(engine):
    copy_id, _ = store(engine, row("http://copy/x", "shared body text", published=T0 + timedelta(days=1)))
    assert store(engine, row("http://orig/x", "shared body text", published=T0)) == (copy_id, "duplicate")
    with Session(engine) as s:
        article = s.get(Article, copy_id)
        assert (article.url, article.published_at) == ("http://orig/x", T0)
    # a later copy does not take over back
    store(engine, row("http://late/x", "shared body text", published=T0 + timedelta(days=3)))
    with Session(engine) as s:
        assert s.get(Article, copy_id).url == "http://orig/x"


def test_the_canonical_page_takes_over_from_a_syndicated_copy(engine):
    wire_id, _ = store(engine, row("http://wire/x", "body", canonical="http://orig/x", site_name="Wire"))
    store(engine, row("http://orig/x", "body", site_name="Original"))
    with Session(engine) as s:
        article = s.get(Article, wire_id)
        assert (article.url, article.site_name) == ("http://orig/x", "Original")


STORY = " ".join(f"Sentence {i} of the Wuzhen story says delegates discussed topic number {i * 37 % 101}." for i in range(60))
OTHER = " ".join(f"Line {i} of a football report mentions goal number {i * 13 % 89} in the second half." for i in range(60))


def test_near_duplicates_are_one_article(engine):
    original, outcome = store(engine, row("http://orig/s", STORY, published=T0), near=0.75)
    assert outcome == "new"
    copy = STORY.replace("Sentence 5 ", "Sentence five ") + " This story first appeared in the Morning Post."
    assert store(engine, row("http://copy/s", copy, published=T0 + timedelta(hours=3)), near=0.75) == (original, "near_duplicate")
    # an unrelated text sharing no band is new; with detection off a copy is new too
    assert store(engine, row("http://other/s", OTHER), near=0.75)[1] == "new"
    assert store(engine, row("http://copy2/s", copy + " Updated.", published=T0), near=0.0)[1] == "new"
    with Session(engine) as s:
        article = s.get(Article, original)
        assert article.url == "http://orig/s" and article.text == STORY
        assert set(s.scalars(select(ArticleUrl.url).where(ArticleUrl.article_id == original))) == {"http://orig/s", "http://copy/s"}
        assert s.scalar(select(func.count()).select_from(ArticleBand).where(ArticleBand.article_id == original)) == 32


def test_a_near_duplicate_published_earlier_becomes_the_representative(engine):
    copy_id, _ = store(engine, row("http://copy/e", STORY + " Republished with permission.", published=T0 + timedelta(days=1)))
    assert store(engine, row("http://orig/e", STORY, published=T0), near=0.75) == (copy_id, "near_duplicate")
    with Session(engine) as s:
        article = s.get(Article, copy_id)
        assert (article.url, article.text, article.text_key) == ("http://orig/e", STORY, text_key(STORY))


def test_times_are_stored_and_returned_in_utc(engine):
    hk = timezone(timedelta(hours=8))
    article_id, _ = store(engine, row("http://a/tz", "zone text", published=datetime(2022, 11, 10, 19, 30, tzinfo=hk)))
    with Session(engine) as s:
        published = s.get(Article, article_id).published_at
    assert published == datetime(2022, 11, 10, 11, 30, tzinfo=timezone.utc) and published.tzinfo == timezone.utc
    with pytest.raises(Exception, match="naive"), Session(engine) as s, s.begin():
        db_articles.store_article(s, row("http://a/naive", "naive text", published=datetime(2022, 1, 1)), {})


def test_times_survive_a_session_in_another_zone(pg_url):
    """The PostgreSQL session's own time zone must not shift stored or returned instants."""
    from sqlalchemy import create_engine

    db.open_database(pg_url).dispose()
    china = create_engine(db.resolve_url(pg_url), connect_args={"options": "-c timezone=Asia/Shanghai"})
    article_id, _ = store(china, row("http://a/zone", "zone text", published=T0))
    with Session(china) as s:
        assert s.get(Article, article_id).published_at == T0
        assert s.scalar(select(func.current_setting("TimeZone"))) == "Asia/Shanghai"
    china.dispose()
    utc = db.open_database(pg_url)
    with Session(utc) as s:
        assert s.get(Article, article_id).published_at == T0
    utc.dispose()


def test_a_failed_transaction_leaves_nothing_behind(engine):
    """store_article's savepoints live inside the caller's transaction on both backends: an
    error after it returns rolls back the article, its URLs and its bands."""
    with pytest.raises(RuntimeError), Session(engine) as s, s.begin():
        db_articles.store_article(s, row("http://a/atomic", STORY), {url_key("http://a/atomic"): "http://a/atomic"},
                         bands=bands(STORY))
        raise RuntimeError("crash after the store")
    with Session(engine) as s:
        assert [s.scalar(select(func.count()).select_from(m)) for m in (Article, ArticleUrl, ArticleBand)] == [0, 0, 0]


def test_concurrent_writers_store_one_article(db_url):
    """Eight writers with their own engines race on the same article: one row, no error."""
    engines = [db.open_database(db_url) for _ in range(8)]
    barrier, results, errors = threading.Barrier(8), [], []

    def write(engine, i):
        barrier.wait()
        try:
            results.append(store(engine, row(f"http://race/{i % 2}", "racing body text"))[1] == "new")
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(e, i)) for i, e in enumerate(engines)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in engines:
        e.dispose()
    assert errors == [] and results.count(True) == 1
    engine = db.open_database(db_url)
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Article)) == 1
        assert s.scalar(select(func.count()).select_from(ArticleUrl)) == 2
    engine.dispose()


def test_runs_round_trip(engine):
    with Session(engine) as s, s.begin():
        run_id = db_runs.start_run(s, "monitor", ["a", "b"])
    with Session(engine) as s, s.begin():
        db_runs.finish_run(s, run_id, "finished", {"pages_fetched": 3, "errors": 1, "error_counts": {"http_404": 1}})
    with Session(engine) as s:
        [run] = db_runs.list_runs(s)
        assert (run.status, run.sources, run.error_counts, run.pages_fetched) == ("finished", ["a", "b"], {"http_404": 1}, 3)
        assert run.finished_at >= run.started_at
        assert s.scalar(select(func.count()).select_from(Run)) == 1


def test_default_location_is_absolute(monkeypatch, tmp_path):
    monkeypatch.delenv("WICNEWS_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert db.default_url() == f"sqlite:///{tmp_path / 'xdg' / 'wicnews' / 'wicnews.db'}"
    monkeypatch.setenv("WICNEWS_HOME", "relative/home")
    monkeypatch.chdir(tmp_path)
    assert db.default_url() == f"sqlite:///{tmp_path / 'relative' / 'home' / 'wicnews.db'}"
    assert db.resolve_url("sqlite:///rel.db") == f"sqlite:///{tmp_path / 'rel.db'}"
    assert db.resolve_url("postgresql://u:secret@h/d") == "postgresql+psycopg://u:secret@h/d"
    assert db.safe_url("postgresql+psycopg://u:secret@h/d") == "postgresql+psycopg://u:***@h/d"


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(sqlite_url):
    engine = db.open_database(sqlite_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    engine.dispose()


@pytest.mark.parametrize("url, message", [
    ("postgresql://postgres@127.0.0.1:1/x", "cannot open database postgresql+psycopg://postgres@127.0.0.1:1/x"),
    ("nosuchdb://x", "cannot use database"),
    ("mysql://root@127.0.0.1/test", "wicnews stores into SQLite or PostgreSQL"),
    ("::not a url::", "not a database URL"),
])
def test_unusable_databases_raise_one_readable_error(url, message):
    with pytest.raises(DatabaseError, match=message.replace("+", r"\+").replace(".", r"\.")):
        db.open_database(url)


def test_an_outdated_postgresql_schema_is_not_upgraded_behind_the_users_back(pg_url):
    engine = db.make_engine(pg_url)
    db.upgrade(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'older'")
    with pytest.raises(DatabaseError, match="run `wicnews db upgrade`"):
        db.open_database(pg_url)
    engine.dispose()


def test_upgrade_from_0001_indexes_existing_articles(sqlite_url):
    engine = db.make_engine(sqlite_url)
    db.upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO articles (url, canonical_url, url_key, text_key, authors, tags, text, relevant, "
                             "matched_terms, source, first_seen_at) VALUES ('u', 'u', 'k', 't', '[]', '[]', ?, 1, '[]', 's', "
                             "'2022-11-10 00:00:00')", (STORY,))
    db.upgrade(engine)
    with Session(engine) as s:
        assert sorted(s.scalars(select(ArticleBand.band))) == sorted(bands(STORY))
    engine.dispose()


def test_a_copy_pointing_at_its_original_does_not_settle_the_original(engine):
    """Stored from a syndicated copy, the article's canonical URL must still be fetched once,
    so that the original takes over (and from then on it is settled)."""
    copy_id, _ = store(engine, row("http://wire/c", STORY, canonical="http://orig/c", site_name="Wire"), "http://wire/c")
    with Session(engine) as s:
        assert db_articles.is_settled(s, url_key("http://wire/c"))
        assert not db_articles.is_settled(s, url_key("http://orig/c"))
    assert store(engine, row("http://orig/c", STORY, site_name="Original"), "http://orig/c") == (copy_id, "duplicate")
    with Session(engine) as s:
        assert db_articles.is_settled(s, url_key("http://orig/c"))
        assert s.get(Article, copy_id).site_name == "Original"
        assert placements_and_urls(s, [copy_id])[1] == {copy_id: ["http://wire/c"]}


def test_a_canonical_url_already_known_as_a_copy_is_that_article(engine):
    """A URL recorded for article A (say, as a near-duplicate's URL) is A's, even when a page
    that declares it canonical has a text of its own."""
    first, _ = store(engine, row("http://first/k", STORY))
    near = STORY.replace("Sentence 7 ", "Sentence seven ")
    assert store(engine, row("http://orig/k", near), near=0.75) == (first, "near_duplicate")
    amp = STORY[: len(STORY) // 2]  # an AMP page with half the text (below the near-duplicate threshold)
    assert store(engine, row("http://amp/k", amp, canonical="http://orig/k"), "http://amp/k") == (first, "duplicate")
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Article)) == 1


@pytest.mark.e2e
def test_processes_opening_a_fresh_database_together_migrate_once(db_url):
    import subprocess
    import sys

    code = f"from wicnews.db import engine as db; db.open_database({db_url!r}).dispose(); print('ok')"
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err for _, err in outputs]
    engine = db.open_database(db_url)
    assert db.current_revision(engine) == db.head_revision()
    engine.dispose()


def test_switching_a_new_file_to_wal_waits_for_another_writer(tmp_path):
    """Processes opening a new database together each switch it to WAL. SQLite answers a
    switch that meets another connection's write lock with "database is locked" at once,
    without waiting (CI saw it once in four processes): the switch must wait and succeed."""
    import logging
    import sqlite3

    path = tmp_path / "fresh.db"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("CREATE TABLE t (x)")
    writer.execute("BEGIN IMMEDIATE")  # a rollback-journal file, its write lock held
    writer.execute("INSERT INTO t VALUES (1)")

    tried = threading.Event()

    class Tried(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "switch the database to WAL" in record.getMessage():
                tried.set()

    handler, log = Tried(), logging.getLogger("wicnews.db.engine")
    level = log.level
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    modes: list = []
    engine = db.make_engine(f"sqlite:///{path}")
    opener = threading.Thread(target=lambda: modes.append(
        engine.connect().exec_driver_sql("PRAGMA journal_mode").scalar()))
    try:
        opener.start()
        assert tried.wait(60), "the switch never met the lock"
        writer.execute("COMMIT")
        opener.join(60)
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
        writer.close()
    engine.dispose()
    assert modes == ["wal"]


def test_runs_left_running_for_a_day_are_abandoned(engine):
    with Session(engine) as s, s.begin():
        stale = db_runs.start_run(s, "monitor", [])
        live = db_runs.start_run(s, "monitor", [])
        s.get(Run, stale).started_at = datetime.now(timezone.utc) - timedelta(days=2)
    with Session(engine) as s, s.begin():
        assert db_runs.abandon_stale_runs(s) == 1
    with Session(engine) as s:
        assert (s.get(Run, stale).status, s.get(Run, live).status) == ("abandoned", "running")


def test_a_canonical_url_shared_by_different_texts_is_ignored(engine):
    """A template that points every story at its section page must not merge the stories."""
    first, _ = store(engine, row("http://e.cn/china/1.htm", STORY, canonical="http://e.cn/china/"), "http://e.cn/china/1.htm")
    second, outcome = store(engine, row("http://e.cn/china/2.htm", OTHER, canonical="http://e.cn/china/"),
                            "http://e.cn/china/2.htm")
    assert outcome == "canonical_ignored" and second != first
    with Session(engine) as s:
        assert s.get(Article, second).canonical_url == "http://e.cn/china/2.htm"
    # the same text under that canonical is still a duplicate
    assert store(engine, row("http://e.cn/china/1b.htm", STORY, canonical="http://e.cn/china/"), "http://e.cn/china/1b.htm") \
        == (first, "duplicate")


def test_json_values_and_times_read_back_as_written(tmp_path):
    """Stored JSON is read by orjson, with the standard library for what orjson refuses (NaN,
    which ``json.dumps`` writes); Chinese stays as is in the database; SQLite times come back
    as aware UTC datetimes whatever their stored precision."""
    engine = db.make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE probe (id INTEGER PRIMARY KEY, value TEXT)")
    from sqlalchemy import JSON, Column, Integer, MetaData, Table

    from wicnews.models import UTCDateTime

    probe = Table("probe", MetaData(), Column("id", Integer, primary_key=True), Column("value", JSON))
    values = [{"terms": ["乌镇", "World Internet Conference"]}, {"score": float("nan")}, [], None]
    with engine.begin() as conn:
        conn.execute(probe.insert(), [{"id": i, "value": v} for i, v in enumerate(values)])
        raw = conn.exec_driver_sql("SELECT value FROM probe WHERE id = 0").scalar()
        read = dict(conn.execute(select(probe.c.id, probe.c.value)).all())
    assert "乌镇" in raw
    assert read[0] == values[0] and read[2] == [] and read[3] is None
    assert read[1]["score"] != read[1]["score"]  # NaN came back
    times = Table("times", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime()))
    with engine.begin() as conn:
        times.create(conn)
        conn.exec_driver_sql("INSERT INTO times VALUES (1, '2022-11-09 01:05:00.000000'), (2, '2022-11-09 01:05:00'), "
                             "(3, NULL)")
        at = dict(conn.execute(select(times.c.id, times.c.at)).all())
    assert at == {1: datetime(2022, 11, 9, 1, 5, tzinfo=timezone.utc), 2: datetime(2022, 11, 9, 1, 5, tzinfo=timezone.utc),
                  3: None}
