"""Unit tests of pipelines.dedupe: the text and URL keys the store enforces."""

from __future__ import annotations

import re
import unicodedata

import pytest
from conftest import seed

from wicnews.items import Article
from wicnews.pipelines.dedupe import (
    DedupePipeline,
    bands,
    normalise_for_key,
    shingles,
    similarity,
    text_key,
    text_keys,
    title_key,
)
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
    assert bands(SEED_BODY) == bands(SEED_BODY) and len(bands(SEED_BODY)) == 32
    assert all(re.fullmatch(r"\d{2}:[0-9a-f]{16}", b) for b in bands(SEED_BODY))
    assert bands("") == [] and shingles("") == set()
    assert len(shingles("two words")) == 1  # short texts still get one shingle


def test_chinese_text_is_shingled_by_character():
    text = "2022年世界互联网大会乌镇峰会开幕，聚焦数字经济与产业数字化。"
    assert similarity(shingles(text), shingles(text.replace("开幕", "开幕了"))) > 0.7
    assert len(shingles(text)) > 20


def test_band_function_is_pinned():
    """Stored articles keep the bands computed when they were stored: changing this function
    needs a migration that recomputes article_bands (see migration 0010's frozen copy)."""
    assert bands("The World Internet Conference opened in Wuzhen on Wednesday.") == PINNED_BANDS


def _migration(name: str):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parent.parent / "wicnews" / "migrations" / "versions" / name
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_migration_0010_copy_matches_the_live_function():
    """The latest migration that recomputes the bands holds the live band function; its
    downgrade (16 bands of 4 rows) gives the bands of migration 0002."""
    latest, first = _migration("0010_bands_32x2.py"), _migration("0002_article_bands.py")
    for text in (SEED_BODY, "2022年世界互联网大会乌镇峰会开幕", "a b", "", BASE):
        assert latest.bands(text) == bands(text)
        assert latest.bands(text, 4) == first.bands(text)


PINNED_BANDS = [
    "00:2b025e64d880ef55",
    "01:1b1034e3d7f5cb12",
    "02:5911f115d2924d56",
    "03:1ee270585c7bc669",
    "04:0002c6a1598d5546",
    "05:f79e361698c5a270",
    "06:da3aaad63ef094c6",
    "07:e426b82ccf78b558",
    "08:2bcdf03bbdcbdefe",
    "09:fb5f6059670e8afb",
    "10:9a90a7ca16022a63",
    "11:da6c40d335bd9fe7",
    "12:81e11010e50f9fc7",
    "13:c678f828cf7d9c12",
    "14:3717759846e999d4",
    "15:b829154c6b1a5187",
    "16:1e7e9d6a00f66e18",
    "17:1f828962fd63cb2d",
    "18:367b4684c8daa0ce",
    "19:de038393d7edd3b9",
    "20:227265326984ea8f",
    "21:98903f964116b7ac",
    "22:1d704e1d9a73c192",
    "23:9ab7532ee5a9717f",
    "24:f901acebd0aee106",
    "25:709679f5f60c859c",
    "26:886ab68c3572f5b5",
    "27:0d49b363c93a3167",
    "28:f7aa8fc5040908e5",
    "29:c53e96e465ca1b80",
    "30:f847de62cf00bf30",
    "31:9ed7944d625dce98",
]


def _story(topic: str, n: int = 5) -> list[str]:
    return [" ".join(f"{topic} paragraph {p} sentence word{(p * 31 + w * 7) % 97} item{w}" for w in range(6))
            for p in range(n)]


def test_resemblance_joins_a_copy_with_a_dropped_paragraph_and_template_lines():
    from wicnews.pipelines.dedupe import fingerprint, resemblance

    original = _story("wuzhen")
    copy = ["Share this article", "By Staff Reporter", *original[:2], *original[3:],
            "This article was first published elsewhere and is republished with permission.", "Advertisement"]
    a, b = fingerprint("\n\n".join(original)), fingerprint("\n".join(copy))
    assert similarity(a.shingles, b.shingles) < 0.75 <= resemblance(a, b) <= 1.0


def test_resemblance_keeps_stories_sharing_one_boilerplate_paragraph_apart():
    from wicnews.pipelines.dedupe import fingerprint, resemblance

    boilerplate = " ".join(f"About the conference: sentence {i} of a long boilerplate paragraph." for i in range(12))
    one = fingerprint("\n\n".join([*_story("robots", 2), boilerplate]))
    two = fingerprint("\n\n".join([*_story("training", 2), boilerplate]))
    assert resemblance(one, two) < 0.75
    assert resemblance(one, one) == 1.0 and resemblance(one, fingerprint("")) == 0.0


@pytest.mark.parametrize("text", [
    "", " ", "a", "a b", "a b c", "a b c d", "中", "中文字", "中文字符", "中 文", "a中b c", "‘quoted’ “text” „x‟",
    "x\u3000y\u00a0z", "ﬁle ＷＩＣ", "İstanbul ısı ſtop", "Ω Σσς", "١٢٣ ٤٥٦ ٧٨٩ ٠", "日本語 です 한국어 입니다", "e\u0301 café",
    "__ _a_ b_ c", "word " * 5, "x" * 300 + " y z w"])
def test_keys_match_the_frozen_copies(text):
    """The keys are stored: text_key, title_key and the bands stay those of the frozen copies,
    whatever faster way they are computed."""
    import hashlib

    frozen = _migration("0006_discovery.py")
    assert bands(text) == _migration("0010_bands_32x2.py").bands(text)
    assert title_key(text) == frozen.title_key(text)
    normal = unicodedata.normalize("NFKC", text).translate(frozen._QUOTES).casefold()
    expected = frozen._CJK_GAP.sub("", " ".join(re.findall(r"\w+", normal)))
    assert normalise_for_key(text) == expected
    assert text_key(text) == hashlib.sha256(expected.encode()).hexdigest()
    assert text_keys(text) == (text_key(text), bands(text))
