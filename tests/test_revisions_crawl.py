"""End to end over the loopback site: an edit that changes an article's relevance verdict
(``crawl --recheck``), and a page whose canonical link names another story crawled before
that story (two articles, not one)."""

from __future__ import annotations

import json
import urllib.request

from conftest import FAST

METRO = "/verdict/2022/11/16/metro-budget.html"   # no conference terms; its edit names the WIC
FORUM = "/verdict/2022/11/16/summit-forum.html"   # coverage; its edit drops every conference term
STORY_A, STORY_B = "/b/story-a.html", "/b/story-b.html"  # A's canonical link names B, another story


def _sources(path, site, *feeds: str) -> str:
    path.write_text("".join(f'[[source]]\nname = "{feed}"\nkind = "feed"\nurl = "{site.base}/feeds/{feed}"\n\n'
                            for feed in feeds), encoding="utf-8")
    return str(path)


def _version(site, v: int) -> None:
    urllib.request.urlopen(f"{site.base}/__version?v={v}", timeout=10).read()


def _articles(wicnews, db_url) -> dict[str, dict]:
    out = wicnews("new", "--all", "--since", "3650d", "--format", "json", "--db", db_url, check=True).stdout
    return {r["url"]: r for r in json.loads(out)}


def _coverage(wicnews, db_url) -> set[str]:
    out = wicnews("new", "--since", "3650d", "--format", "json", "--db", db_url, check=True).stdout
    return {r["url"] for r in json.loads(out)}


def test_an_edit_takes_the_new_relevance_verdict(site, wicnews, tmp_path, db_url):
    sources = _sources(tmp_path / "sources.toml", site, "verdict.rss")
    metro, forum = site.url(METRO), site.url(FORUM)
    _version(site, 1)
    try:
        wicnews("crawl", "--sources", sources, "--db", db_url, *FAST, check=True)
        before = _articles(wicnews, db_url)
        assert (before[metro]["relevance_level"], before[forum]["relevance_level"]) == ("none", "coverage")
        assert _coverage(wicnews, db_url) == {forum}
        _version(site, 2)  # the site edits both: the metro story now names the WIC, the forum story no longer does
        crawl = wicnews("crawl", "--recheck", "--sources", sources, "--db", db_url, *FAST, check=True)
        assert "2 revised" in crawl.stdout, crawl.stdout + crawl.stderr
    finally:
        _version(site, 1)
    after = _articles(wicnews, db_url)
    assert (after[metro]["id"], after[forum]["id"]) == (before[metro]["id"], before[forum]["id"])
    assert (after[metro]["relevance_level"], after[metro]["relevant"]) == ("coverage", True)
    assert (after[forum]["relevance_level"], after[forum]["relevant"]) == ("none", False)
    assert "World Internet Conference" in after[metro]["matched_terms"] and after[forum]["matched_terms"] == []
    assert _coverage(wicnews, db_url) == {metro}

    explained = wicnews("explain", metro, "--db", db_url, check=True).stdout
    assert "coverage" in explained and "World Internet Conference in the title" in explained, explained
    explained = wicnews("explain", forum, "--db", db_url, check=True).stdout
    assert "    none (score 0)" in explained and "no term of the topic profile appears" in explained, explained
    verdict = json.loads(wicnews("explain", forum, "--format", "json", "--db", db_url, check=True).stdout)["relevance"]
    assert verdict["entities"] == [] or all("Conference" not in e["name"] for e in verdict["entities"])


def test_a_page_naming_another_story_as_canonical_does_not_erase_it(site, wicnews, tmp_path, db_url):
    wicnews("crawl", "--sources", _sources(tmp_path / "a.toml", site, "canonical-a.rss"), "--db", db_url, *FAST,
            check=True)
    wicnews("crawl", "--sources", _sources(tmp_path / "b.toml", site, "canonical-b.rss"), "--db", db_url, *FAST,
            check=True)
    rows = _articles(wicnews, db_url)
    a, b = site.url(STORY_A), site.url(STORY_B)
    assert set(rows) == {a, b}, rows.keys()
    assert "ransomware gang" in rows[a]["text"] and "satellite" in rows[b]["text"]
    assert [(p["url"], p["kind"]) for p in rows[a]["placements"]] == [(a, "original")]
    assert [(p["url"], p["kind"]) for p in rows[b]["placements"]] == [(b, "original")]
