"""The spider's pure decisions: which publication instant to keep."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from wicnews.feeds import Entry
from wicnews.sources import Source
from wicnews.spiders.monitor import _hint_time, best_published

UTC = timezone.utc
LOCAL_AS_UTC = datetime(2024, 11, 21, 14, 5, tzinfo=UTC)   # "14:05" read without its zone
INSTANT = datetime(2024, 11, 21, 6, 5, tzinfo=UTC)         # 14:05 +08:00


@pytest.mark.parametrize("page, precision, hint, expected", [
    (INSTANT, "zone", LOCAL_AS_UTC, INSTANT),                       # a page instant wins
    (LOCAL_AS_UTC, "local", INSTANT, INSTANT),                      # same wall clock, +08:00
    (LOCAL_AS_UTC, "local", datetime(2024, 11, 21, 9, 0, tzinfo=UTC), LOCAL_AS_UTC),  # not the same wall clock
    (datetime(2024, 11, 21, tzinfo=UTC), "date", INSTANT, INSTANT),  # a bare date yields to a time that day
    (datetime(2024, 11, 25, tzinfo=UTC), "date", INSTANT, datetime(2024, 11, 25, tzinfo=UTC)),
    (None, None, INSTANT, INSTANT),
    (LOCAL_AS_UTC, "local", None, LOCAL_AS_UTC),
])
def test_best_published(page, precision, hint, expected):
    assert best_published(page, precision, hint) == expected


def test_hint_times_are_trusted_only_with_a_zone():
    stated = Entry(url="u", published_at=INSTANT)
    naive = Entry(url="u", published_at=LOCAL_AS_UTC, published_zone_stated=False)
    assert _hint_time(stated, Source("s", "feed", "http://x/")) == INSTANT
    assert _hint_time(naive, Source("s", "feed", "http://x/")) is None
    assert _hint_time(naive, Source("s", "feed", "http://x/", timezone="Asia/Shanghai")) == INSTANT
