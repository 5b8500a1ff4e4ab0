"""Metadata classes: dates from every candidate, titles without site names, authors as
people, language by script, raw pages and re-extraction. Small pages written for the tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from wicnews.authors import chinese_credits, people
from wicnews.dates import parse_time
from wicnews.errors import ErrorKind, PageError
from wicnews.extract import EXTRACTOR_VERSION, extract_article, script_language
from wicnews.titles import best_title, clean_title, site_keys

EN_BODY = "".join(f"<p>Paragraph {i}: delegates at the summit discussed data governance, artificial intelligence "
                  f"and cross-border cooperation in detail, with several new agreements signed.</p>" for i in range(6))
ZH_BODY = "".join(f"<p>第{i}段：2022年世界互联网大会乌镇峰会在浙江乌镇开幕，来自全球{i + 10}个国家的嘉宾围绕"
                  f"数字经济、人工智能与网络安全展开讨论。</p>" for i in range(8))


def page(head: str, body: str) -> bytes:
    return f"<html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>".encode()


# --- dates -----------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("2022.01.20 16:31", datetime(2022, 1, 20, 16, 31)),
    ("2022-01-20 16:31:5", datetime(2022, 1, 20, 16, 31, 5)),  # one-digit seconds
    ("2005年03月21日 11:21", datetime(2005, 3, 21, 11, 21)),
])
def test_written_times_parse_as_local(value, expected):
    parsed = parse_time(value)
    assert parsed is not None and parsed.value == expected and parsed.precision == "local"


def test_nothing_before_1995():
    assert parse_time("1994-12-31") is None


def test_a_chinese_time_in_the_text_dates_the_page_in_china_time_and_keeps_the_offset():
    body = f"<article><h1>乌镇峰会开幕</h1><div class='info'>2022年11月09日 08:21  来源：人民网</div>{ZH_BODY}</article>"
    art = extract_article(page("<title>乌镇峰会开幕</title>", body), "https://example.com/a.html")
    assert art.language == "zh"
    assert art.published_at == datetime(2022, 11, 9, 0, 21, tzinfo=UTC)  # 08:21 Beijing
    assert art.published_offset == 480 and art.published_source == "text"


def test_a_date_only_meta_tag_is_refined_by_the_time_written_under_the_headline():
    head = "<meta property='article:published_time' content='2022-11-10'><title>Summit opens</title>"
    body = f"<article><h1>Summit opens</h1><p class='byline'>Nov 10, 2022 10:05am</p>{EN_BODY}</article>"
    art = extract_article(page(head, body), "https://example.com/story")
    assert art.published_at == datetime(2022, 11, 10, 10, 5, tzinfo=UTC)
    assert art.published_source == "text"


def test_future_dates_are_ignored_and_modified_time_is_kept():
    head = ("<script type='application/ld+json'>{\"@type\": \"NewsArticle\", \"datePublished\": \"2099-01-01T00:00:00Z\","
            "\"dateModified\": \"2022-11-11T08:00:00+08:00\"}</script>"
            "<meta property='article:published_time' content='2022-11-10T09:00:00+08:00'>")
    art = extract_article(page(head, f"<article><h1>T</h1>{EN_BODY}</article>"), "https://example.com/s")
    assert art.published_at == datetime(2022, 11, 10, 1, 0, tzinfo=UTC)
    assert art.published_offset == 480 and art.published_source == "meta"
    assert art.modified_at == datetime(2022, 11, 11, 0, 0, tzinfo=UTC)


def test_a_page_with_a_date_but_no_text_is_refused_with_its_date():
    head = "<meta property='article:published_time' content='2022-11-10T09:00:00+08:00'><title>Video: opening</title>"
    with pytest.raises(PageError) as refused:
        extract_article(page(head, "<h1>Video: opening</h1><p>Watch.</p>"), "https://example.com/v")
    assert refused.value.kind == ErrorKind.NO_TEXT
    assert refused.value.extracted.published_at == datetime(2022, 11, 10, 1, 0, tzinfo=UTC)


# --- titles ----------------------------------------------------------------------------------

@pytest.mark.parametrize("title, url, names, expected", [
    ("Russia hits Kyiv - National | Globalnews.ca", "https://globalnews.ca/news/1", set(), "Russia hits Kyiv"),
    ("Steigende US-Zinsen setzen Dax zu | Börsen-Zeitung", "https://www.boersen-zeitung.de/a", {"Börsen-Zeitung"},
     "Steigende US-Zinsen setzen Dax zu"),
    ("Ziele, Chancen, Risiken | DW | 28.04.2023", "https://www.dw.com/de/a", {"DW"}, "Ziele, Chancen, Risiken"),
    ("Idaho case: roommate talks | The Gateway Pundit | by Cristina Laila", "https://www.thegatewaypundit.com/a",
     {"The Gateway Pundit"}, "Idaho case: roommate talks"),
    ("乌镇峰会开幕_新华网", "https://www.news.cn/a.htm", {"新华网"}, "乌镇峰会开幕_新华网"),  # no separator: left alone
    ("乌镇峰会开幕 | 新华网", "https://www.news.cn/a.htm", {"新华网"}, "乌镇峰会开幕"),
    ("Hamburg: Neuer Hafen - Nachrichten - WELT", "https://www.welt.de/a", {"WELT"}, "Hamburg: Neuer Hafen"),
])
def test_titles_lose_site_names_sections_and_dates(title, url, names, expected):
    assert clean_title(title, site_keys(url, names)) == expected


def test_the_headline_is_the_value_candidates_agree_on_and_h1_needs_support():
    keys = site_keys("https://example.com/a", {"Example News"})
    assert best_title([("og", "Summit opens | Example News"), ("h1", "Summit opens"), ("title", "Summit opens - Example News")],
                      keys) == "Summit opens"
    assert best_title([("og", "Summit opens"), ("h1", "Example News")], keys) == "Summit opens"  # a logo in <h1>


# --- authors ---------------------------------------------------------------------------------

@pytest.mark.parametrize("values, orgs, expected", [
    (["Von Jemima Kelly"], set(), ["Jemima Kelly"]),
    (["Capital Von Jemima Kelly"], set(), ["Jemima Kelly"]),
    (["Autor: Monika Bolliger; Anna Trechsel"], set(), ["Monika Bolliger", "Anna Trechsel"]),
    (["Por María R. Sahuquillo"], set(), ["María R. Sahuquillo"]),
    (["J.R.R. Tolkien"], set(), ["J.R.R. Tolkien"]),
    (["Ursula von der Leyen"], set(), ["Ursula von der Leyen"]),
    (["Frankfurter Allgemeine Zeitung GmbH; Ralf Euler"], set(), ["Ralf Euler"]),
    (["Condé Nast; Rachel Riederer"], set(), ["Rachel Riederer"]),
    (["105092", "Jane Doe"], set(), ["Jane Doe"]),
    (["jane.doe@example.com; Jane Doe"], set(), ["Jane Doe"]),
    (["Sophie Foster; Sophie-Foster"], set(), ["Sophie Foster"]),
    (["Trine Jørgensen og Tôrtia Reimer-Johansen"], set(), ["Trine Jørgensen", "Tôrtia Reimer-Johansen"]),
    (["Heise Online; Dirk Knop"], {"heise online"}, ["Dirk Knop"]),
    (["신현주 기자"], set(), ["신현주"]),
])
def test_authors_are_people(values, orgs, expected):
    assert people(values, orgs) == expected


def test_japanese_names_are_not_split_as_chinese():
    assert people(["大渡 美咲"], set(), split_cjk=False) == ["大渡 美咲"]
    assert people(["王喆 李堃"], set(), split_cjk=True) == ["王喆", "李堃"]


def test_chinese_credits_keep_editors_and_origin_apart():
    text = "本报记者 王喆 李堃\n乌镇峰会开幕，嘉宾云集。\n来源：人民网\n（责任编辑：赵喆、孙婧）"
    assert chinese_credits(text) == (["王喆", "李堃"], ["赵喆", "孙婧"], "人民网")


def test_a_chinese_byline_in_the_text_names_the_authors():
    body = f"<article><h1>乌镇峰会开幕</h1><p>作者：张三</p>{ZH_BODY}<p>（责编：李四）</p></article>"
    art = extract_article(page("<title>乌镇峰会开幕</title>", body), "https://example.cn/a.html")
    assert art.authors == ["张三"] and art.editors == ["李四"]


# --- language --------------------------------------------------------------------------------

def test_script_tells_japanese_and_korean_from_chinese():
    assert script_language("世界インターネット会議が烏鎮で開幕した。各国の代表が参加している。") == "ja"
    assert script_language("세계인터넷대회가 우전에서 개막했다. 각국 대표들이 참석했다.") == "ko"
    assert script_language("世界互联网大会在乌镇开幕。各国代表参加。") == "zh"


def test_a_japanese_page_declared_zh_is_japanese_and_not_read_in_china_time():
    body = "".join(f"<p>第{i}段：世界インターネット会議が烏鎮で開幕し、各国の代表がデータの統治について"
                   f"議論しました。多くの企業が参加しています。</p>" for i in range(8))
    head = "<meta property='article:published_time' content='2022-11-09 09:00'>"
    html = page(head, f"<article><h1>烏鎮で会議が開幕</h1>{body}</article>").replace(b"<html>", b"<html lang='zh'>")
    art = extract_article(html, "https://example.com/ja")
    assert art.language == "ja"
    assert art.published_offset == 540  # Tokyo, not Beijing
    assert art.extractor_version == EXTRACTOR_VERSION


# --- raw pages and re-extraction ---------------------------------------------------------------

def test_reextract_rebuilds_an_article_from_its_raw_page(sqlite_url):
    from wicnews.articles import item_from_page, prepare_item
    from wicnews.db.articles import store_article
    from wicnews.db.engine import open_database
    from wicnews.db.raw import keep_raw_page
    from wicnews.models import Article, RawPage
    from wicnews.pipelines.store import article_row
    from wicnews.reextract import reextract

    head = "<meta property='article:published_time' content='2022-11-10T09:00:00+08:00'><title>Summit opens | Wire</title>"
    body = page(head, f"<article><h1>Summit opens</h1>{EN_BODY}</article>")
    url = "https://wire.example.com/summit"
    engine = open_database(sqlite_url)
    item = prepare_item(item_from_page(extract_article(body, url), url))
    from itemadapter import ItemAdapter

    row = article_row(ItemAdapter(item), None)
    row.update(title="stale title", extractor_version=1, published_source=None)
    with Session(engine) as s, s.begin():
        article_id, _ = store_article(s, row, {})
        keep_raw_page(s, article_id, url, {"content-type": "text/html"}, body)
    counts = reextract(engine)
    assert counts["articles"] == 1 and counts["changed"] == 1
    with Session(engine) as s:
        stored = s.get(Article, article_id)
        assert stored.title == "Summit opens" and stored.extractor_version == EXTRACTOR_VERSION
        assert stored.published_source == "meta" and stored.published_offset == 480
        assert s.scalars(select(RawPage.compression)).one() in ("gzip", "zstd")
    engine.dispose()


# --- classes fixed on the fundus misses (snippets written for the project) -------------------

def test_og_title_wins_over_a_kicker_in_the_h1_and_jsonld():
    keys = site_keys("https://www.example.de/a", {"Example"})
    candidates = [("jsonld", "Olympische Spiele: Deutscher Aggressor beeindruckt"),
                  ("og", "Deutscher Aggressor beeindruckt | Example"),
                  ("h1", "Olympische Spiele: Deutscher Aggressor beeindruckt"),
                  ("title", "Olympische Spiele: Deutscher Aggressor beeindruckt - Example")]
    assert best_title(candidates, keys) == "Deutscher Aggressor beeindruckt"
    # an og:title that is only the site name does not count
    assert best_title([("og", "Example"), ("h1", "Summit opens"), ("title", "Summit opens | Example")],
                      keys) == "Summit opens"


def test_site_names_match_with_umlauts_transliterated():
    keys = site_keys("https://www.boersen-zeitung.de/a", set())
    assert clean_title("Steigende US-Zinsen setzen Dax zu | Börsen-Zeitung", keys) == "Steigende US-Zinsen setzen Dax zu"


def test_short_handles_after_names_are_dropped():
    assert people(["Elena Oberholzer (obe); Corina Gall (cog.)"], set()) == ["Elena Oberholzer", "Corina Gall"]


def _page_with(head: str, body: str = "") -> bytes:
    text = "<p>" + "The delegates met in the old town to discuss the rules for data crossing borders. " * 5 + "</p>"
    return f"<html><head><title>Talks</title>{head}</head><body><article><h1>Talks</h1>{body}{text}</article></body></html>".encode()


def test_library_metadata_names_are_read_last_name_first():
    head = '<meta name="dc.creator" content="You, Xiaoying"><meta name="dc.creator" content="Tollefson, Jeff">'
    page = extract_article(_page_with(head), "https://www.example.com/a")
    assert page.authors == ["Xiaoying You", "Jeff Tollefson"]


def test_the_host_name_is_not_an_author_and_author_markup_is_read():
    head = '<meta name="author" content="mdr.de">'
    body = '<p class="byline"><span itemprop="author"><span itemprop="name">David Straub</span></span></p>'
    page = extract_article(_page_with(head, body), "https://www.mdr.de/a")
    assert page.authors == ["David Straub"]


# --- titles and dates: classes fixed on the remaining fundus misses ----------------------------

def test_a_headline_opening_with_von_or_by_is_not_a_byline():
    keys = site_keys("https://example.org/a", {"Example"})
    headline = "Von München bis Aachen: Im Netz der Agenten"
    assert best_title([("og", headline), ("h1", headline)], keys) == headline
    assert clean_title("Summit opens | By Jane Doe and John Roe", keys) == "Summit opens"  # a byline still goes


def test_jsonld_wrapped_in_cdata_is_read():
    head = ('<script type="application/ld+json">\n//<![CDATA[\n{"@type": "NewsArticle", "headline": "Talks",\n'
            '"datePublished": "2024-08-22T12:00:00+02:00"}\n//]]>\n</script>')
    page = extract_article(_page_with(head, "<time datetime='2024-08-22'>22.08.2024</time>"), "https://example.de/a")
    assert page.published_at == datetime(2024, 8, 22, 10, 0, tzinfo=UTC)
    assert page.published_source == "jsonld" and page.published_offset == 120


def test_meta_names_spelled_with_colons_instead_of_underscores_are_read():
    head = '<meta property="article:published:time" content="2024-10-23T15:48:15+00:00">'
    body = "<div>Frankfurt, October 23, 2024, 3:48 Uhr</div>"  # a 12-hour clock without am/pm in the text
    page = extract_article(_page_with(head, body), "https://www.example.de/a")
    assert page.published_at == datetime(2024, 10, 23, 15, 48, 15, tzinfo=UTC)
    assert page.published_source == "meta"


def test_a_date_segment_of_the_title_outranks_teaser_dates_in_the_text():
    html = ("<html><head><title>Gegenoffensive: Ziele | Europa | DW | 28.04.2023</title></head><body>"
            "<h1>Gegenoffensive: Ziele</h1><a href='/b'><h2>Older story <span>24.04.2023</span></h2></a>"
            + "<p>" + "The offensive has been long expected by observers on both sides of the front. " * 5 + "</p>"
            "<ul><li>Datum 28.04.2023</li></ul></body></html>")
    page = extract_article(html.encode(), "https://www.example.com/de/a-1")
    assert page.published_at is not None
    assert page.published_at.astimezone(ZoneInfo("Europe/Berlin")).date() == date(2023, 4, 28)
    assert page.published_source == "title"


def test_a_headline_in_h3_and_a_two_digit_year_with_its_time_date_the_page():
    html = ("<html><head><meta property='og:title' content='Hotel opens as a theatre'>"
            "<meta name='date' content='2024-04-25'></head><body><div>Bis 25. April, ab 22 Uhr</div>"
            "<h3><span>Premiere</span> - <span>Hotel opens as a theatre</span></h3>"
            "<div class='technicalline'>Do 25.04.24 | 14:07 Uhr | Von Eva Muster</div>"
            + "<p>" + "The old hotel opened its doors once more for a theatre production in the town. " * 5
            + "</p></body></html>")
    page = extract_article(html.encode(), "https://www.example.de/kultur/a.html")
    assert page.published_at == datetime(2024, 4, 25, 12, 7, tzinfo=UTC)  # 14:07 Berlin summer time
    assert page.published_source == "text" and page.published_offset == 120


def test_a_utc_time_takes_the_publishers_offset_from_a_candidate_stating_the_same_instant():
    head = ('<meta property="article:published_time" content="2024-04-25T08:21:02+00:00">')
    body = '<time datetime="2024-04-25T04:21:02-04:00" itemprop="datePublished">April 25, 2024 4:21AM ET</time>'
    page = extract_article(_page_with(head, body), "https://www.example.com/music/a")
    assert page.published_at == datetime(2024, 4, 25, 8, 21, 2, tzinfo=UTC)
    assert page.published_offset == -240


def _stored_from_crawl(engine, body: bytes, url: str, source=None, hint=None) -> int:
    """Store an article the way the crawl does (page + source + feed hint), with its raw page."""
    from itemadapter import ItemAdapter

    from wicnews.articles import item_from_page, prepare_item
    from wicnews.db.articles import store_article
    from wicnews.db.raw import keep_raw_page
    from wicnews.pipelines.store import article_row

    zone = ZoneInfo(source.timezone) if source is not None and source.timezone else None
    item = prepare_item(item_from_page(extract_article(body, url, default_tz=zone), url, source, hint))
    with Session(engine) as s, s.begin():
        article_id, _ = store_article(s, article_row(ItemAdapter(item), None), {})
        keep_raw_page(s, article_id, url, {"content-type": "text/html"}, body)
    return article_id


def test_reextract_keeps_what_the_feed_and_the_sources_zone_told_the_crawl(sqlite_url):
    """Re-extracting with an unchanged extractor changes nothing: a naive page time stays read
    in the source's zone; a feed's date and author (the page has none) stay."""
    from wicnews.db.engine import open_database
    from wicnews.feeds import Entry
    from wicnews.models import Article
    from wicnews.reextract import reextract
    from wicnews.sources import Source

    engine = open_database(sqlite_url)
    ny = Source(name="ny-wire", kind="feed", url="https://ny.example.com/feed", timezone="America/New_York")
    naive = page("<meta property='article:published_time' content='2022-11-10 09:00'><title>Summit opens</title>",
                 f"<article><h1>Summit opens</h1>{EN_BODY}</article>")
    naive_id = _stored_from_crawl(engine, naive, "https://ny.example.com/a", ny)
    other = EN_BODY.replace("delegates", "ministers")  # another story, not a duplicate of the first
    undated = page("<title>Delegates meet</title>", f"<article><h1>Delegates meet</h1>{other}</article>")
    hint = Entry(url="https://ny.example.com/b", published_at=datetime(2022, 11, 10, 1, 30, tzinfo=UTC),
                 published_offset=480, authors=["Li Wei"])
    feed_id = _stored_from_crawl(engine, undated, "https://ny.example.com/b", ny, hint)
    assert feed_id != naive_id
    with Session(engine) as s:
        before = {i: {n: getattr(s.get(Article, i), n) for n in ("published_at", "published_offset",
                                                                  "published_source", "authors", "title")}
                  for i in (naive_id, feed_id)}
    assert before[naive_id]["published_offset"] == -300
    assert before[feed_id]["published_source"] == "feed" and before[feed_id]["authors"] == ["Li Wei"]
    assert before[feed_id]["published_offset"] == 480  # the feed stated +08:00

    counts = reextract(engine, sources={ny.name: ny})
    assert counts["articles"] == 2 and counts["unchanged"] == 2 and counts["changed"] == 0, counts
    with Session(engine) as s:
        after = {i: {n: getattr(s.get(Article, i), n) for n in before[i]} for i in before}
    assert after == before
    # an article whose source is no longer in the sources file: its stored offset is the assumed zone
    assert reextract(engine)["unchanged"] == 2
    engine.dispose()


def test_a_feed_time_keeps_the_offset_the_feed_states():
    from wicnews.articles import item_from_page
    from wicnews.feeds import parse_feed

    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>W</title>
<item><title>Summit</title><link>https://w.example.com/a</link><pubDate>Thu, 10 Nov 2022 09:00:00 +0800</pubDate></item>
<item><title>Talks</title><link>https://w.example.com/b</link><pubDate>Thu, 10 Nov 2022 09:00:00 +0000</pubDate></item>
</channel></rss>"""
    entries = parse_feed(rss, "https://w.example.com/feed", "application/rss+xml").entries
    assert [e.published_offset for e in entries] == [480, 0]
    undated = extract_article(page("<title>Talks</title>", f"<article><h1>Talks</h1>{EN_BODY}</article>"),
                              "https://w.example.com/b")
    for entry, offset in zip(entries, (480, 0)):
        item = item_from_page(undated, entry.url, None, entry)
        assert item.published_source == "feed" and item.published_offset == offset


def test_a_headline_that_starts_with_the_site_name_is_kept():
    """On robots.example.com, "Robots host story" is the headline, not the site's name."""
    from wicnews.titles import best_title, site_keys

    keys = site_keys("https://robots.example.com/story.html", set())
    assert best_title([("title", "Robots host story"), ("h1", "Robots host story")], keys) == "Robots host story"
    assert best_title([("title", "Robots"), ("h1", "Robots")], keys) is None  # the bare site name is no headline


def test_a_site_name_posing_as_author_leaves_the_byline_search_on():
    """trafilatura's byline search is skipped only when the declared authors name people; a
    declared "author" that is the site (here only once the JSON-LD name's entity is decoded:
    ``Tom&#039;s Guide``) is no person, so the byline in the page still counts."""
    paragraphs = "".join(f"<p>Paragraph {i}: the World Internet Conference opened in Wuzhen on Tuesday, and "
                         f"delegates from {i + 3} countries discussed digital cooperation.</p>" for i in range(6))
    page = ('<html><head><title>Summit opens in Wuzhen</title><meta name="author" content="TomsGuide">'
            '<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle", '
            '"headline": "Summit opens in Wuzhen", "publisher": {"@type": "Organization", "name": "Tom&#039;s Guide"}}'
            '</script></head><body><article><h1>Summit opens in Wuzhen</h1><div class="author">By Jane Doe</div>'
            f"{paragraphs}</article></body></html>").encode()
    art = extract_article(page, "https://www.example.com/news/summit.html", {"content-type": "text/html"})
    assert art.site_name == "Tom's Guide"
    assert art.authors == ["Jane Doe"]
