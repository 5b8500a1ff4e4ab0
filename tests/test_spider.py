"""The spider's decisions: which publication instant to keep, which listing links to follow."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from wicnews.dates import best_published, trusted_hint
from wicnews.feeds import Entry
from wicnews.items import Article
from wicnews.sources import Source
from wicnews.spiders.monitor import MonitorSpider

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


def _hint_time(hint: Entry, source: Source):
    return trusted_hint(hint.published_at, hint.published_zone_stated, source.timezone)


def test_hint_times_are_trusted_only_with_a_zone():
    stated = Entry(url="u", published_at=INSTANT)
    naive = Entry(url="u", published_at=LOCAL_AS_UTC, published_zone_stated=False)
    assert _hint_time(stated, Source("s", "feed", "http://x/")) == INSTANT
    assert _hint_time(naive, Source("s", "feed", "http://x/")) is None
    assert _hint_time(naive, Source("s", "feed", "http://x/", timezone="Asia/Shanghai")) == INSTANT


def listing(body: str, url: str = "https://news.example.com/world/index.html", **source_fields):
    """Requests and stats of ``parse_listing`` on one listing page."""
    crawler = get_crawler(MonitorSpider, settings_dict={"WICNEWS_SKIP_SEEN": False})
    spider = MonitorSpider.from_crawler(crawler, page=url)
    source = Source("list", "page", url, **source_fields)
    response = HtmlResponse(url, body=body.encode(), encoding="utf-8", request=Request(url))
    requests = list(spider.parse_listing(response, source))
    return [r.url for r in requests], crawler.stats.get_stats()


def test_listing_links_are_resolved_against_base_href():
    urls, stats = listing('''<html><head><base href="https://news.example.com/archive/"></head><body>
        <a href="2024/11/21/wic-opens.html">relative to the base</a>
        <a href="/2024/11/22/wic-closes.html">absolute path</a>
        <a href="about.html">not an article</a>
        <a href="https://other.example.org/2024/11/21/elsewhere.html">another host</a>
        <a href="mailto:desk@news.example.com">mail</a>
        <a href="http://[broken/2024/11/21/x">malformed</a>
        <a href="2024/11/21/wic-opens.html#comments">the same again</a>
    </body></html>''')
    assert urls == ["https://news.example.com/archive/2024/11/21/wic-opens.html",
                    "https://news.example.com/2024/11/22/wic-closes.html"]
    assert stats["wicnews/errors/bad_url"] == 1  # counted, and the source was still read
    assert stats["wicnews/sources/ok"] == 1 and stats["wicnews/listing_links"] == 3


def test_a_link_pattern_follows_other_hosts():
    urls, _ = listing('''<a href="https://cdn.example.org/story/42">story</a><a href="/story/43">story</a>
        <a href="/2024/11/21/not-a-story-by-the-pattern">dated</a>''', link_pattern=r"/story/\d+")
    assert urls == ["https://cdn.example.org/story/42", "https://news.example.com/story/43"]


def _done(coroutine):
    """The value of a coroutine that never suspends (extraction in-process: nothing to wait for)."""
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value
    raise AssertionError("the coroutine waited for something")


def test_a_stub_keeps_the_date_of_a_page_refused_for_no_text():
    url = "https://news.example.com/video/wic-opens.html"
    crawler = get_crawler(MonitorSpider, settings_dict={"WICNEWS_SKIP_SEEN": False, "WICNEWS_MIN_TEXT_CHARS": 200,
                                                        "WICNEWS_EXTRACT_WORKERS": 0})
    spider = MonitorSpider.from_crawler(crawler, page=url)
    source = Source("topic", "feed", "https://news.example.com/feed.xml")
    hint = Entry(url=url, title="Video: WIC opens in Wuzhen", published_at=datetime(2024, 11, 21, 9, 0, tzinfo=UTC))
    stub = Article(url=url, source="topic", text="", title=hint.title, published_at=hint.published_at,
                   text_status="stub")
    body = ("<html><head><meta property='article:published_time' content='2024-11-20T08:30:00+08:00'>"
            "<title>Video: WIC opens</title></head><body><h1>Video: WIC opens</h1><p>Watch.</p></body></html>")
    response = HtmlResponse(url, body=body.encode(), encoding="utf-8", request=Request(url))
    kept = _done(spider.parse_article(response, source, hint, fallback=stub))
    assert kept.text_status == "stub" and kept.title == hint.title
    assert kept.published_at == datetime(2024, 11, 20, 0, 30, tzinfo=UTC)  # the publisher's time, not the feed's
    assert kept.published_offset == 480 and kept.published_source == "meta"
    assert crawler.stats.get_value("wicnews/errors/no_text") == 1  # still counted
    assert _done(spider.parse_article(response, source, hint)) is None  # no stub: nothing is made up
