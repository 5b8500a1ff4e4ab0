"""End to end over the loopback site: placements of copies, a Chinese portal's copy, stories
sharing boilerplate kept apart, and an article edited between two crawls (``--recheck``)."""

from __future__ import annotations

import json
import urllib.request

from conftest import CHINESE_PATH, DIGEST_PATH, FAST, MIRROR_PATH, SEED_PATH, WIRE_PATH

EDITED = "/edit/2022/11/15/wuzhen-summit-opens.html"
PORTAL = "/portal/2022/11/10/wic2022-opening-copy.html"
BOILER = ("/boiler/2022/11/14/zhejiang-robotics-training-plan.html", "/boiler/2022/11/14/hangzhou-robot-maker-raises-funds.html")


def _version(site, v: int) -> None:
    urllib.request.urlopen(f"{site.base}/__version?v={v}", timeout=10).read()


def test_copies_are_placements_and_an_edit_is_a_revision(site, wicnews, sources_file, db_url):
    sources_file.write_text(sources_file.read_text(encoding="utf-8") + f"""
[[source]]
name = "placements"
kind = "feed"
url = "{site.base}/feeds/placements.rss"
""", encoding="utf-8")
    _version(site, 1)
    try:
        wicnews("crawl", "--sources", str(sources_file), "--db", db_url, *FAST, check=True)
        rows = json.loads(wicnews("new", "--all", "--since", "3650d", "--format", "json", "--db", db_url, check=True).stdout)
        by_url = {r["url"]: r for r in rows}

        seed = by_url[site.url(SEED_PATH)]
        placed = {p["url"]: p for p in seed["placements"]}
        assert seed["placements"][0]["url"] == site.url(SEED_PATH) and seed["placements"][0]["kind"] == "original"
        for path, outlet in ((WIRE_PATH, "Asia Tech Wire"), (DIGEST_PATH, "Daily Tech Digest"),
                             (MIRROR_PATH, "Global Tech Mirror")):
            p = placed[site.url(path)]
            assert (p["kind"], p["site_name"]) == ("copy", outlet), p
            assert p["title"] and p["published_at"], p
        assert placed[site.url(MIRROR_PATH)]["title"] != seed["title"]  # the copy's own headline
        assert placed[site.url(DIGEST_PATH)]["published_at"].startswith("2022-11-11T09:00")

        chinese = by_url[site.url(CHINESE_PATH)]
        portal = {p["url"]: p for p in chinese["placements"]}[site.url(PORTAL)]
        assert (portal["kind"], portal["site_name"], portal["title"]) == ("copy", "华东门户网", "乌镇峰会开幕：数字经济成焦点")
        assert site.url(PORTAL) not in by_url

        assert all(site.url(path) in by_url for path in BOILER)  # different stories, one boilerplate: two articles
        assert by_url[site.url(BOILER[0])]["id"] != by_url[site.url(BOILER[1])]["id"]

        table = wicnews("new", "--all", "--since", "3650d", "--db", db_url, check=True).stdout
        assert "[4 outlets]" in table  # the seed article ran on SCMP and three other outlets

        first = json.loads(wicnews("show", site.url(EDITED), "--format", "json", "--db", db_url, check=True).stdout)
        assert [r["number"] for r in first["revisions"]] == [1]

        _version(site, 2)  # the site edits the article
        crawl = wicnews("crawl", "--recheck", "--sources", str(sources_file), "--db", db_url, *FAST, check=True)
        assert "1 revised" in crawl.stdout, crawl.stdout + crawl.stderr
    finally:
        _version(site, 1)
    shown = json.loads(wicnews("show", str(first["id"]), "--format", "json", "--db", db_url, check=True).stdout)
    assert shown["title"] == "World Internet Conference opens in Wuzhen with call for AI rules"
    one, two = shown["revisions"]
    assert (one["number"], one["title"]) == (1, "World Internet Conference opens in Wuzhen")
    assert one["text"] == first["text"] and "Correction:" not in one["text"]
    assert two["number"] == 2 and "Correction:" in two["text"] and two["text"] == shown["text"]
    assert two["summary"] == "title changed; 1 paragraph added, 1 paragraph edited"
    table = wicnews("show", site.url(EDITED), "--db", db_url, check=True).stdout
    assert "REVISIONS (2)" in table and "PLACEMENTS" in table
    missing = wicnews("show", "99999", "--db", db_url)
    assert missing.returncode == 2 and "no article" in missing.stderr and "Traceback" not in missing.stderr
