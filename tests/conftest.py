"""Shared fixtures: the loopback fixture site, databases (SQLite and a real PostgreSQL), and a
runner for the ``wicnews`` command in a subprocess (a Twisted reactor runs once per process).

Markers (registered in pyproject.toml) are set here from what a test uses, so nobody has to
remember them:

* ``e2e``: the test starts a process (the ``wicnews`` runner, the fixture server ``site``,
  ``sources_file``, or ``subprocess`` itself) or needs the PostgreSQL server.
  ``make test-fast`` runs ``pytest -m "not e2e"``; ``make test`` runs everything.
* ``pg``: the test needs the real PostgreSQL (``pg_server``, ``pg_url`` or the
  ``postgresql`` case of ``db_url``); ``-m "not pg"`` leaves those out.

A test that starts a process without being marked ``e2e`` fails (``subprocess.Popen`` is
refused), so the fast selection stays fast: mark it ``@pytest.mark.e2e``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SITE_DIR = FIXTURES / "site"
REPO = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("WICNEWS_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")

SEED_PATH = "/scmp/news/china/science/article/3199102/world-internet-conference-tilts-towards-business-tech-tycoons-stay-away-wuzhen.html"
SEED_TITLE = "World Internet Conference tilts towards business as China's tech tycoons stay away from Wuzhen"
AMP_PATH = "/scmp/amp" + SEED_PATH.removeprefix("/scmp")
WIRE_PATH = "/wire/2022/11/11/china-internet-conference-business-focus.html"
DIGEST_PATH = "/digest/stories/wic-2022-business-focus.html"
UNRELATED_PATH = "/scmp/sport/football/article/3199150/hong-kong-football-league-season-resumes.html"
CHINESE_PATH = "/zj/2022/11/09/wic2022-opening.html"
SLIGHTLY_BROKEN_PATH = "/bad/slightly-broken.html"
MIRROR_PATH = "/mirror/2022/11/12/wuzhen-summit-business-turn.html"


def seed() -> tuple[str, str]:
    """``(date, body)`` of the seed article (its file is one whitespace-flattened line)."""
    raw = (FIXTURES / "seed.txt").read_text(encoding="utf-8").strip()
    match = re.match(r"date (\d{4}-\d{2}-\d{2})\s+(.*)", raw, re.DOTALL)
    return match[1], match[2]


def flat(text: str) -> str:
    return " ".join(text.split())


def read_site(path: str, base: str = "http://127.0.0.1:8000") -> bytes:
    """A fixture page's bytes as the server would send them."""
    return (SITE_DIR / path.lstrip("/")).read_bytes().replace(b"{{BASE}}", base.encode())


@dataclass
class Site:
    base: str

    def url(self, path: str) -> str:
        return self.base + path

    def hits(self) -> dict[str, int]:
        with urllib.request.urlopen(self.base + "/__hits", timeout=60) as resp:
            return json.load(resp)

    def reset(self) -> None:
        urllib.request.urlopen(self.base + "/__reset", timeout=60).read()


@pytest.fixture(scope="session")
def site():
    """The fixture news web, served by a subprocess on 127.0.0.1 and a free port."""
    proc = subprocess.Popen([sys.executable, "-m", "wicnews.fixture_server", str(SITE_DIR), "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()  # the server prints its URL once it listens
        assert line.startswith("http://127.0.0.1:"), f"fixture server did not start: {line!r}"
        yield Site(line)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def _pg_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=30):
            return None
    except Exception as exc:
        return str(exc).splitlines()[0]


@pytest.fixture(scope="session")
def pg_server():
    """Admin URL of the real PostgreSQL; skipped locally without one, a failure in CI."""
    problem = _pg_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL must run in CI: {problem}")
        pytest.skip(f"PostgreSQL not available: {problem}")
    return PG_ADMIN_URL


@pytest.fixture
def pg_url(pg_server):
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    import psycopg

    name = f"wicnews_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'wicnews.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """Each end-to-end test runs on the embedded SQLite and on the real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'wicnews.db'}"
    return request.getfixturevalue("pg_url")


# Local fixture site: no politeness delays, few retries, a 200 kB page limit: about ten times
# the largest fixture page, below /bad/huge.html (test_crawl checks both).
FAST_MAXSIZE = 200_000
FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_TIMES=1",
        "-s", f"DOWNLOAD_MAXSIZE={FAST_MAXSIZE}", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8"]


@pytest.fixture
def wicnews(tmp_path):
    """Run ``wicnews ARGS`` in a subprocess with its own WICNEWS_HOME; returns the result."""
    home = tmp_path / "home"

    def run(*args: str, env: dict | None = None, check: bool = False, timeout: int = 180):
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("WICNEWS_")}
        full_env.update({"WICNEWS_HOME": str(home), "PYTHONWARNINGS": "default"}, **(env or {}))
        result = subprocess.run([sys.executable, "-m", "wicnews.cli", *args], capture_output=True, text=True,
                                env=full_env, timeout=timeout, cwd=tmp_path)
        if check and result.returncode != 0:
            raise AssertionError(f"wicnews {' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}")
        return result

    return run


@pytest.fixture
def sources_file(tmp_path, site):
    """A sources file over every source of the fixture site (the demo's), plus a disabled one."""
    from wicnews.demo import DEMO_SOURCES

    path = tmp_path / "sources.toml"
    path.write_text(DEMO_SOURCES.format(base=site.base) + f"""
[[source]]
name = "disabled-one"
kind = "feed"
url = "{site.base}/feeds/never-fetched.rss"
enabled = false
""", encoding="utf-8")
    return path


# --- markers ------------------------------------------------------------------------------

PROCESS_FIXTURES = {"wicnews", "site", "sources_file"}  # each starts a process
PG_FIXTURES = {"pg_server", "pg_url"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        callspec = getattr(item, "callspec", None)
        needs_pg = bool(names & PG_FIXTURES) or (callspec is not None and callspec.params.get("db_url") == "postgresql")
        if needs_pg:
            item.add_marker(pytest.mark.pg)
        if needs_pg or names & PROCESS_FIXTURES:
            item.add_marker(pytest.mark.e2e)


class _RefusedPopen(subprocess.Popen):
    def __init__(self, args, *rest, **kwargs):
        raise AssertionError(f"this test starts a process ({args!r}) but is not marked e2e: "
                             "add @pytest.mark.e2e so that `make test-fast` leaves it out")


@pytest.fixture(autouse=True)
def _only_e2e_tests_start_processes(request, monkeypatch):
    if request.node.get_closest_marker("e2e") is None:
        monkeypatch.setattr(subprocess, "Popen", _RefusedPopen)


# --- waiting for a condition, never for a fixed time --------------------------------------

def wait_until(condition, what: str, deadline: float = 120.0, every: float = 0.05):
    """Poll ``condition()`` until it returns something truthy and return that. The deadline
    only turns a hang into a failure: it is far beyond what a loaded machine needs."""
    give_up = time.monotonic() + deadline
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > give_up:
            raise AssertionError(f"still waiting after {deadline:.0f} s for {what}")
        time.sleep(every)
