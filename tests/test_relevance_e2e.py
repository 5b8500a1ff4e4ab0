"""Relevance end to end: a crawl over coverage in English and Chinese, a passing mention, the
US WIC nutrition programme, Wuzhen tourism and an unrelated story; then `new` (coverage only,
``--mentions``, ``--all``, ``--entity``), `explain` and `rescore` with another profile."""

from __future__ import annotations

import json

from conftest import CHINESE_PATH, FAST, SEED_PATH, SLIGHTLY_BROKEN_PATH, UNRELATED_PATH

COVERAGE_EN = "/relevance/wic2022-digital-cooperation.html"
MENTION = "/relevance/chipmaker-quarterly-results.html"
NUTRITION = "/relevance/us-wic-benefits.html"
TOURISM = "/relevance/wuzhen-water-town-autumn.html"


def listed(wicnews, db, *flags):
    out = wicnews("new", "--db", db, "--since", "30d", "--format", "json", *flags, check=True).stdout
    return {row["canonical_url"]: row for row in json.loads(out)}


def test_new_lists_exactly_the_coverage_with_scores_levels_and_explanations(site, wicnews, db_url, sources_file, tmp_path):
    with sources_file.open("a", encoding="utf-8") as handle:
        handle.write(f'\n[[source]]\nname = "relevance"\nkind = "feed"\nurl = "{site.base}/feeds/relevance.rss"\n')
    wicnews("crawl", "--sources", str(sources_file), "--db", db_url, *FAST, check=True)

    coverage = listed(wicnews, db_url)
    assert sorted(coverage) == sorted(site.url(p) for p in (SEED_PATH, CHINESE_PATH, SLIGHTLY_BROKEN_PATH, COVERAGE_EN))
    for row in coverage.values():
        verdict = row["relevance"]
        assert row["relevance_level"] == verdict["level"] == "coverage" and row["relevant"] is True
        assert verdict["score"] > 0 and any(m["counted"] for m in verdict["explanation"])
        assert all({"term", "field", "count", "snippet"} <= set(m) for m in verdict["explanation"])

    with_mentions = listed(wicnews, db_url, "--mentions")
    assert set(with_mentions) - set(coverage) == {site.url(MENTION)}
    assert with_mentions[site.url(MENTION)]["relevance_level"] == "mention"

    everything = listed(wicnews, db_url, "--all")
    for path in (NUTRITION, TOURISM, UNRELATED_PATH):
        assert everything[site.url(path)]["relevance_level"] == "none", path
        assert everything[site.url(path)]["relevance"]["explanation"] is not None

    # the table says it too, in one line per article
    table = wicnews("new", "--db", db_url, "--since", "30d", check=True).stdout
    assert "coverage · score" in table and "World Internet Conference" in table

    # entities, by their name or a Chinese alias
    assert set(listed(wicnews, db_url, "--entity", "alibaba")) >= {site.url(COVERAGE_EN)}
    assert set(listed(wicnews, db_url, "--entity", "阿里巴巴")) == set(listed(wicnews, db_url, "--entity", "Alibaba"))
    assert listed(wicnews, db_url, "--entity", "Nobody Inc") == {}

    # explain, by id or URL
    article_id = str(coverage[site.url(COVERAGE_EN)]["id"])
    by_id = wicnews("explain", article_id, "--db", db_url, check=True).stdout
    assert "coverage (score" in by_id and "World Internet Conference in the title" in by_id
    why_not = wicnews("explain", site.url(NUTRITION), "--db", db_url, "--format", "json", check=True).stdout
    assert json.loads(why_not)["relevance"]["level"] == "none"
    missing = wicnews("explain", "999999", "--db", db_url)
    assert missing.returncode == 2 and "no stored article" in missing.stderr and "Traceback" not in missing.stderr

    # another profile, without refetching: only the tourism story is about Wuzhen tourism
    topic = tmp_path / "tourism.toml"
    topic.write_text('[topic]\nname = "wuzhen-tourism"\n\n[[term]]\nlabel = "water town"\nstrength = "strong"\n'
                     'aliases = ["water town", "scenic area"]\n', encoding="utf-8")
    result = wicnews("rescore", "--topic", str(topic), "--db", db_url)
    assert result.returncode == 0, result.stderr
    assert "changed level" in result.stdout
    assert sorted(listed(wicnews, db_url)) == [site.url(TOURISM)]
