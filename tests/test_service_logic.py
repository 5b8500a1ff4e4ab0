"""The service's time logic with a fake clock: backoff, status (cadence, failing and silent
sources) and surge windows; the source health rows on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session

from wicnews import scheduler
from wicnews.db import engine as db
from wicnews.db import health
from wicnews.errors import ConfigError
from wicnews.models import Run, SourceState

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_backoff_doubles_up_to_its_cap():
    delays = [scheduler.backoff_delay(n, base=900, cap=6 * 3600) for n in range(0, 8)]
    assert delays == [0, 900, 1800, 3600, 7200, 14400, 21600, 21600]
    assert scheduler.backoff_delay(10_000, base=900, cap=3600) == 3600  # no overflow
    # a passing hiccup is not backed off: from the 3rd failure in a row only
    assert [scheduler.backoff_delay(n, base=60, cap=600, after=3) for n in range(1, 7)] == [0, 0, 60, 120, 240, 480]


@pytest.fixture
def engine(db_url):
    engine = db.open_database(db_url)
    yield engine
    engine.dispose()


def poll(outcome="read", **kw):
    return health.Poll("feed-a", "http://a.example/feed", "feed", outcome, **kw)


def test_a_failing_source_backs_off_and_recovers_on_its_own(engine):
    delay = partial(scheduler.backoff_delay, base=60, cap=300)
    now = T0
    for expected in (60, 120, 240, 300, 300):
        with Session(engine) as s, s.begin():
            health.record_polls(s, [poll("failed", error_kind="http_500")], now, delay)
        with Session(engine) as s:
            state = s.get(SourceState, "feed-a")
            assert state.next_poll_at == now + timedelta(seconds=expected)
            assert (state.last_error_kind, state.last_success_at) == ("http_500", None)
        now = state.next_poll_at
    with Session(engine) as s, s.begin():
        health.record_polls(s, [poll(articles_new=2, relevant_new=1,
                                     validators={"etag": '"x"', "last_modified": None, "body_hash": "h"})], now, delay)
    with Session(engine) as s:
        state = s.get(SourceState, "feed-a")
        assert (state.consecutive_failures, state.next_poll_at, state.last_success_at) == (0, None, now)
        assert (state.etag, state.body_hash, state.last_new_relevant_article_at) == ('"x"', "h", now)
        row = health.source_dict(state)
    assert row["consecutive_failures"] == 0 and row["articles_per_poll"] == 2.0 and row["name"] == "feed-a"
    assert list(row) == list(health.SOURCE_FIELDS)


def test_articles_per_poll_and_the_usual_gap(engine):
    delay = partial(scheduler.backoff_delay, base=60, cap=300)
    for hours, new in ((0, 3), (1, 0), (2, 1), (3, 0)):
        with Session(engine) as s, s.begin():
            health.record_polls(s, [poll("not_modified" if not new else "read", articles_new=new)],
                                T0 + timedelta(hours=hours), delay)
    with Session(engine) as s:
        state = s.get(SourceState, "feed-a")
        assert (state.polls, state.articles_total, state.new_article_gap_seconds) == (4, 4, 7200.0)
        assert state.last_new_article_at == T0 + timedelta(hours=2)


def _run(id, status, finished):
    return Run(id=id, spider="monitor", status=status, started_at=finished - timedelta(minutes=1), finished_at=finished)


def _state(name, failures=0, last_new=None, gap=None):
    return SourceState(name=name, url="http://x/" + name, kind="feed", consecutive_failures=failures,
                       last_error_kind="http_500" if failures else None, last_new_article_at=last_new,
                       new_article_gap_seconds=gap)


def test_status_is_ok_when_all_is_well():
    finished = _run(7, "finished", T0 - timedelta(minutes=20))
    assert health.status_problems(T0, finished, finished, [_state("a")]) == []


def test_status_names_a_failed_last_run_and_a_missed_cadence():
    ok = _run(3, "finished", T0 - timedelta(hours=5))
    problems = health.status_problems(T0, _run(4, "failed", T0 - timedelta(hours=3)), ok, [])
    assert problems == [(health.CRITICAL, "last run #4 failed"),
                        (health.CRITICAL, "no run finished within 2h (last: run #3, 5h ago)")]
    assert health.status_problems(T0, None, None, [])[0] == (health.CRITICAL, "no run has finished yet")
    limits = health.Thresholds(stale_after=timedelta(hours=6))
    assert health.status_problems(T0, ok, ok, [], limits) == []


def test_status_names_failing_and_silent_sources():
    ok = _run(9, "finished", T0)
    states = [_state("broken", failures=3), _state("flaky", failures=2),
              _state("quiet", last_new=T0 - timedelta(days=5), gap=3600.0),   # usually hourly: 5 days is long
              _state("slow", last_new=T0 - timedelta(days=5), gap=86400.0)]   # usually daily: 10 d allowed
    assert health.status_problems(T0, ok, ok, states) == [
        (health.WARNING, "source broken failing: 3 failures in a row (last: http_500)"),
        (health.WARNING, "source quiet silent: nothing new since 5d ago (usually every 1h)")]


# --- surge windows ---------------------------------------------------------------------

def test_the_bundled_summits_cover_every_wuzhen_summit():
    surge = scheduler.load_surge()
    assert len(surge.windows) == 12 and surge.every_seconds == 600
    opens, closes = surge.windows[-2]  # WIC 2024: 20-22 November, China time
    assert opens == datetime(2024, 11, 12, 16, 0, tzinfo=UTC)  # 7 days before 00:00 UTC+8
    assert closes == datetime(2024, 11, 25, 16, 0, tzinfo=UTC)  # 3 days after the 22nd ends
    assert surge.active(datetime(2024, 11, 21, tzinfo=UTC))
    assert not surge.active(datetime(2024, 12, 1, tzinfo=UTC))


def test_a_user_adds_next_years_summit_without_code(tmp_path):
    path = tmp_path / "summits.toml"
    path.write_text('[window]\nbefore = "1d"\nafter = "0s"\nevery = "5m"\n'
                    '[[summit]]\nname = "WIC 2026"\nstart = 2026-11-10\nend = 2026-11-12\n')
    surge = scheduler.load_surge(path)
    assert surge.every_seconds == 300
    assert surge.windows == ((datetime(2026, 11, 8, 16, tzinfo=UTC), datetime(2026, 11, 12, 16, tzinfo=UTC)),)


@pytest.mark.parametrize("body, message", [
    ('[[summit]]\nname = "x"\nstart = "soon"\nend = 2026-01-01\n', "expected a date"),
    ('[[summit]]\nname = "x"\nstart = 2026-01-02\nend = 2026-01-01\n', "is before start"),
    ('[window]\nevery = "often"\n', "expected a span"),
    ('[window]\nbfore = "1d"\n', "unknown key 'bfore'"),
])
def test_summit_file_mistakes_are_named(tmp_path, body, message):
    path = tmp_path / "summits.toml"
    path.write_text(body)
    with pytest.raises(ConfigError, match=message):
        scheduler.load_surge(path)


SURGE = scheduler.Surge(windows=((datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 15, tzinfo=UTC)),),
                        every_seconds=600)


def test_surge_tightens_inside_a_window_and_relaxes_after():
    hour = timedelta(hours=1)
    before, inside, after = datetime(2026, 10, 20, tzinfo=UTC), datetime(2026, 11, 5, tzinfo=UTC), \
        datetime(2026, 11, 20, tzinfo=UTC)
    # outside: the schedule's own next time
    assert scheduler.surge_next(before, before, before + hour, SURGE) == before + hour
    assert scheduler.surge_next(after, after, after + hour, SURGE) == after + hour
    # inside: at least every 10 minutes
    assert scheduler.surge_next(inside, inside, inside + hour, SURGE) == inside + timedelta(minutes=10)
    # a window opening before the next base time fires when it opens
    eve = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)
    assert scheduler.surge_next(eve, eve, eve + hour, SURGE) == datetime(2026, 11, 1, tzinfo=UTC)
    # a base schedule tighter than the surge one stays as it is
    assert scheduler.surge_next(inside, inside, inside + timedelta(minutes=2), SURGE) == inside + timedelta(minutes=2)
    # the window's last tightened run, then back to the base cadence
    end = datetime(2026, 11, 14, 23, 55, tzinfo=UTC)
    assert scheduler.surge_next(end, end, end + hour, SURGE) == end + hour


def test_the_surge_trigger_wraps_apscheduler_triggers():
    trigger = scheduler.surge_trigger(IntervalTrigger(hours=6, start_date=datetime(2026, 1, 1, tzinfo=UTC),
                                                      timezone="UTC"), SURGE)
    inside = datetime(2026, 11, 5, 6, tzinfo=UTC)
    assert trigger.get_next_fire_time(inside, inside) == inside + timedelta(minutes=10)
    outside = datetime(2026, 12, 5, 6, tzinfo=UTC)
    assert trigger.get_next_fire_time(outside, outside) == outside + timedelta(hours=6)


def test_schedules_may_opt_out_of_surges(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[[schedule]]\nname = "nightly"\ncron = "0 3 * * *"\nsurge = false\n')
    [item] = scheduler.load_schedules(path)
    assert item.surge is False
    path.write_text('[[schedule]]\nname = "nightly"\ncron = "0 3 * * *"\nsurge = "no"\n')
    with pytest.raises(ConfigError, match="'surge' must be true or false"):
        scheduler.load_schedules(path)
