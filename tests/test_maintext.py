"""The main text at the least cost (wicnews.maintext): the same metadata as trafilatura's own
reader, the full pass only where it can matter, htmldate only for a page that declares no date."""

from __future__ import annotations

from datetime import UTC, datetime

import lxml.html
import pytest
import trafilatura
from conftest import SEED_PATH, read_site

from wicnews.dates import parse_time
from wicnews.dating import Candidate, date_page
from wicnews.maintext import main_text, metadata

NOW = datetime(2026, 11, 29, tzinfo=UTC)
FIELDS = ("title", "author", "url", "hostname", "sitename", "description", "image", "categories", "tags")


@pytest.mark.parametrize("path", [SEED_PATH, "/zj/2022/11/09/wic2022-opening.html", "/bad/slightly-broken.html"])
def test_metadata_is_trafilaturas_without_date_and_license(path):
    """Whatever trafilatura's own metadata reader gives for these fields, ours gives too (a
    trafilatura upgrade that changes its reader shows here)."""
    html = read_site(path).decode("utf-8", "replace")
    url = "https://example.org" + path
    theirs = trafilatura.extract_metadata(lxml.html.document_fromstring(html), url)
    mine = metadata(lxml.html.document_fromstring(html), url)
    for name in FIELDS:
        assert getattr(mine, name) == getattr(theirs, name), name


def _page(paragraphs: list[str], furniture: str = "") -> lxml.html.HtmlElement:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return lxml.html.document_fromstring(f"<html><body>{furniture}<article>{body}</article></body></html>")


def test_main_text_leaves_the_tree_and_finds_the_article():
    sentences = [f"Delegates at the World Internet Conference in Wuzhen discussed point {i} of digital cooperation "
                 f"and data governance for a long while." for i in range(12)]
    tree = _page(sentences)
    before = lxml.html.tostring(tree)
    doc = main_text(tree, "https://example.org/a.html")
    assert lxml.html.tostring(tree) == before  # trafilatura worked on its own copy
    assert doc is not None and all(s in doc.text for s in sentences)


def test_main_text_none_without_text():
    empty = "<html><body><div></div><script>var a = 1;</script></body></html>"
    assert main_text(lxml.html.document_fromstring(empty), "https://example.org/") is None


def _declared(value: str) -> Candidate:
    parsed = parse_time(value)
    assert parsed is not None
    return Candidate("meta", parsed)


def test_htmldate_is_asked_only_without_a_declared_date():
    asked: list[int] = []

    def verdict() -> str:
        asked.append(1)
        return "2022-11-09"

    dated = date_page([_declared("2022-11-10T08:00:00+08:00")], verdict, UTC, NOW)
    assert asked == [] and dated.published_source == "meta"
    undated = date_page([], verdict, UTC, NOW)
    assert asked == [1] and undated.published_source == "htmldate"
    assert undated.published_at == datetime(2022, 11, 9, tzinfo=UTC)
    # a declared date out of range (in the future) is no date: htmldate is asked
    date_page([_declared("2030-01-01T00:00:00Z")], verdict, UTC, NOW)
    assert asked == [1, 1]


def test_lazy_and_eager_verdicts_agree():
    """A function or its value: the same dating wherever the verdict can matter."""
    for candidates in ([], [_declared("2022-11-10")], [_declared("2022-11-10T08:00:00+08:00")]):
        eager = date_page(list(candidates), "2022-11-09", UTC, NOW)
        lazy = date_page(list(candidates), lambda: "2022-11-09", UTC, NOW)
        assert eager == lazy
