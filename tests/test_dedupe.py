"""Unit tests of pipelines.dedupe: the text and URL keys the store enforces."""

from __future__ import annotations

import re

import pytest
from conftest import seed

from wicnews.items import Article
from wicnews.pipelines.dedupe import DedupePipeline, bands, normalise_for_key, shingles, similarity, text_key
from wicnews.urls import url_key

BASE = ("Alibaba Group Holding, owner of the South China Morning Post, sent executives to the World Internet "
        "Conference in Wuzhen. \"It's about business,\" one delegate said.\n\nThe event ends on Friday.")


@pytest.mark.parametrize("variant", [
    BASE.replace(" to the World", "\nto the World").replace("\n\n", "\n"),  # re-wrapped paragraphs
    BASE.replace("\n\n", "\n\n\n   \n"),
    BASE.replace('"It\'s', "\u201cIt\u2019s").replace('business,"', "business,\u201d"),  # curly quotes
    BASE.upper(),
    BASE.replace("Alibaba", "\uff21\uff4c\uff49\uff42\uff41\uff42\uff41"),  # full-width Ａｌｉｂａｂａ (NFKC)
    BASE.replace("Holding, owner", "Holding , owner").replace("said.", "said ."),
    "  " + BASE + "  \n",
], ids=["rewrapped", "blank-lines", "curly-quotes", "case", "nfkc", "punct-spacing", "edges"])
def test_text_key_ignores_formatting(variant):
    assert variant != BASE
    assert text_key(variant) == text_key(BASE)


@pytest.mark.parametrize("variant", [
    BASE.replace("Friday", "Thursday"),
    BASE.replace("owner of", "owner"),
    BASE + " More.",
])
def test_text_key_differs_when_a_word_differs(variant):
    assert text_key(variant) != text_key(BASE)


def test_normalise_for_key():
    assert normalise_for_key("Ｗｕｚｈｅｎ  Summit’s\n\nAI—forum!") == "wuzhen summit s ai forum"
    assert normalise_for_key("世界互联网大会，乌镇。") == "世界互联网大会乌镇"
    # Chinese has no word spaces: copies wrapped at different points have one key
    assert text_key("2022年世界互联网大会\n乌镇峰会开幕") == text_key("2022年世界互联网\n大会乌镇峰会开幕")


def test_url_key():
    a = url_key("https://www.scmp.com/news/article/3199102")
    assert re.fullmatch(r"[0-9a-f]{64}", a)
    assert a == url_key("https://www.scmp.com/news/article/3199102")
    assert a != url_key("https://www.scmp.com/news/article/3199103")
    assert a != url_key("http://www.scmp.com/news/article/3199102")


def test_pipeline_stamps_both_keys():
    item = Article(url="https://e.com/a", source="s", text=BASE, canonical_url="https://e.com/canonical")
    assert DedupePipeline().process_item(item) is item
    assert item.url_key == url_key("https://e.com/canonical")
    assert item.text_key == text_key(BASE)
    assert re.fullmatch(r"[0-9a-f]{64}", item.text_key)


# --- near-duplicates -----------------------------------------------------------------------

SEED_BODY = seed()[1]


def test_near_copy_is_similar_and_shares_bands():
    copy = SEED_BODY.replace("Coinciding with the conference,", "Alongside the conference,") + \
        " This article first appeared in the South China Morning Post."
    assert similarity(shingles(SEED_BODY), shingles(copy)) > 0.9
    assert len(set(bands(SEED_BODY)) & set(bands(copy))) >= 4


def test_another_story_on_the_same_event_is_not_similar():
    other = ("The World Internet Conference in Wuzhen opened on Wednesday with a speech on the digital economy. "
             "Delegates from dozens of countries discussed cybersecurity, data flows and artificial intelligence, "
             "while exhibitors at the Light of Internet Expo showed industrial robots and smart port systems.") * 3
    assert similarity(shingles(SEED_BODY), shingles(other)) < 0.1
    assert not set(bands(SEED_BODY)) & set(bands(other))


def test_bands_are_stable_and_text_order_matters():
    assert bands(SEED_BODY) == bands(SEED_BODY) and len(bands(SEED_BODY)) == 16
    assert all(re.fullmatch(r"\d{2}:[0-9a-f]{16}", b) for b in bands(SEED_BODY))
    assert bands("") == [] and shingles("") == set()
    assert len(shingles("two words")) == 1  # short texts still get one shingle


def test_chinese_text_is_shingled_by_character():
    text = "2022年世界互联网大会乌镇峰会开幕，聚焦数字经济与产业数字化。"
    assert similarity(shingles(text), shingles(text.replace("开幕", "开幕了"))) > 0.7
    assert len(shingles(text)) > 20


def test_band_function_is_pinned():
    """Stored articles keep the bands computed when they were stored: changing this function
    needs a migration that recomputes article_bands (see migration 0002's frozen copy)."""
    assert bands("The World Internet Conference opened in Wuzhen on Wednesday.") == PINNED_BANDS


def test_migration_0002_copy_matches_the_live_function():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parent.parent / "wicnews" / "migrations" / "versions" / "0002_article_bands.py"
    spec = importlib.util.spec_from_file_location("migration_0002", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for text in (SEED_BODY, "2022年世界互联网大会乌镇峰会开幕", "a b", "", BASE):
        assert module.bands(text) == bands(text)


PINNED_BANDS = [
    "00:8ad90e1ba566acbb",
    "01:494ca95aa7f63a70",
    "02:0335535406acf997",
    "03:086ca4563a4d888e",
    "04:61858182c0a35411",
    "05:af475cc94c77c541",
    "06:5c21ccfac1807a59",
    "07:aab41e06d3302b8e",
    "08:a8102e1913b7885a",
    "09:b2dbd47f1fba5760",
    "10:42af24efcdcf4844",
    "11:c1d534d72be702dc",
    "12:f2dfba3e03c2ecc7",
    "13:c2bd7b38a8187e95",
    "14:0b8e1de5ce1b751e",
    "15:62b6358b26d8cc47",
]
