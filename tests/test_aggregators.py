"""Topic search sources, pure parts: URLs, GDELT answers, redirect pages, the sources'
validation, backfill slices; the store's stubs on SQLite and PostgreSQL; sources check."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import FAST

from wicnews.aggregators import (
    encoded_target,
    gdelt_url,
    google_news_title,
    google_news_url,
    parse_gdelt,
    redirect_target,
)
from wicnews.backfill import day_window, pending_slices, summit_window
from wicnews.errors import ConfigError, PageError
from wicnews.sources import parse_sources

T0 = datetime(2024, 11, 15, tzinfo=UTC)


def test_google_news_search_urls_by_edition():
    en = urlsplit(google_news_url('"World Internet Conference"', "en"))
    assert (en.scheme, en.netloc, en.path) == ("https", "news.google.com", "/rss/search")
    assert parse_qs(en.query) == {"q": ['"World Internet Conference"'], "hl": ["en-US"], "gl": ["US"], "ceid": ["US:en"]}
    zh = parse_qs(urlsplit(google_news_url("世界互联网大会", "zh", start=T0, end=T0 + timedelta(days=1))).query)
    assert zh["hl"] == ["zh-CN"] and zh["gl"] == ["CN"] and zh["ceid"] == ["CN:zh-Hans"]
    assert zh["q"] == ["世界互联网大会 after:2024-11-15 before:2024-11-16"]
    assert google_news_url("x", "en", api_url="http://127.0.0.1:9/rss").startswith("http://127.0.0.1:9/rss?q=x&")


def test_gdelt_url_and_answer():
    query = parse_qs(urlsplit(gdelt_url('"Wuzhen Summit"', T0, T0 + timedelta(hours=12))).query)
    assert query == {"query": ['"Wuzhen Summit"'], "mode": ["ArtList"], "format": ["json"], "maxrecords": ["250"],
                     "sort": ["DateDesc"], "startdatetime": ["20241115000000"], "enddatetime": ["20241115120000"]}
    body = (b'{"articles": [{"url": "https://example.cn/a.html", "url_mobile": "", "title": "WIC opens ",'
            b' "seendate": "20241120T083000Z", "socialimage": "", "domain": "example.cn", "language": "Chinese",'
            b' "sourcecountry": "China"}, {"url": "javascript:x", "title": "bad"}]}')
    [entry] = parse_gdelt(body)
    assert (entry.url, entry.title, entry.outlet, entry.language) == ("https://example.cn/a.html", "WIC opens",
                                                                      "example.cn", "zh")
    assert entry.published_at == datetime(2024, 11, 20, 8, 30, tzinfo=UTC)
    assert parse_gdelt(b"{}") == [] and parse_gdelt(b"") == []
    with pytest.raises(PageError, match="phrase is too short"):
        parse_gdelt(b"The specified phrase is too short.")


@pytest.mark.parametrize(("html", "expected"), [
    ('<script>window.location.replace("https://pub.example/a")</script>', "https://pub.example/a"),
    ("<script>location.href = 'https:\\/\\/pub.example\\/b'</script>", "https://pub.example/b"),
    ('<meta http-equiv="refresh" content="0; url=https://pub.example/c">', "https://pub.example/c"),
    ('<meta content="3;URL=/d" http-equiv="Refresh">', "https://news.example/d"),
    ('<link rel="canonical" href="https://pub.example/e">', "https://pub.example/e"),
    ('<link href="https://pub.example/f" rel="canonical">', "https://pub.example/f"),
    ('<link rel="canonical" href="https://news.example/r/1">', None),   # its own URL
    ('<script>location.href = "javascript:void(0)"</script>', None),
    ("<p>nothing</p>", None),
])
def test_redirect_pages(html, expected):
    assert redirect_target(f"<html><head>{html}</head></html>", "https://news.example/r/1") == expected


def test_links_that_carry_their_target():
    assert encoded_target("https://agg.example/r?url=https%3A%2F%2Fpub.example%2Fa%3Fid%3D1") == "https://pub.example/a?id=1"
    assert encoded_target("https://agg.example/r?u=ftp://x") is None
    import base64

    article_id = base64.urlsafe_b64encode(b"\x08\x13\x22\x1bhttps://pub.example/story-1\xd2\x01\x00").decode().rstrip("=")
    assert encoded_target(f"https://news.google.com/rss/articles/{article_id}?oc=5") == "https://pub.example/story-1"
    assert google_news_title("Summit opens - China Daily", "China Daily") == "Summit opens"
    assert google_news_title("Summit opens", "China Daily") == "Summit opens"


def test_topic_sources_validation():
    [gn, gd] = parse_sources('''
[[source]]
name = "gn"
kind = "google_news"
query = "乌镇峰会"
language = "zh"

[[source]]
name = "gd"
kind = "gdelt"
query = '"Wuzhen Summit"'
api_url = "http://127.0.0.1:8/api"
''')
    assert "hl=zh-CN" in gn.url and gn.is_topic and gd.url == "http://127.0.0.1:8/api" and gd.query == '"Wuzhen Summit"'
    for body, message in ((' kind = "gdelt"', "'query' is required"),
                          (' kind = "gdelt"\nquery = "x"\nurl = "https://x.example"', "takes 'query'"),
                          (' kind = "google_news"\nquery = "x"\nlanguage = "fr"', "google_news editions"),
                          (' kind = "feed"\nurl = "https://x.example"\nquery = "x"', "only applies to the topic kinds")):
        with pytest.raises(ConfigError, match=message):
            parse_sources(f'[[source]]\nname = "s"\n{body}\n', "f.toml")


def test_pending_slices_skip_what_is_done():
    window = day_window(date(2024, 11, 15), date(2024, 11, 17))
    assert window == (T0, T0 + timedelta(days=3))
    assert len(pending_slices(window, [])) == 3
    half = (T0 + timedelta(days=1), T0 + timedelta(days=1, hours=12))
    left = pending_slices(window, [(T0, T0 + timedelta(days=1)), half])
    assert left == [(half[1], T0 + timedelta(days=2)), (T0 + timedelta(days=2), T0 + timedelta(days=3))]
    assert pending_slices(window, [(T0 - timedelta(days=9), T0 + timedelta(days=9))]) == []


def test_summit_window_from_the_schedules_file():
    start, end = summit_window(2024)
    assert start == datetime(2024, 11, 13, tzinfo=UTC) and end == datetime(2024, 11, 30, tzinfo=UTC)
    with pytest.raises(ConfigError, match="no summit 1990"):
        summit_window(1990)


def _values(url: str, **extra) -> dict:
    from pipelines.dedupe import stub_text_key, text_key, title_key
    from wicnews.models import utcnow
    from wicnews.urls import url_key

    text = extra.pop("text", "")
    title = extra.pop("title", "Wuzhen Summit opens with a call for AI governance rules")
    stub = not text
    return {"url": url, "canonical_url": url, "url_key": url_key(url), "title": title, "title_key": title_key(title),
            "text": text, "text_key": stub_text_key(url_key(url)) if stub else text_key(text),
            "text_status": "stub" if stub else "full", "relevant": True, "source": "t", "first_seen_at": utcnow(),
            "authors": [], "tags": [], "matched_terms": [], **extra}


def test_a_stub_is_upgraded_in_place_by_its_article(db_url):
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from wicnews.db.articles import store_article, store_stub
    from wicnews.db.engine import open_database
    from wicnews.models import Article, ArticleUrl
    from wicnews.urls import url_key

    engine = open_database(db_url)
    link, real = "https://agg.example/r/1", "https://pub.example/story"
    with Session(engine) as s, s.begin():
        stub_id, outcome = store_stub(s, _values(link, site_name="Zhejiang Daily"), {})
        assert outcome == "new"
        assert store_stub(s, _values(link), {})[1] == "duplicate"
    with Session(engine) as s, s.begin():
        article_id, outcome = store_article(s, _values(real, text="The summit opened in Wuzhen. " * 20),
                                            {url_key(real): real})
    assert (article_id, outcome) == (stub_id, "upgraded")
    with Session(engine) as s:
        row = s.get(Article, stub_id)
        assert row.text_status == "full" and row.url == real and row.text.startswith("The summit")
        assert s.scalar(select(ArticleUrl.fetched).where(ArticleUrl.url_key == url_key(link))) is True
        # a stub for a story already stored is a duplicate of it, not a new row
        assert store_stub(s, _values("https://agg.example/r/2"), {})[0] == stub_id
    engine.dispose()


def test_sources_check_offline(site, wicnews, tmp_path):
    sources = tmp_path / "sources.toml"
    sources.write_text(f"""
[[source]]
name = "feed-ok"
kind = "feed"
url = "{site.url('/feeds/scmp-china.rss')}"

[[source]]
name = "listing-empty"
kind = "page"
url = "{site.url('/scmp/topics/world-internet-conference.html')}"
link_pattern = "/nothing-here/"

[[source]]
name = "feed-gone"
kind = "feed"
url = "{site.url('/feeds/no-such-feed.rss')}"
""", encoding="utf-8")
    result = wicnews("sources", "check", "--sources", str(sources), *FAST)
    assert result.returncode == 1, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:]}
    assert rows["feed-ok"][2] == "ok" and int(rows["feed-ok"][3]) > 0 and rows["feed-ok"][4].startswith("20")
    assert rows["listing-empty"][2:4] == ["no_links", "0"]
    assert rows["feed-gone"][2] == "http_404"


@pytest.mark.live
def test_sources_check_live(wicnews, request):
    """The bundled sources, fetched from the real web (run with -m live before a summit)."""
    if "live" not in (request.config.getoption("-m") or "") or "not live" in request.config.getoption("-m"):
        pytest.skip("live check: run with -m live")
    result = wicnews("sources", "check", timeout=900)
    assert result.returncode in (0, 1), result.stderr
    assert len(result.stdout.splitlines()) > 10
