"""Unit tests of pipelines.relevance: the WIC topic verdict and its stats counter."""

from __future__ import annotations

import pytest
from conftest import UNRELATED_PATH, read_site
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from wicnews.extract import extract_article
from wicnews.items import Article
from wicnews.pipelines.relevance import RelevancePipeline, judge

WIC_NUTRITION = ("Families enrolled in WIC can now buy more fruit and vegetables. The Special Supplemental "
                 "Nutrition Program for Women, Infants, and Children serves about 6 million people.")
WUZHEN_TOURISM = ("Autumn is the best season to visit Wuzhen, a water town of canals, stone bridges and "
                  "indigo-dyed cloth two hours from Shanghai.")


@pytest.mark.parametrize("title, text, label", [
    ("World Internet Conference opens", "", "World Internet Conference"),
    (None, "Delegates at the WORLD INTERNET CONFERENCE said...", "World Internet Conference"),
    (None, "speaking at the world internet conference on Wednesday", "World Internet Conference"),
    (None, "the annual World\nInternet   Conference in Zhejiang", "World Internet Conference"),
    ("Wuzhen Summit: AI on the agenda", None, "Wuzhen Summit"),
    (None, "2022年世界互联网大会在浙江开幕", "世界互联网大会"),
    (None, "世界互聯網大會烏鎮峰會今日開幕", "世界互联网大会"),   # traditional script, same label
    (None, "乌镇峰会聚焦数字经济", "乌镇峰会"),
])
def test_one_strong_term_is_enough(title, text, label):
    relevant, terms = judge(title, text)
    assert relevant is True
    assert terms[0] == label


@pytest.mark.parametrize("text", [WIC_NUTRITION, WUZHEN_TOURISM, "乌镇旅游：水乡古镇迎来秋季游客高峰。"],
                         ids=["WIC-nutrition", "Wuzhen-tourism", "乌镇-tourism"])
def test_one_weak_term_is_not_enough(text):
    relevant, terms = judge("News", text)
    assert relevant is False
    assert len(terms) == 1


def test_two_distinct_weak_terms_are_relevant():
    assert judge("Tech leaders gather in Wuzhen", "WIC delegates discussed AI.") == (True, ["Wuzhen", "WIC"])


def test_wic_is_case_sensitive():
    assert judge(None, "In Wuzhen, the wic of the candle burned.") == (False, ["Wuzhen"])


def test_matched_terms_list_strong_first_in_profile_order():
    text = "WIC opened in Wuzhen. The Wuzhen Summit, officially the World Internet Conference, runs for three days."
    assert judge(None, text) == (True, ["World Internet Conference", "Wuzhen Summit", "Wuzhen", "WIC"])


def test_unrelated_football_article():
    body = read_site(UNRELATED_PATH)
    art = extract_article(body, "http://127.0.0.1:8000" + UNRELATED_PATH, {"content-type": "text/html"})
    assert judge(art.title, art.text) == (False, [])


def test_same_weak_term_in_two_scripts_is_not_enough():
    assert judge("Autumn in Wuzhen (乌镇)", WUZHEN_TOURISM)[0] is False


@pytest.mark.parametrize("stats_from", ["crawler", "collector"])
def test_pipeline_sets_verdict_and_counts_not_relevant(stats_from):
    crawler = get_crawler()
    if stats_from == "crawler":
        pipeline = RelevancePipeline.from_crawler(crawler)
    else:
        pipeline = RelevancePipeline(stats=MemoryStatsCollector(crawler))
    stats = pipeline.stats
    assert isinstance(stats, MemoryStatsCollector)
    wic = Article(url="https://e.com/1", source="s", text="Opening of the World Internet Conference in Wuzhen.")
    off = [Article(url=f"https://e.com/{i}", source="s", text=t, title="News")
           for i, t in enumerate([WIC_NUTRITION, "Kitchee won 2-0."], start=2)]
    for item in (wic, *off):
        assert pipeline.process_item(item) is item
    assert (wic.relevant, wic.matched_terms) == (True, ["World Internet Conference", "Wuzhen"])
    assert [a.relevant for a in off] == [False, False]
    assert stats.get_value("wicnews/not_relevant") == 2


def test_pipeline_without_stats():
    item = Article(url="https://e.com/1", source="s", text=WIC_NUTRITION)
    RelevancePipeline().process_item(item)
    assert (item.relevant, item.matched_terms) == (False, ["WIC"])
