"""wicnews.dates: what a date says (an instant, a local time, a day), and which one to keep."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from wicnews.dates import (
    ParsedTime,
    parse_time,
    published_time,
    same_wall_clock,
    trusted_hint,
)


@pytest.mark.parametrize("value, expected", [
    ("2024-11-21T14:05:00+08:00", ParsedTime(datetime(2024, 11, 21, 14, 5, tzinfo=ZoneInfo("Etc/GMT-8")), "zone")),
    ("2024-11-21T06:05:00Z", ParsedTime(datetime(2024, 11, 21, 6, 5, tzinfo=UTC), "zone")),
    ("Thu, 21 Nov 2024 14:05:00 GMT", ParsedTime(datetime(2024, 11, 21, 14, 5, tzinfo=UTC), "zone")),
    ("2024-11-21 14:05", ParsedTime(datetime(2024, 11, 21, 14, 5), "local")),
    ("2024年11月21日 14:05", ParsedTime(datetime(2024, 11, 21, 14, 5), "local")),
    ("2024/11/21", ParsedTime(datetime(2024, 11, 21), "date")),
    ("2024-11-21", ParsedTime(datetime(2024, 11, 21), "date")),
])
def test_parse_time_keeps_whether_a_zone_was_stated(value, expected):
    parsed = parse_time(value)
    assert parsed is not None
    assert (parsed.value, parsed.precision) == (expected.value, expected.precision)
    assert parsed.zone_stated is (expected.precision == "zone")
    assert (parsed.value.tzinfo is None) is not parsed.zone_stated


@pytest.mark.parametrize("value", [None, "", "  ", "garbage", "1889-01-01", "2024-13-45 10:00"])
def test_parse_time_rejects(value):
    assert parse_time(value) is None


def test_a_naive_time_is_placed_in_a_zone_only_when_asked():
    parsed = parse_time("2024-11-21 14:05")
    assert parsed is not None
    assert parsed.instant() == datetime(2024, 11, 21, 14, 5, tzinfo=UTC)
    assert parsed.instant(ZoneInfo("Asia/Shanghai")) == datetime(2024, 11, 21, 6, 5, tzinfo=UTC)
    stated = parse_time("2024-11-21T14:05:00+08:00")
    assert stated is not None and stated.instant(ZoneInfo("America/New_York")) == datetime(2024, 11, 21, 6, 5, tzinfo=UTC)


def test_published_time_in_a_zone_that_is_not_whole_hours():
    kathmandu = ZoneInfo("Asia/Kathmandu")  # +05:45
    assert published_time(["2024-11-21 14:05"], kathmandu) == (datetime(2024, 11, 21, 8, 20, tzinfo=UTC), "local")
    assert published_time(["2024-11-21T14:05:00+05:45"], UTC) == (datetime(2024, 11, 21, 8, 20, tzinfo=UTC), "zone")


def test_trusted_hint_and_wall_clock():
    local_as_utc = datetime(2024, 11, 21, 14, 5, tzinfo=UTC)
    assert trusted_hint(local_as_utc, True, None) == local_as_utc
    assert trusted_hint(local_as_utc, False, None) is None
    assert trusted_hint(local_as_utc, False, "Asia/Shanghai") == datetime(2024, 11, 21, 6, 5, tzinfo=UTC)
    assert trusted_hint(None, False, "Asia/Shanghai") is None
    assert same_wall_clock(local_as_utc, datetime(2024, 11, 21, 6, 5, tzinfo=UTC))
    assert not same_wall_clock(local_as_utc, datetime(2024, 11, 21, 6, 6, tzinfo=UTC))


@pytest.mark.e2e  # a fresh interpreter
def test_feeds_and_sitemaps_do_not_import_the_extractor():
    """Parsing a feed or a sitemap needs dates, not trafilatura (slow to import, heavy)."""
    code = ("import sys, wicnews.sitemaps, wicnews.feeds\n"
            "assert 'trafilatura' not in sys.modules, 'trafilatura imported'\n"
            "assert 'wicnews.extract' not in sys.modules, 'wicnews.extract imported'\n")
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


@pytest.mark.e2e  # a fresh interpreter
def test_spiders_and_middlewares_do_not_import_the_pipelines():
    code = ("import sys, wicnews.spiders.monitor, wicnews.middlewares\n"
            "assert not [m for m in sys.modules if m.startswith('wicnews.pipelines')], 'pipelines imported'\n")
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
