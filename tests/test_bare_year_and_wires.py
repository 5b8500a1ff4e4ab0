"""A bare year is no publication date (htmldate reads it as 1 January); a full URL date ranks
above htmldate's guess; news agencies and staff credits are not authors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from wicnews.articles import article_from_bytes
from wicnews.authors import people
from wicnews.dating import Candidate, date_page, url_date

EN = ("<p>Analysts welcomed the report, saying it showed steady progress in broadband, data centres and the "
      "adoption of artificial intelligence in manufacturing, logistics and public services across many provinces.</p>") * 3
ZH = ("<p>分析人士表示，报告显示宽带网络、数据中心以及人工智能在制造、物流和公共服务领域的应用持续推进，"
      "各地数字化转型成效明显，相关产业规模不断扩大。</p>") * 3
TW = ("<p>分析人士表示，報告顯示寬頻網路、資料中心以及人工智慧在製造、物流和公共服務領域的應用持續推進，"
      "各地數位轉型成效明顯，相關產業規模不斷擴大。</p>") * 3


def _page(title: str, lead: str, rest: str, lang: str = "en") -> bytes:
    return (f"<html lang={lang}><head><title>{title}</title></head><body><h1>{title}</h1>"
            f"<p>{lead}</p>{rest}</body></html>").encode()


def test_a_year_in_the_text_does_not_beat_the_url_date():
    url = "http://world.people.com.cn/n1/2024/1120/c1002-40123456.html"
    item = article_from_bytes(_page("中国互联网发展报告发布", "《中国互联网发展报告2024》蓝皮书发布，详见报告2024。", ZH, "zh"), url)
    assert (item["published_at"], item["published_offset"], item["published_source"]) == \
        ("2024-11-19T16:00:00+00:00", 480, "url")


@pytest.mark.parametrize("lead, rest, lang", [
    ("The 2024 blue book on internet development was released on Wednesday.", EN, "en"),
    ("《世界互聯網發展報告2024》藍皮書發布。", TW, "zh-Hant"),
    ("《中国互联网发展报告2024》蓝皮书发布，2023年规模增长。", ZH, "zh"),
])
def test_a_page_with_only_a_year_has_no_date(lead, rest, lang):
    item = article_from_bytes(_page("Blue book released", lead, rest, lang), "http://example.com/news/report.html")
    assert item["published_at"] is None


def test_a_written_first_of_january_is_kept():
    item = article_from_bytes(_page("New year message", "Published January 1, 2024. The 2024 plan.", EN),
                              "http://example.com/news/new-year.html")
    assert item["published_at"].startswith("2024-01-01")


def test_first_of_month_guesses_need_evidence():
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert date_page([], "2024-03-01", UTC, now, html="<p>March 2024</p>").published_at is None
    assert date_page([], "2024-03-01", UTC, now, html="<p>2024-03-01</p>").published_at == datetime(2024, 3, 1, tzinfo=UTC)
    assert date_page([], "2024-03-05", UTC, now, html="<p>x</p>").published_at == datetime(2024, 3, 5, tzinfo=UTC)
    url = url_date("http://x.cn/2024/1120/a.html")
    assert url is not None
    got = date_page([Candidate("url", url)], "2024-10-05", UTC, now, html="")
    assert (got.published_at, got.published_source) == (datetime(2024, 11, 20, tzinfo=UTC), "url")


@pytest.mark.parametrize("values", [
    ["Reuters", "By Reuters staff"], ["By AP"], ["Associated Press"], ["AFP"], ["Xinhua"], ["新华社"],
    ["dpa"], ["Bloomberg News"], ["Staff writer"], ["Our correspondent"], ["The Editorial Board"], ["Reuters staff"],
])
def test_agencies_and_staff_are_not_authors(values):
    assert people(values, set()) == []


def test_people_beside_an_agency_are_kept():
    assert people(["By Jane Doe and Reuters staff"], set()) == ["Jane Doe"]
    assert people(["Apa Sherpa"], set()) == ["Apa Sherpa"]
    assert people(["Reuters", "John Smith"], set()) == ["John Smith"]
