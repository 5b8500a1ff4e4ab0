"""Schedules: definitions, the APScheduler 3.x scheduler, and a scheduled crawl for real."""

from __future__ import annotations

import json
import subprocess
import threading

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from conftest import FAST, wait_until

from wicnews import scheduler as schedules
from wicnews.errors import ConfigError


def test_bundled_schedules_load():
    loaded = schedules.load_schedules()
    assert [s.name for s in loaded] == ["all-sources"]  # summit-week is disabled
    assert loaded[0].cron == "*/30 * * * *" and loaded[0].timeout_seconds == 7200


@pytest.mark.parametrize("body, message", [
    ('[[schedule]]\nname = "a"\ncron = "61 * * * *"\n', "bad cron line"),
    ('[[schedule]]\nname = "a"\ncron = "* * * * *"\nevery = "5m"\n', "exactly one of"),
    ('[[schedule]]\nname = "a"\nevery = "5 minutes"\n', "expected a span"),
    ('[[schedule]]\nname = "a"\nevery = "5m"\nargs = "--feed x"\n', "list of strings"),
    ('[[schedule]]\nname = "a"\nevery = "5m"\ncrn = "x"\n', "unknown field 'crn'"),
    ('[[schedule]]\nname = "a"\nevery = "5m"\n[[schedule]]\nname = "a"\nevery = "6m"\n', "duplicate name"),
    ('[[schedule]\n', "invalid TOML"),
])
def test_mistakes_are_named(tmp_path, body, message):
    path = tmp_path / "s.toml"
    path.write_text(body)
    with pytest.raises(ConfigError, match=message) as info:
        schedules.load_schedules(path)
    assert str(info.value).startswith(str(path))


def test_scheduler_jobs_have_real_misfire_grace_and_never_overlap():
    items = [schedules.Schedule(name="c", cron="*/30 * * * *"), schedules.Schedule(name="i", every_seconds=90)]
    scheduler = schedules.build_scheduler(items, print, BackgroundScheduler)
    scheduler.start(paused=True)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert isinstance(jobs["c"].trigger, CronTrigger) and isinstance(jobs["i"].trigger, IntervalTrigger)
        for job in jobs.values():
            assert job.misfire_grace_time == 600 and job.coalesce is True and job.max_instances == 1
    finally:
        scheduler.shutdown(wait=False)


def test_interval_jobs_fire():
    fired = threading.Event()
    calls = []

    def runner(schedule):
        calls.append(schedule.name)
        if len(calls) >= 2:
            fired.set()

    scheduler = schedules.build_scheduler([schedules.Schedule(name="tick", every_seconds=1)], runner, BackgroundScheduler)
    scheduler.start()
    try:
        assert fired.wait(120)  # returns at the second tick; the deadline only catches a hang
    finally:
        scheduler.shutdown(wait=False)
    assert calls[:2] == ["tick", "tick"]


def test_schedule_once_runs_a_real_crawl_in_a_subprocess(site, wicnews, tmp_path, sqlite_url):
    path = tmp_path / "s.toml"
    args = json.dumps(["--feed", site.url("/feeds/digest.rdf"), *FAST])
    path.write_text(f'[[schedule]]\nname = "digest"\nevery = "30m"\nargs = {args}\n')
    result = wicnews("schedule", "--once", "--file", str(path), "--db", sqlite_url)
    assert result.returncode == 0, result.stderr
    stored = json.loads(wicnews("new", "--db", sqlite_url, "--format", "json", check=True).stdout)
    assert [a["site_name"] for a in stored] == ["Daily Tech Digest"]


class HeldSite:
    """A loopback site whose one article does not answer until ``release()``: a crawl of its
    feed is surely mid-run (its request in flight) for as long as the test wants."""

    FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Held</title><link>{base}/</link><description>held</description>
<item><title>World Internet Conference opens in Wuzhen</title><link>{base}/held.html</link>
<guid>{base}/held.html</guid></item></channel></rss>
"""
    PAGE = ("<html><head><title>World Internet Conference opens in Wuzhen</title></head><body><article>"
            + "<p>The World Internet Conference opened in Wuzhen on Wednesday with delegates from many countries.</p>" * 5
            + "</article></body></html>")

    def __init__(self):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.requested, self.released = [], threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                site.requested.append(self.path)
                if self.path == "/feed.rss":
                    self.answer(200, "application/rss+xml", site.FEED.format(base=site.base))
                elif self.path == "/held.html":
                    site.released.wait(300)
                    self.answer(200, "text/html; charset=utf-8", site.PAGE)
                else:
                    self.answer(404, "text/plain", "not found")

            def answer(self, status, kind, text):
                body = text.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def release(self):
        self.released.set()

    def close(self):
        self.release()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def held_site():
    site = HeldSite()
    yield site
    site.close()


@pytest.mark.e2e
def test_a_crawl_past_its_timeout_is_stopped_and_records_its_run(held_site, tmp_path, sqlite_url, monkeypatch):
    """SIGTERM, not SIGKILL: Scrapy closes the spider and the run row says so.

    No race with the child's start-up and no timing margin: run_crawl's own ``wait(timeout)``
    only starts once the crawl is surely mid-run (its run row written, its article request in
    flight and held by the site), and the held article is only answered once run_crawl has
    sent SIGTERM. A crawl stopped before it has a run row is another matter (see
    test_a_crawl_stopped_during_start_up_exits_124_and_records_its_run)."""
    import sqlite3

    from sqlalchemy.orm import Session

    from wicnews.db import engine as db
    from wicnews.db import runs as db_runs

    monkeypatch.setenv("WICNEWS_HOME", str(tmp_path))
    db.open_database(sqlite_url).dispose()  # created and migrated here, so the poll below only reads
    db_file = sqlite_url.removeprefix("sqlite:///")

    def run_rows() -> int:
        with sqlite3.connect(db_file, timeout=30) as conn:
            return conn.execute("SELECT count(*) FROM runs").fetchone()[0]

    mid_run = []

    class MidRunPopen(subprocess.Popen):
        def wait(self, timeout=None):
            if timeout is not None and not mid_run:
                mid_run.append(wait_until(
                    lambda: self.poll() is not None or ("/held.html" in held_site.requested and run_rows() == 1),
                    "the crawl to record its run and request the held article"))
                assert self.poll() is None, "the crawl ended before its timeout"
            return super().wait(timeout)

        def terminate(self):
            super().terminate()
            held_site.release()  # the in-flight download ends, so Scrapy can close at once

    monkeypatch.setattr(schedules.subprocess, "Popen", MidRunPopen)
    slow = schedules.Schedule(name="slow", timeout_seconds=1, args=(
        "--feed", held_site.base + "/feed.rss", "--db", sqlite_url, *FAST))
    assert schedules.run_crawl(slow, grace=120) == 124
    assert mid_run

    engine = db.open_database(sqlite_url)
    with Session(engine) as s:
        [run] = db_runs.list_runs(s)
        assert run.status == "interrupted" and run.finished_at is not None
    engine.dispose()


@pytest.mark.e2e
def test_a_crawl_stopped_during_start_up_exits_124_and_records_its_run(tmp_path, sqlite_url, monkeypatch):
    from sqlalchemy.orm import Session

    from wicnews.db import engine as db
    from wicnews.db import runs as db_runs

    monkeypatch.setenv("WICNEWS_HOME", str(tmp_path))
    db.open_database(sqlite_url).dispose()
    at_once = schedules.Schedule(name="at-once", timeout_seconds=0, args=(
        "--feed", "http://127.0.0.1:9/feed.rss", "--db", sqlite_url))
    assert schedules.run_crawl(at_once, grace=120) == 124
    engine = db.open_database(sqlite_url)
    try:
        with Session(engine) as s:
            [run] = db_runs.list_runs(s)
            assert run.status == "interrupted" and run.finished_at is not None
    finally:
        engine.dispose()
