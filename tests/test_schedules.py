"""Schedules: definitions, the APScheduler 3.x scheduler, and a scheduled crawl for real."""

from __future__ import annotations

import json
import threading

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from conftest import FAST

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
        assert fired.wait(10)
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


def test_a_crawl_past_its_timeout_is_stopped_and_records_its_run(site, tmp_path, sqlite_url, monkeypatch):
    """SIGTERM, not SIGKILL: Scrapy closes the spider and the run row says so."""
    monkeypatch.setenv("WICNEWS_HOME", str(tmp_path))
    slow = schedules.Schedule(name="slow", timeout_seconds=3, args=(
        "--feed", site.url("/feeds/scmp-china.rss"), "--db", sqlite_url, "-s", "DOWNLOAD_DELAY=8",
        "-s", "AUTOTHROTTLE_ENABLED=False"))
    assert schedules.run_crawl(slow, grace=60) == 124
    from sqlalchemy.orm import Session

    from wicnews.db import engine as db
    from wicnews.db import runs as db_runs

    engine = db.open_database(sqlite_url)
    with Session(engine) as s:
        [run] = db_runs.list_runs(s)
        assert run.status == "interrupted" and run.finished_at is not None
    engine.dispose()
