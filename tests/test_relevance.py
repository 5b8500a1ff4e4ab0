"""Unit tests of the relevance engine (wicnews.relevance, wicnews.topic) and its pipeline."""

from __future__ import annotations

import json

import pytest
from conftest import UNRELATED_PATH, read_site
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from wicnews.errors import ConfigError
from wicnews.extract import extract_article
from wicnews.items import Article
from wicnews.pipelines import relevance as pipeline_module
from wicnews.pipelines.relevance import RelevancePipeline
from wicnews.relevance import find_entities, judge
from wicnews.topic import DEFAULT_FILE, load_topic, parse_topic

WIC_NUTRITION = ("Families enrolled in WIC can now buy more fruit and vegetables. The Special Supplemental "
                 "Nutrition Program for Women, Infants, and Children serves about 6 million people.")
WUZHEN_TOURISM = ("Autumn is the best season to visit Wuzhen, a water town of canals, stone bridges and "
                  "indigo-dyed cloth two hours from Shanghai.")
FILLER = "\n".join(f"Paragraph {i} of an earnings story: revenue, margins, guidance and the share price." for i in range(6))
PASSING = "Last year the company's chief executive also spoke at the World Internet Conference in Wuzhen."


@pytest.mark.parametrize("title, text, label", [
    ("World Internet Conference opens", "", "World Internet Conference"),
    (None, "Delegates at the WORLD INTERNET CONFERENCE said...", "World Internet Conference"),
    (None, "speaking at the world internet conference on Wednesday", "World Internet Conference"),
    (None, "the annual World\nInternet   Conference in Zhejiang", "World Internet Conference"),
    ("Wuzhen Summit: AI on the agenda", None, "Wuzhen Summit"),
    (None, "2022年世界互联网大会在浙江开幕", "世界互联网大会"),
    (None, "世界互聯網大會烏鎮峰會今日開幕", "世界互联网大会"),   # traditional script, same label
    (None, "世界互联網大會烏鎮峰会", "世界互联网大会"),           # mixed scripts
    (None, "乌镇峰会聚焦数字经济", "乌镇峰会"),
    (None, "“互联网之光”博览会开幕", "互联网之光博览会"),        # quoted, as Chinese outlets write it
    ("ＷＯＲＬＤ ＩＮＴＥＲＮＥＴ ＣＯＮＦＥＲＥＮＣＥ", None, "World Internet Conference"),  # full-width (NFKC)
])
def test_a_strong_name_in_title_or_lead_is_coverage(title, text, label):
    verdict = judge(title, text)
    assert verdict.level == "coverage" and verdict.relevant is True
    assert verdict.matched_terms[0] == label


def test_one_passing_mention_deep_in_the_body_is_a_mention():
    verdict = judge("Company beats forecasts", f"{FILLER}\n{PASSING}\nShares rose 3 per cent.")
    assert (verdict.level, verdict.relevant) == ("mention", False)
    assert verdict.matched_terms == ["World Internet Conference", "Wuzhen"]
    first = verdict.explanation[0]
    assert (first.term, first.field, first.count) == ("World Internet Conference", "body", 1)
    assert "spoke at the World Internet Conference" in first.snippet


def test_repeated_mentions_spread_through_the_body_are_coverage():
    body = "\n".join(f"{line} The World Internet Conference heard this on day {i}." for i, line in
                     enumerate(FILLER.splitlines()))
    assert judge("A long day of forums", "Intro one.\nIntro two.\n" + body).level == "coverage"


def test_density_counts_less_in_a_long_article():
    two = "The Wuzhen Summit was mentioned here.\n" * 2
    short = judge("Briefing", "Intro one.\nIntro two.\n" + two)
    long = judge("Briefing", "Intro one.\nIntro two.\n" + two + (FILLER + "\n") * 20)
    assert short.score > long.score and long.level == "mention"


@pytest.mark.parametrize("text", [WIC_NUTRITION, WUZHEN_TOURISM, "乌镇旅游：水乡古镇迎来秋季游客高峰。"],
                         ids=["WIC-nutrition", "Wuzhen-tourism", "乌镇-tourism"])
def test_weak_names_in_negative_contexts_do_not_count(text):
    verdict = judge("News", text)
    assert (verdict.level, verdict.matched_terms) == ("none", [])
    assert [m.counted for m in verdict.explanation] == [False]
    assert verdict.explanation[0].reason


def test_nutrition_rule_is_named_in_the_explanation():
    (match,) = judge("News", WIC_NUTRITION).explanation
    assert (match.term, match.counted, match.reason) == ("WIC", False, "negative rule: US WIC nutrition programme")


def test_weak_names_count_near_conference_words():
    verdict = judge("Tech leaders gather in Wuzhen", "WIC delegates discussed internet governance.")
    assert verdict.level == "coverage"
    assert verdict.matched_terms == ["Wuzhen", "WIC"]


def test_wic_is_case_sensitive():
    assert judge(None, "In Wuzhen, the wic of the candle burned.").matched_terms == []


def test_matched_terms_list_strong_first_in_profile_order():
    text = "WIC opened in Wuzhen. The Wuzhen Summit, officially the World Internet Conference, runs for three days."
    assert judge(None, text).matched_terms == ["World Internet Conference", "Wuzhen Summit", "Wuzhen", "WIC"]


def test_same_weak_term_in_two_scripts_is_not_enough():
    assert judge("Autumn in Wuzhen (乌镇)", WUZHEN_TOURISM).level == "none"


def test_edition_names():
    verdict = judge("第十一届世界互联网大会将在乌镇举办", None)
    assert "WIC 2024" in verdict.matched_terms
    assert any(m.kind == "edition" for m in verdict.explanation)


def test_unrelated_football_article():
    body = read_site(UNRELATED_PATH)
    art = extract_article(body, "http://127.0.0.1:8000" + UNRELATED_PATH, {"content-type": "text/html"})
    verdict = judge(art.title, art.text)
    assert (verdict.level, verdict.matched_terms, verdict.explanation) == ("none", [], ())


def test_to_json_is_json_safe_and_keeps_chinese():
    verdict = judge("乌镇峰会开幕", "华为、阿里巴巴和腾讯参展。Tencent too.")
    data = verdict.to_json()
    assert set(data) == {"score", "level", "explanation", "entities"}
    text = json.dumps(data, ensure_ascii=False)
    assert "乌镇峰会" in text and json.loads(text) == data
    assert {"term", "field", "count", "snippet"} <= set(data["explanation"][0])


def test_entities_use_canonical_names_and_count_both_scripts():
    entities = find_entities("Tencent and Huawei at Wuzhen", "腾讯、騰訊 and 华为. 国家网信办 and Xi Jinping; 任贤良 spoke.")
    assert entities[0] == {"name": "Tencent", "kind": "org", "count": 3}
    assert {"name": "Huawei", "kind": "org", "count": 2} in entities
    assert {e["name"] for e in entities} >= {"Cyberspace Administration of China", "Xi Jinping", "Ren Xianliang"}
    assert {e["kind"] for e in entities if e["name"] in ("Xi Jinping", "Ren Xianliang")} == {"person"}
    assert find_entities(None, "An apple a day; meta-analysis.") == []


def test_topic_regexes_are_compiled_once():
    topic = load_topic()
    assert load_topic() is topic and load_topic(DEFAULT_FILE) is not topic
    assert topic.compiled is topic.compiled


@pytest.mark.parametrize("toml, message", [
    ("[topic]\nname = 'x'\n", "needs at least one [[term]]"),
    ("[topic]\nname = 'x'\n[[term]]\nlabel = 'A'\n", "term #1 ('A'): needs at least one of 'aliases' or 'regex'"),
    ("[topic]\nname = 'x'\n[[term]]\nlabel = 'A'\naliases = ['a']\nstrength = 'medium'\n", "'strength' must be one of"),
    ("[topic]\nname = 'x'\n[[term]]\nlabel = 'A'\nregex = ['(']\n", "bad regex '('"),
    ("[topic]\nname = 'x'\n[[term]]\nlabel = 'A'\naliases = ['a']\ncolour = 1\n", "unknown key 'colour'"),
    ("[topic]\nname = 'x'\nfoo = 1\n", "[topic]: unknown key 'foo'"),
    ("[topics]\n", "unknown top-level key 'topics'"),
    ("[topic]\nname = 'x'\n[[term]]\nlabel = 'A'\naliases = ['a']\n[[negative]]\nname = 'n'\naliases = ['b']\ncancels = ['B']\n",
     "'cancels' names unknown term 'B'"),
    ("[topic]\nname = 'x'\n[[term]]\nlabel = 'A'\naliases = ['a']\n[levels]\ncoverage = 1\nmention = 2\n",
     "need 0 < mention <= coverage"),
    ("[topic]\nname = 'x'\n[[term]]\nlabel = 'A'\naliases = ['a']\n[[entity]]\nname = 'E'\nkind = 'place'\naliases = ['e']\n",
     "'kind' must be one of org, person"),
    ("[topic]\nname = 'x'\n[[term]]\nlabel = 'A'\naliases = ['a']\n[[term]]\nlabel = 'A'\naliases = ['b']\n",
     "duplicate term label 'A'"),
    ("[topic\n", "invalid TOML"),
])
def test_topic_mistakes_are_one_line_config_errors(tmp_path, toml, message):
    path = tmp_path / "t.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_topic(path)
    text = str(info.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text


def test_missing_topic_file(tmp_path):
    with pytest.raises(ConfigError, match=r"cannot read topic file .*nope\.toml"):
        load_topic(tmp_path / "nope.toml")


def test_a_user_topic_replaces_the_default():
    topic = parse_topic("[topic]\nname = 'ces'\n[[term]]\nlabel = 'CES'\naliases = ['Consumer Electronics Show']\n")
    assert judge("Consumer Electronics Show opens", "", topic).level == "coverage"
    assert judge("World Internet Conference opens", "", topic).level == "none"


@pytest.mark.parametrize("stats_from", ["crawler", "collector"])
def test_pipeline_sets_verdict_and_counts(stats_from):
    crawler = get_crawler()
    if stats_from == "crawler":
        pipeline = RelevancePipeline.from_crawler(crawler)
    else:
        pipeline = RelevancePipeline(stats=MemoryStatsCollector(crawler))
    stats = pipeline.stats
    assert isinstance(stats, MemoryStatsCollector)
    wic = Article(url="https://e.com/1", source="s", text="Opening of the World Internet Conference in Wuzhen.")
    passing = Article(url="https://e.com/2", source="s", title="Earnings", text=f"{FILLER}\n{PASSING}")
    off = [Article(url=f"https://e.com/{i}", source="s", text=t, title="News")
           for i, t in enumerate([WIC_NUTRITION, "Kitchee won 2-0."], start=3)]
    for item in (wic, passing, *off):
        assert pipeline.process_item(item) is item
    assert (wic.relevant, wic.matched_terms) == (True, ["World Internet Conference", "Wuzhen"])
    assert wic.relevance["level"] == "coverage" and passing.relevance["level"] == "mention"
    assert [a.relevant for a in (passing, *off)] == [False, False, False]
    assert stats.get_value("wicnews/not_relevant") == 3
    assert stats.get_value("wicnews/mentions") == 1


def test_pipeline_reads_the_topic_setting(tmp_path):
    path = tmp_path / "ces.toml"
    path.write_text("[topic]\nname = 'ces'\n[[term]]\nlabel = 'CES'\naliases = ['CES']\n", encoding="utf-8")
    pipeline = RelevancePipeline.from_crawler(get_crawler(settings_dict={"WICNEWS_TOPIC": str(path)}))
    item = pipeline.process_item(Article(url="https://e.com/1", source="s", text="", title="CES opens"))
    assert (item.relevant, item.matched_terms) == (True, ["CES"])


def test_pipeline_without_stats():
    item = Article(url="https://e.com/1", source="s", text=WIC_NUTRITION)
    RelevancePipeline().process_item(item)
    assert (item.relevant, item.matched_terms, item.relevance["level"]) == (False, [], "none")


def test_old_tuple_verdict_still_available():
    """``wicnews.pipelines.relevance.judge`` keeps the ``(relevant, matched_terms)`` shape for the CLI."""
    assert pipeline_module.judge("World Internet Conference opens", "") == (True, ["World Internet Conference"])
