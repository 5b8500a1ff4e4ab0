"""The monitoring service for real: conditional GET against a loopback server, the crawl
lock across processes (SQLite and PostgreSQL), ``wicnews schedule --every`` stopped by
SIGTERM, and crawls stopped at several moments. Every wait is for a condition."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import FAST, read_site
from sqlalchemy import text
from sqlalchemy.orm import Session

from wicnews import scheduler
from wicnews.db import engine as db
from wicnews.db import runs as db_runs
from wicnews.db.locks import crawl_lock, sources_key

DEADLINE = 90  # seconds: generous, only ever reached when something is broken


def wait_for(condition, what: str, deadline: float = DEADLINE, every: float = 0.1):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out waiting for {what}")


def statuses(site) -> dict:
    with urllib.request.urlopen(site.base + "/__statuses", timeout=10) as resp:
        return json.load(resp)


def all_runs(url: str) -> list:
    engine = db.open_database(url)
    try:
        with Session(engine) as s:
            return list(reversed(db_runs.list_runs(s, 1000)))
    finally:
        engine.dispose()


def cli(capsys, *args: str) -> tuple[int, str]:
    """A read or maintenance command in this process (they import no Scrapy): exit code, stdout."""
    from wicnews.cli import main

    capsys.readouterr()
    code = main(list(args))
    return code, capsys.readouterr().out


def env_for(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WICNEWS_")}
    return {**env, "WICNEWS_HOME": str(tmp_path / "home")}


def test_a_second_poll_is_a_304_and_costs_nothing(site, wicnews, db_url, capsys):
    feed = site.url("/feeds/digest.rdf")
    site.reset()
    wicnews("crawl", "--feed", feed, "--db", db_url, *FAST, check=True)
    second = wicnews("crawl", "--feed", feed, "--db", db_url, *FAST, check=True)
    assert "skipped: not_modified 1" in second.stdout
    seen = statuses(site)
    assert seen["/feeds/digest.rdf"] == {"200": 1, "304": 1}
    assert seen["/digest/stories/wic-2022-business-focus.html"] == {"200": 1}
    last = all_runs(db_url)[-1]
    assert last.status == "finished" and last.error_counts == {"skipped_not_modified": 1}
    state = json.loads(cli(capsys, "sources", "--db", db_url, "--format", "json")[1])
    assert [(s["url"], s["polls"], s["consecutive_failures"]) for s in state] == [(feed, 2, 0)]
    assert state[0]["last_new_relevant_article_at"] is not None


@pytest.fixture
def plain_server(site):
    """A loopback server that ignores conditional GET: the digest feed, always in full."""
    body = read_site("/feeds/digest.rdf", site.base)
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200 if self.path == "/feed.rdf" else 404)
            self.send_header("Content-Type", "application/rdf+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def test_an_unchanged_body_is_not_parsed_again(site, wicnews, sqlite_url, plain_server):
    base, hits = plain_server
    site.reset()
    wicnews("crawl", "--feed", base + "/feed.rdf", "--db", sqlite_url, *FAST, check=True)
    second = wicnews("crawl", "--feed", base + "/feed.rdf", "--db", sqlite_url, *FAST, check=True)
    assert "skipped: unchanged 1" in second.stdout
    assert hits.count("/feed.rdf") == 2
    assert site.hits()["/digest/stories/wic-2022-business-focus.html"] == 1


def test_a_crawl_finding_its_sources_locked_records_a_skipped_run(site, wicnews, db_url):
    feed = site.url("/feeds/digest.rdf")
    engine = db.open_database(db_url)
    try:
        with crawl_lock(engine, sources_key([feed])) as held:
            assert held
            result = wicnews("crawl", "--feed", feed, "--db", db_url, *FAST)
    finally:
        engine.dispose()
    assert result.returncode == 0, result.stderr
    assert "another crawl holds the lock on these 1 source(s)" in result.stderr
    assert [r.status for r in all_runs(db_url)] == ["skipped"]
    # other sources are not locked; the same ones, once released, are crawled
    assert wicnews("crawl", "--feed", feed, "--db", db_url, *FAST).returncode == 0
    assert [r.status for r in all_runs(db_url)] == ["skipped", "finished"]


HOLDER = """
import sys, time
from wicnews.db import engine as db
from wicnews.db.locks import crawl_lock, sources_key
engine = db.open_database(sys.argv[1])
with crawl_lock(engine, sources_key([sys.argv[2]])) as held:
    print("held" if held else "not held", flush=True)
    time.sleep(600)
"""


def test_a_lock_left_by_a_killed_crawl_does_not_block_the_next(site, wicnews, db_url, tmp_path):
    feed = site.url("/feeds/digest.rdf")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, db_url, feed], stdout=subprocess.PIPE, text=True,
                              env=env_for(tmp_path))
    try:
        assert holder.stdout.readline().strip() == "held"
        assert "holds the lock" in wicnews("crawl", "--feed", feed, "--db", db_url, *FAST).stderr
        holder.kill()  # SIGKILL: nothing gets to clean up
        holder.wait(timeout=30)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        holder.stdout.close()
    result = wicnews("crawl", "--feed", feed, "--db", db_url, *FAST)
    assert result.returncode == 0 and "holds the lock" not in result.stderr
    assert [r.status for r in all_runs(db_url)] == ["skipped", "finished"]


def test_schedule_every_polls_cheaply_never_overlaps_and_stops_on_sigterm(site, sqlite_url, tmp_path):
    site.reset()
    feeds = ["/feeds/digest.rdf", "/feeds/scmp-china.rss"]
    command = [sys.executable, "-m", "wicnews.cli", "schedule", "--every", "2s", "--db", sqlite_url, *FAST,
               *[arg for path in feeds for arg in ("--feed", site.url(path))]]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_for(tmp_path))
    try:
        assert proc.stdout.readline().startswith("schedule every-2s: every 2 s")
        db_file = sqlite_url.removeprefix("sqlite:///")
        wait_for(lambda: os.path.exists(db_file) and
                 sum(r.status == "finished" for r in all_runs(sqlite_url)) >= 3, "three finished runs")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "scheduler stopped" in out
    runs = all_runs(sqlite_url)
    assert all(r.status in ("finished", "interrupted") and r.finished_at for r in runs), [r.status for r in runs]
    for earlier, later in itertools.pairwise(runs):
        assert later.started_at >= earlier.finished_at, "runs overlap"
    seen = statuses(site)
    for path in feeds:
        assert seen[path]["200"] == 1 and seen[path]["304"] >= 2, seen[path]
    articles = {path: counts for path, counts in seen.items() if not path.startswith(("/feeds/", "/robots"))}
    assert articles and all(counts == {"200": 1} for counts in articles.values()), articles


def _runs_when(url: str, status: str):
    return lambda: os.path.exists(url.removeprefix("sqlite:///")) and \
        [r for r in all_runs(url) if r.status == status]


def _consistent(url: str) -> None:
    engine = db.open_database(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    finally:
        engine.dispose()
    runs = all_runs(url)
    assert len(runs) == 1 and runs[0].status == "interrupted" and runs[0].finished_at is not None, \
        [(r.status, r.finished_at) for r in runs]


@pytest.mark.parametrize("moment", ["start-up", "run row written", "downloading"])
def test_sigterm_at_any_moment_leaves_a_run_row(site, sqlite_url, tmp_path, monkeypatch, moment):
    """The scheduler's stop (one SIGTERM) at several moments of a crawl: the database stays
    consistent and the run row says ``interrupted``, whoever wrote it."""
    monkeypatch.setenv("WICNEWS_HOME", str(tmp_path / "home"))
    site.reset()
    item = scheduler.Schedule(name="slow", args=(
        "--feed", site.url("/feeds/scmp-china.rss"), "--db", sqlite_url, "-s", "DOWNLOAD_DELAY=30",
        "-s", "AUTOTHROTTLE_ENABLED=False"))
    runner = scheduler.CrawlRunner(grace=DEADLINE)
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(runner(item)))
    thread.start()
    try:
        wait_for(runner.running, "the crawl process", every=0.001)
        if moment == "run row written":
            wait_for(_runs_when(sqlite_url, "running"), "the run row")
        elif moment == "downloading":  # robots.txt fetched; the feed waits its 30 s download delay
            wait_for(lambda: site.hits().get("/robots.txt"), "the first download")
    finally:
        runner.stop()  # one SIGTERM, as the scheduler sends on its own SIGTERM
        thread.join(DEADLINE)
    assert not thread.is_alive() and len(codes) == 1
    _consistent(sqlite_url)


def test_status_and_sources_name_a_broken_source(site, wicnews, sqlite_url, capsys):
    good, broken = site.url("/feeds/digest.rdf"), site.url("/feeds/gone.rss")
    code, out = cli(capsys, "status", "--db", sqlite_url)  # no database yet: UNKNOWN on stdout, nothing created
    assert (code, out.startswith("WICNEWS UNKNOWN - no database at ")) == (3, True), out
    code, out = cli(capsys, "status", "--db", sqlite_url, "--format", "json")
    assert code == 3 and json.loads(out)["status"] == "UNKNOWN"
    assert not Path(sqlite_url.removeprefix("sqlite:///")).exists()
    wicnews("crawl", "--feed", good, "--feed", broken, "--db", sqlite_url, *FAST, check=True)
    code, out = cli(capsys, "status", "--db", sqlite_url)
    assert (code, out.startswith("WICNEWS OK - 2 source(s) healthy, last run #1 finished")) == (0, True)
    code, out = cli(capsys, "status", "--db", sqlite_url, "--max-failures", "1")
    assert code == 1
    assert out.strip() == "WICNEWS WARNING - source feed:127.0.0.1:{}/feeds/gone.rss failing: 1 failures in a row " \
        "(last: http_404)".format(site.base.rsplit(":", 1)[1])
    report = json.loads(cli(capsys, "status", "--db", sqlite_url, "--stale-after", "1s", "--format", "json")[1])
    assert report["status"] in ("OK", "CRITICAL")  # CRITICAL once a second has passed since the run
    rows = {r["url"]: r for r in json.loads(cli(capsys, "sources", "--db", sqlite_url, "--format", "json")[1])}
    assert rows[good]["last_success_at"] and rows[good]["consecutive_failures"] == 0
    assert rows[broken]["consecutive_failures"] == 1 and rows[broken]["last_error_kind"] == "http_404"
    assert rows[broken]["next_poll_at"] == rows[broken]["last_attempt_at"]  # one failure: no backoff yet
    table = cli(capsys, "sources", "--db", sqlite_url)[1]
    assert "http_404" in table and good in table


def test_prune_removes_old_runs_and_articles_only_when_asked(site, wicnews, sqlite_url, capsys):
    wicnews("crawl", "--feed", site.url("/feeds/digest.rdf"), "--db", sqlite_url, *FAST, check=True)
    engine = db.open_database(sqlite_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE runs SET started_at = '2020-01-01 00:00:00'"))
            conn.execute(text("UPDATE articles SET first_seen_at = '2020-01-01 00:00:00'"))
            conn.execute(text("UPDATE source_state SET last_attempt_at = '2020-01-01 00:00:00'"))
    finally:
        engine.dispose()
    dry = cli(capsys, "prune", "--older-than", "365d", "--dry-run", "--db", sqlite_url)[1]
    assert "would remove 1 run(s) and 1 source(s) not polled since" in dry
    assert "removed 1 run(s) and 1 source(s)" in cli(capsys, "prune", "--older-than", "365d", "--db", sqlite_url)[1]
    code, out = cli(capsys, "new", "--since", "2019-01-01", "--all", "--format", "json", "--db", sqlite_url)
    assert code == 0 and len(json.loads(out)) == 1  # articles are kept
    out = cli(capsys, "prune", "--older-than", "365d", "--articles", "--db", sqlite_url)[1]
    assert "removed 0 run(s), 1 article(s) and 0 source(s)" in out
    assert cli(capsys, "prune", "--older-than", "soon", "--db", sqlite_url)[0] == 2


@pytest.mark.e2e  # a fresh interpreter
def test_sources_and_status_import_no_crawler(sqlite_url, tmp_path):
    db.open_database(sqlite_url).dispose()
    code = ("import sys; from wicnews.cli import main; "
            "codes = [main(['sources', '--db', sys.argv[1]]), main(['status', '--db', sys.argv[1]])]; "
            "print(codes, sorted({m.split('.')[0] for m in sys.modules} & {'scrapy', 'twisted', 'lxml', 'trafilatura'}))")
    result = subprocess.run([sys.executable, "-c", code, sqlite_url], capture_output=True, text=True, cwd=tmp_path)
    assert result.stdout.strip().splitlines()[-1] == "[0, 2] []", result.stdout + result.stderr


def test_a_crawl_killed_before_it_could_record_gets_its_run_row_from_the_scheduler(site, sqlite_url, tmp_path,
                                                                                    monkeypatch):
    """The child dies of SIGTERM before it installs a handler (here: at once, on purpose):
    the scheduler writes the ``interrupted`` run row for it."""
    monkeypatch.setenv("WICNEWS_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(scheduler, "crawl_command", lambda schedule, extra=(): [
        sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"])
    item = scheduler.Schedule(name="doomed", args=("--feed", site.url("/feeds/digest.rdf"), "--db", sqlite_url))
    assert scheduler.CrawlRunner()(item) == -signal.SIGTERM
    _consistent(sqlite_url)
    assert all_runs(sqlite_url)[0].sources == ["feed:127.0.0.1:{}/feeds/digest.rdf".format(site.base.rsplit(":", 1)[1])]
