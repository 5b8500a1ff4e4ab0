"""Unit tests of pipelines.normalise: canonical URLs, canonical choice, whitespace, the pipeline."""

from __future__ import annotations

import pytest

from wicnews.items import Article
from wicnews.pipelines.normalise import NormalisePipeline, clean_text
from wicnews.urls import canonicalize_url, choose_canonical

ARTICLE = "https://www.scmp.com/news/china/science/article/3199102/world-internet-conference"
AMP = "https://www.scmp.com/amp/news/china/science/article/3199102/world-internet-conference"

CANONICAL_CASES = [
    # tracking parameters go, the others stay in their order
    (ARTICLE + "?utm_source=rss_feed&utm_medium=rss&utm_campaign=wic", ARTICLE),
    (ARTICLE + "?fbclid=IwAR0abc&gclid=xyz", ARTICLE),
    (ARTICLE + "?msclkid=1&mc_cid=2&UTM_Term=x", ARTICLE),
    ("https://e.com/list?page=2&utm_source=x&id=7&gclid=g&a=1", "https://e.com/list?page=2&id=7&a=1"),
    ("https://e.com/list?z=1&a=2&m=3", "https://e.com/list?z=1&a=2&m=3"),
    # fragment, case of scheme and host, default ports
    (ARTICLE + "#comments", ARTICLE),
    ("HTTPS://WWW.SCMP.COM/News/China/Article/1", "https://www.scmp.com/News/China/Article/1"),
    ("http://e.com:80/a", "http://e.com/a"),
    ("https://e.com:443/a", "https://e.com/a"),
    ("http://e.com:8080/a", "http://e.com:8080/a"),
    ("https://e.com:80/a", "https://e.com:80/a"),
    ("https://e.com", "https://e.com/"),
    ("  https://e.com/a?utm_source=x#top  ", "https://e.com/a"),
    ("https://e.com/search?q=world+internet&lang=zh", "https://e.com/search?q=world+internet&lang=zh"),
    # parameters are kept exactly as written
    ("http://news.cn/a.htm?12345&utm_source=x", "http://news.cn/a.htm?12345"),
    ("https://e.com/a?q=a%20b&spm=1.2.3", "https://e.com/a?q=a%20b"),
    ("https://user:pw@e.com/a", "https://user:pw@e.com/a"),
    # some parameters track only with some values
    ("https://e.com/a?ref=rss&id=3", "https://e.com/a?id=3"),
    ("https://e.com/a?ref=abc", "https://e.com/a?ref=abc"),
    ("https://mp.example.cn/s?id=9&from=timeline&isappinstalled=0", "https://mp.example.cn/s?id=9"),
]


@pytest.mark.parametrize("url, expected", CANONICAL_CASES)
def test_canonicalize_url(url, expected):
    assert canonicalize_url(url) == expected


@pytest.mark.parametrize("url", [u for u, _ in CANONICAL_CASES] + [
    "https://e.com/a?q=a%20b&x=%2F", "https://e.com/path%20with/%E4%B9%8C?k=%E4%B9%8C", "http://e.com:8080/?a=&b=1"])
def test_canonicalize_url_is_idempotent(url):
    once = canonicalize_url(url)
    assert canonicalize_url(once) == once


def test_canonicalize_ipv6_host():
    assert canonicalize_url("http://[::1]:8080/a#x") == "http://[::1]:8080/a"


@pytest.mark.parametrize("page, declared, expected", [
    (ARTICLE, ARTICLE, ARTICLE),
    (AMP + "?fbclid=1", ARTICLE, ARTICLE),                                        # AMP -> its canonical
    ("https://wire.example/2022/11/11/copy.html", ARTICLE, ARTICLE),              # syndication
    (ARTICLE, ARTICLE + "?utm_source=canonical#x", ARTICLE),                      # declared, stripped
    (ARTICLE + "?utm_source=rss", None, ARTICLE),                                 # nothing declared
    (ARTICLE + "?utm_source=rss", "", ARTICLE),
    (ARTICLE, "https://www.scmp.com/", ARTICLE),                                  # home page: template bug
    (ARTICLE, "https://www.scmp.com", ARTICLE),
    ("https://www.scmp.com/", "https://www.scmp.com/", "https://www.scmp.com/"),  # the home page itself
    (ARTICLE, "https://www.scmp.com/?id=3199102", "https://www.scmp.com/?id=3199102"),
    (ARTICLE, "javascript:void(0)", ARTICLE),                                     # not http(s)
    (ARTICLE, "ftp://www.scmp.com/news/article/3199102", ARTICLE),
    (ARTICLE, "https:///no-host", ARTICLE),
    (ARTICLE, "http://[broken/x", ARTICLE),                                      # malformed
    ("https://e.cn/china/2024/content_1.htm", "https://e.cn/china/", "https://e.cn/china/2024/content_1.htm"),  # section
    ("https://e.cn/article/123/slug", "https://e.cn/article/123", "https://e.cn/article/123"),  # short form is fine
    ("https://wire.example/china/x.html", "https://e.cn/china/", "https://e.cn/china/"),  # another site's: believed
])
def test_choose_canonical(page, declared, expected):
    assert choose_canonical(page, declared) == expected


@pytest.mark.parametrize("text, expected", [
    ("Hello   \t world", "Hello world"),
    ("乌镇\u3000\u3000峰会 开幕", "乌镇 峰会 开幕"),
    ("price:\u00a0100\u00a0\u00a0yuan", "price: 100 yuan"),
    ("First para.\n\n\n  Second   para.  \r\n\r\nThird.", "First para.\nSecond para.\nThird."),
    ("  \n line one \n \u3000 \n line two \n ", "line one\nline two"),
    ("cafe\u0301", "caf\u00e9"),  # NFC
    ("", ""),
    (None, ""),
])
def test_clean_text(text, expected):
    assert clean_text(text) == expected


def test_pipeline_sets_canonical_and_strips_tracking():
    item = Article(url=AMP + "?utm_source=twitter&fbclid=abc#top", source="asia-tech-wire",
                   text="  World Internet Conference\u00a0opens.\n\n\nIn Wuzhen.  ",
                   title="  WIC  2022 ", canonical_url=ARTICLE + "?utm_campaign=x",
                   authors=[" Ben  Jiang", "Ben Jiang", "", "Coco Feng"], tags=["WIC", " WIC "])
    assert NormalisePipeline().process_item(item) is item
    assert item.canonical_url == ARTICLE
    assert item.url == AMP
    assert item.text == "World Internet Conference opens.\nIn Wuzhen."
    assert item.title == "WIC 2022"
    assert item.authors == ["Ben Jiang", "Coco Feng"]
    assert item.tags == ["WIC"]
    assert item.site_name is None and item.description is None


def test_pipeline_without_declared_canonical_uses_the_page():
    item = Article(url="HTTPS://Digest.Example/stories/wic.html?gclid=1", source="digest", text="x")
    NormalisePipeline().process_item(item)
    assert item.canonical_url == item.url == "https://digest.example/stories/wic.html"


def test_the_workers_steps_are_the_pipelines_steps():
    """``prepare_item`` (what an extraction worker runs, on the item's own fields) leaves an
    item exactly as the Scrapy pipelines (through ``ItemAdapter``) do, and writes no field the
    item does not declare: a misspelt name would become a stray attribute, never stored."""
    import copy
    import dataclasses

    from conftest import SEED_PATH, SITE_DIR

    from wicnews.articles import item_from_page, prepare_item
    from wicnews.extract import extract_article
    from wicnews.pipelines.dedupe import DedupePipeline
    from wicnews.pipelines.relevance import RelevancePipeline

    url = "https://www.scmp.com" + SEED_PATH.removeprefix("/scmp") + "?utm_source=rss"
    page = extract_article((SITE_DIR / SEED_PATH.lstrip("/")).read_bytes(), url)
    stub = Article(url="https://e.com/a#x", source="gdelt", text="", title="  A  stub ", text_status="stub")
    names = {f.name for f in dataclasses.fields(Article)}
    for item in (item_from_page(page, url), stub):
        by_pipelines = copy.deepcopy(item)
        for step in (NormalisePipeline(), RelevancePipeline(), DedupePipeline()):
            by_pipelines = step.process_item(by_pipelines)
        prepared = prepare_item(copy.deepcopy(item))
        assert dataclasses.asdict(prepared) == dataclasses.asdict(by_pipelines)
        assert set(vars(prepared)) == names
        assert prepared.url_key and prepared.text_key and prepared.relevance is not None
