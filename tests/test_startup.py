"""What a crawl process does before and after its crawl, kept small: a new SQLite database made
from the schema snapshot (the same schema as the migrations make), Scrapy components that are
turned off left out, and an extraction pool that is closed before any page stops at once."""

from __future__ import annotations

import inspect
import os
import sqlite3
import sys
from multiprocessing import forkserver
from pathlib import Path

import pytest
from conftest import wait_until
from pool_hooks import HANG

from wicnews.config import build_settings
from wicnews.crawl import _stack_without_source, crawl_settings
from wicnews.db import engine as db
from wicnews.db import sqlite_schema
from wicnews.db.snapshot import signature
from wicnews.errors import ErrorKind, PageError
from wicnews.pool import ExtractPool


def test_the_sqlite_snapshot_is_what_the_migrations_make(tmp_path):
    assert db.head_revision() == sqlite_schema.REVISION, "a migration was added: run `python -m wicnews.db.snapshot`"
    migrated = db.make_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    db.upgrade(migrated)
    migrated.dispose()
    new = db.open_database(f"sqlite:///{tmp_path / 'new.db'}")  # empty: made from the snapshot
    assert db.current_revision(new) == db.head_revision()
    new.dispose()
    with sqlite3.connect(tmp_path / "migrated.db") as a, sqlite3.connect(tmp_path / "new.db") as b:
        assert signature(b) == signature(a)


def test_a_database_with_tables_of_its_own_is_migrated_not_replaced(tmp_path):
    path = tmp_path / "mine.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("INSERT INTO notes (body) VALUES ('kept')")
    engine = db.open_database(f"sqlite:///{path}")
    assert db.current_revision(engine) == db.head_revision()
    engine.dispose()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT body FROM notes").fetchall() == [("kept",)]


def _components(settings, name: str) -> set[str]:
    return set(settings.getdict(f"{name}_BASE")) | set(settings.getdict(name))


def test_components_turned_off_are_left_out_of_the_crawl():
    settings = crawl_settings(build_settings(None, []))
    extensions, middlewares = _components(settings, "EXTENSIONS"), _components(settings, "DOWNLOADER_MIDDLEWARES")
    assert "scrapy.extensions.remote_control.RemoteControl" not in extensions
    assert "scrapy.extensions.telnet.TelnetConsole" not in extensions
    assert "scrapy.downloadermiddlewares.cookies.CookiesMiddleware" not in middlewares
    assert {"wicnews.runlog.RunLog", "scrapy.extensions.logstats.LogStats"} <= extensions
    assert {"wicnews.middlewares.PrivateAddressGuard", "wicnews.middlewares.RobotsTxtMiddleware",
            "scrapy.downloadermiddlewares.retry.RetryMiddleware"} <= middlewares
    assert settings.getlist("SPIDER_MODULES") == ["wicnews.spiders.monitor"]


def test_a_component_turned_on_stays():
    settings = crawl_settings(build_settings(None, ["COOKIES_ENABLED=true", "TELNETCONSOLE_ENABLED=true"]))
    assert "scrapy.downloadermiddlewares.cookies.CookiesMiddleware" in _components(settings, "DOWNLOADER_MIDDLEWARES")
    assert "scrapy.extensions.telnet.TelnetConsole" in settings.getdict("EXTENSIONS_BASE")


def test_the_stack_without_source_has_the_same_frames():
    full = inspect.stack()
    with _stack_without_source():
        bare = inspect.stack()
    assert [(r.frame, r.function, r.lineno) for r in bare[1:]] == [(r.frame, r.function, r.lineno) for r in full[1:]]
    assert bare[0].frame is sys._getframe() and bare[0].code_context is None
    assert inspect.stack()[0].code_context is not None  # the real one is back


@pytest.mark.e2e  # starts the workers' server
def test_a_pool_closed_before_any_page_forks_no_worker_and_stops_its_server():
    pool = ExtractPool(workers=2, timeout=60.0)
    server = forkserver._forkserver  # the standard library's (no public accessor)
    pid = server._forkserver_pid
    assert pid is not None  # started with the pool, importing the extraction
    pool.close()
    assert server._forkserver_pid is None
    with pytest.raises(ChildProcessError):  # reaped: gone, not left importing
        os.waitpid(pid, os.WNOHANG)
    assert not pool._forked
    with pytest.raises(RuntimeError):
        pool.submit(b"", "http://127.0.0.1/", {}, {})


@pytest.mark.e2e  # starts the workers' server and a worker
def test_closing_abandons_a_page_still_extracted_after_the_grace(monkeypatch):
    monkeypatch.syspath_prepend(str(Path(__file__).parent))  # the server imports pool_hooks with this sys.path
    replaced: list[str] = []
    pool = ExtractPool(workers=1, timeout=300.0, function="pool_hooks:extract", on_replace=replaced.append)
    hanging = pool.submit(HANG + b"<p>never done</p>", "http://127.0.0.1:1/hang.html", {}, {})
    wait_until(lambda: pool._busy, "the worker to take the page")
    pool.close(grace=0.1)
    with pytest.raises(PageError) as failed:
        hanging.result(timeout=0)
    assert failed.value.kind == ErrorKind.EXTRACT_FAILED and "closed" in str(failed.value)
    assert replaced == []  # abandoned by the close, not counted as a crashed worker
    assert forkserver._forkserver._forkserver_pid is None
