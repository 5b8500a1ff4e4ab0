"""Unit tests of wicnews.extract on the fixture pages' real bytes (no network, no mocks)."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from conftest import (
    AMP_PATH,
    CHINESE_PATH,
    DIGEST_PATH,
    SEED_PATH,
    SEED_TITLE,
    SITE_DIR,
    SLIGHTLY_BROKEN_PATH,
    WIRE_PATH,
    flat,
    read_site,
    seed,
)

from wicnews.dates import guess_timezone, parse_datetime, published_time
from wicnews.errors import PageError
from wicnews.extract import decode_html, detect_language, extract_article, split_names

BASE = "http://127.0.0.1:8000"
SEED_URL = BASE + SEED_PATH
HTML = {"content-type": "text/html; charset=utf-8"}
GB2312 = {"content-type": "text/html; charset=gb2312"}
ZH_SENTENCE = "2022年世界互联网大会乌镇峰会在浙江桐乡乌镇开幕，记者王喆、李堃报道。"


def extract(path: str, headers=HTML, **kwargs):
    return extract_article(read_site(path, BASE), BASE + path, headers, **kwargs)


def page_error(body: bytes, headers=None, url: str = BASE + "/x.html") -> str:
    with pytest.raises(PageError) as info:
        extract_article(body, url, headers)
    return info.value.kind


# --- extract_article: the seed and its copies ------------------------------------------------

def test_seed_article_golden():
    art = extract(SEED_PATH)
    assert art.title == SEED_TITLE
    assert art.authors == ["Ben Jiang", "Coco Feng"]
    assert art.published_at == datetime(2022, 11, 10, 11, 30, 11, tzinfo=timezone.utc)
    assert art.published_at.utcoffset().total_seconds() == 0
    assert art.site_name == "South China Morning Post"
    assert art.language == "en"
    assert art.canonical_url == SEED_URL
    assert flat(art.text) == flat(seed()[1])
    assert not art.text.startswith(SEED_TITLE)  # the headline is metadata, not body
    assert art.image == BASE + "/scmp/images/wuzhen.jpg"
    assert "World Internet Conference" in art.tags
    assert art.is_amp is False
    assert (art.encoding, art.replaced_chars) == ("utf-8", 0)


@pytest.mark.parametrize("path, is_amp, canonical", [
    (AMP_PATH, True, SEED_URL),
    (WIRE_PATH, False, SEED_URL),
    (DIGEST_PATH, False, None),  # no rel=canonical: None or the page itself
])
def test_copies_extract_to_the_seed_text(path, is_amp, canonical):
    art = extract(path)
    assert flat(art.text) == flat(seed()[1])
    assert art.is_amp is is_amp
    if canonical:
        assert art.canonical_url == canonical
    else:
        assert art.canonical_url in (None, BASE + path)
    assert art.published_at.tzinfo is not None


@pytest.mark.parametrize("headers", [GB2312, None], ids=["http-gb2312", "no-headers"])
def test_chinese_gb18030_page_declared_gb2312(headers):
    art = extract(CHINESE_PATH, headers)
    assert "\ufffd" not in art.text and "\ufffd" not in (art.title or "")
    assert "喆" in art.text and "堃" in art.text  # not in GB2312: a strict gb2312 decoder fails
    assert art.encoding == "gb18030"
    assert art.language == "zh"
    # naive "2022-11-09 10:15:00" read in China time
    assert art.published_at == datetime(2022, 11, 9, 2, 15, tzinfo=timezone.utc)
    assert art.authors == ["王喆", "李堃"]  # a Chinese byline separates names with spaces


def test_slightly_broken_page_still_extracts():
    art = extract(SLIGHTLY_BROKEN_PATH)
    assert art.replaced_chars == 2
    assert art.encoding == "utf-8"
    assert art.text.count("\ufffd") <= 2
    assert "Wuzhen" in art.title


# --- extract_article: rejections -------------------------------------------------------------

@pytest.mark.parametrize("body", [b"", b"  \r\n\t  "], ids=["empty", "whitespace"])
def test_empty_body(body):
    assert page_error(body, HTML) == "empty_body"


@pytest.mark.parametrize("headers", [{"content-type": "application/pdf"}, None], ids=["pdf-type", "no-type"])
def test_pdf_is_not_html(headers):
    body = (SITE_DIR / "bad/report.pdf").read_bytes()
    assert body.startswith(b"%PDF")
    assert page_error(body, headers, BASE + "/bad/report.pdf") == "not_html"


def test_image_content_type_is_not_html():
    # real HTML bytes, but the server says it is an image: the content type decides
    assert page_error(read_site(SEED_PATH), {"Content-Type": "image/jpeg"}) == "not_html"


def test_tiny_page_has_no_text():
    body = b"<html><head><title>Hi</title></head><body><p>The World Internet Conference opens.</p></body></html>"
    assert page_error(body, HTML) == "no_text"


def test_broken_encoding_fixture_is_rejected():
    assert page_error(read_site("/bad/broken-encoding.html"), {"content-type": "text/html; charset=utf-8"}) == "encoding"


# --- decode_html -----------------------------------------------------------------------------

def test_decode_utf8_with_bom():
    body = b"\xef\xbb\xbf<html><body><p>caf\xc3\xa9 \xe4\xb9\x8c\xe9\x95\x87</p></body></html>"
    text, codec, replaced = decode_html(body, "text/html; charset=utf-8")
    assert text.startswith("<html>")  # the BOM is gone
    assert "café 乌镇" in text
    assert (codec, replaced) == ("utf-8", 0)


def test_decode_declared_gb2312_but_gbk_bytes():
    body = f'<html><head><meta charset="gb2312"></head><body><p>{ZH_SENTENCE}</p></body></html>'.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        body.decode("gb2312")  # the premise: 喆/堃 are outside GB2312
    for content_type in ("text/html; charset=gb2312", None):
        text, codec, replaced = decode_html(body, content_type)
        assert ZH_SENTENCE in text
        assert (codec, replaced) == ("gb18030", 0)


def test_decode_declared_utf8_but_gb18030_bytes():
    body = f'<html><head><meta charset="utf-8"></head><body><p>{ZH_SENTENCE * 3}</p></body></html>'.encode("gb18030")
    text, codec, replaced = decode_html(body)
    assert "\ufffd" not in text
    assert ZH_SENTENCE in text
    assert (codec, replaced) == ("gb18030", 0)


def test_decode_keeps_declared_codec_for_a_few_bad_bytes():
    body = read_site(SLIGHTLY_BROKEN_PATH)
    text, codec, replaced = decode_html(body, "text/html; charset=utf-8")
    assert (codec, replaced) == ("utf-8", 2)
    assert text.count("\ufffd") == 2
    assert "Wuzhen Summit" in text


# --- parse_datetime --------------------------------------------------------------------------

UTC = timezone.utc


@pytest.mark.parametrize("value, default_tz, expected", [
    ("2022-11-10T19:30:11+08:00", UTC, datetime(2022, 11, 10, 11, 30, 11, tzinfo=UTC)),
    ("2022-11-10T11:30:11Z", UTC, datetime(2022, 11, 10, 11, 30, 11, tzinfo=UTC)),
    ("Thu, 10 Nov 2022 11:30:11 +0000", UTC, datetime(2022, 11, 10, 11, 30, 11, tzinfo=UTC)),
    ("2022-11-09 10:15:00", ZoneInfo("Asia/Shanghai"), datetime(2022, 11, 9, 2, 15, tzinfo=UTC)),
    ("2022-11-10", UTC, datetime(2022, 11, 10, tzinfo=UTC)),
    ("  2022-11-10T19:30:11+08:00\n", UTC, datetime(2022, 11, 10, 11, 30, 11, tzinfo=UTC)),
])
def test_parse_datetime(value, default_tz, expected):
    result = parse_datetime(value, default_tz)
    assert result == expected
    assert result.tzinfo is UTC  # always normalised to UTC, not just "aware"


@pytest.mark.parametrize("value", [None, "", "not a date", "2022-13-45T99:99:99", "1800-01-01", "Wed, 01 Jan 1800 00:00:00 +0000"])
def test_parse_datetime_rejects(value):
    assert parse_datetime(value) is None


# --- detect_language -------------------------------------------------------------------------

def test_detect_language():
    english = ("The annual conference in the water town drew officials and executives, who discussed "
               "artificial intelligence, data security and the digital economy over three days.")
    assert detect_language(english) == "en"
    assert detect_language(ZH_SENTENCE + "本届峰会聚焦数字经济与产业数字化。") == "zh"
    assert detect_language("") is None
    assert detect_language("2022 11 10 -- 42") is None  # no letters at all


# --- metadata helpers ------------------------------------------------------------------------


@pytest.mark.parametrize("value, names", [
    ("Ben Jiang; Coco Feng", ["Ben Jiang", "Coco Feng"]),
    ("By Ben Jiang and Coco Feng", ["Ben Jiang", "Coco Feng"]),
    ("Ben Jiang, Coco Feng", ["Ben Jiang", "Coco Feng"]),
    ("Jiang, Ben", ["Jiang, Ben"]),
    ("王喆、李堃", ["王喆", "李堃"]),
    ("记者 王喆 李堃", ["王喆", "李堃"]),
    ("本报记者：王喆，李堃", ["王喆", "李堃"]),
    ("https://www.scmp.com/author/ben-jiang", []),
    ("", []),
])
def test_split_names(value, names):
    assert split_names(value) == names


def test_a_stated_zone_wins_over_a_naive_time():
    hk = ZoneInfo("Asia/Hong_Kong")
    assert published_time(["2024-11-21 14:05:00", "2024-11-21T14:05:00+08:00"], timezone.utc) == (
        datetime(2024, 11, 21, 6, 5, tzinfo=timezone.utc), "zone")
    assert published_time(["2024-11-21 14:05:00"], hk) == (datetime(2024, 11, 21, 6, 5, tzinfo=timezone.utc), "local")
    assert published_time(["Thu, 21 Nov 2024 14:05:00 GMT"], hk)[1] == "zone"
    assert published_time(["2024-11-21", "2024-11-21 14:05"], hk) == (datetime(2024, 11, 21, 6, 5, tzinfo=timezone.utc), "local")
    assert published_time(["2024-11-21"], hk) == (datetime(2024, 11, 20, 16, 0, tzinfo=timezone.utc), "date")
    assert published_time(["garbage"], hk) == (None, None)


@pytest.mark.parametrize("url, language, zone", [
    ("https://www.chinadaily.com.cn/a/1.html", "en", "Asia/Shanghai"),
    ("https://www.news.cn/a.htm", "en", "Asia/Shanghai"),
    ("https://www.thestandard.com.hk/a", "en", "Asia/Hong_Kong"),
    ("https://example.com/a", "zh", "Asia/Shanghai"),
    ("http://127.0.0.1:8000/a", "en", "UTC"),
])
def test_guess_timezone(url, language, zone):
    assert str(guess_timezone(url, language)) == zone


def test_editor_line_and_meta_authors_on_a_chinese_page():
    paragraphs = "".join(f"<p>第{i}段：2024年世界互联网大会乌镇峰会在浙江乌镇开幕，来自全球{i + 10}个国家的嘉宾围绕"
                         f"数字经济、人工智能与网络安全展开讨论，议题{i}受到广泛关注。</p>" for i in range(8))
    page = ("<html><head><meta charset='utf-8'><meta name='author' content='王喆'><title>乌镇峰会开幕</title></head>"
            f"<body><article><h1>乌镇峰会开幕</h1>{paragraphs}<p>(责编：赵喆、孙婧)</p></article></body></html>")
    art = extract_article(page.encode(), "https://www.people.com.cn/n1/2024/1120/c1.html")
    assert art.authors == ["王喆"]
    assert "责编" not in art.text


ZH_TEXT = "2024年世界互联网大会乌镇峰会在浙江乌镇开幕。来自全球的嘉宾围绕数字经济、人工智能与网络安全展开讨论。" * 5
TW_TEXT = "世界網際網路大會在浙江烏鎮開幕，來自全球的嘉賓圍繞數位經濟、人工智慧與網路安全展開討論。" * 5


@pytest.mark.parametrize("codec, text", [("gbk", ZH_TEXT), ("big5", TW_TEXT), ("utf-8", ZH_TEXT)])
def test_undeclared_charsets_are_recognised_not_forced_to_gb18030(codec, text):
    page = f"<html><head><title>t</title></head><body><p>{text}</p></body></html>"
    decoded, _, bad = decode_html(page.encode(codec))
    assert decoded == page and bad == 0


def test_the_replacement_limit_applies_after_a_bom_too():
    garbage = b"\xef\xbb\xbf<html><body><p>" + bytes(range(0x80, 0x100)) * 10 + b"</p></body></html>"
    with pytest.raises(PageError) as info:
        decode_html(garbage)
    assert info.value.kind == "encoding"


def test_xhtml_with_an_xml_declaration():
    page = ('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
            '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd"><html xmlns="http://www.w3.org/1999/xhtml"><head>'
            '<title>Wuzhen Summit opens</title></head><body><div><h1>Wuzhen Summit opens</h1>'
            + "".join(f"<p>Paragraph {i}: the World Internet Conference in Wuzhen discussed data governance.</p>"
                      for i in range(8)) + "</div></body></html>")
    art = extract_article(page.encode(), "https://www.example.cn/a.htm", {"content-type": "application/xhtml+xml"})
    assert art.title == "Wuzhen Summit opens" and "Paragraph 7" in art.text


def test_site_name_falls_back_to_the_host():
    page = ("<html><body><article>" + "".join(
        f"<p>Paragraph {i}: the World Internet Conference in Wuzhen discussed data governance at length.</p>"
        for i in range(6)) + "</article></body></html>").encode()
    assert extract_article(page, "https://www.example.org/news/1.html").site_name == "example.org"
