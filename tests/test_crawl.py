"""End to end: real Scrapy crawls over HTTP of the loopback fixture site, through the
``wicnews`` command, into SQLite and into a real PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from conftest import (
    AMP_PATH,
    CHINESE_PATH,
    DIGEST_PATH,
    FAST,
    FAST_MAXSIZE,
    MIRROR_PATH,
    SEED_PATH,
    SEED_TITLE,
    SITE_DIR,
    SLIGHTLY_BROKEN_PATH,
    UNRELATED_PATH,
    WIRE_PATH,
    flat,
    seed,
)

BAD_KINDS = {"http_404", "http_500", "redirect_loop", "empty_body", "not_html", "too_large", "encoding", "feed_malformed",
             "encoding_replaced"}


def new_json(wicnews, db, *extra):
    result = wicnews("new", "--db", db, "--format", "json", "--since", "1d", *extra, check=True)
    return json.loads(result.stdout)


def runs_json(wicnews, db):
    return json.loads(wicnews("runs", "--db", db, "--format", "json", check=True).stdout)


def test_full_cycle_stores_each_article_once_and_rerun_adds_nothing(site, wicnews, db_url, sources_file):
    site.reset()
    first = wicnews("crawl", "--sources", str(sources_file), "--db", db_url, *FAST)
    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stderr and "Warning" not in first.stderr, first.stderr

    articles = new_json(wicnews, db_url)
    by_url = {a["canonical_url"]: a for a in articles}
    seed_url = site.url(SEED_PATH)
    # each relevant article once; the unrelated story is left out
    assert sorted(by_url) == sorted([seed_url, site.url(CHINESE_PATH), site.url(SLIGHTLY_BROKEN_PATH)])

    article = by_url[seed_url]
    date, body = seed()
    assert article["title"] == SEED_TITLE
    assert article["authors"] == ["Ben Jiang", "Coco Feng"]
    published = datetime.fromisoformat(article["published_at"])
    assert published.utcoffset() is not None
    assert published == datetime(2022, 11, 10, 11, 30, 11, tzinfo=timezone.utc)
    assert published.astimezone(ZoneInfo("Asia/Hong_Kong")).date().isoformat() == date
    assert article["site_name"] == "South China Morning Post"
    assert article["language"] == "en"
    assert flat(article["text"]) == flat(body)
    assert article["relevant"] is True
    assert {"World Internet Conference", "Wuzhen Summit", "WIC"} <= set(article["matched_terms"])
    assert "utm_" not in article["canonical_url"] and "#" not in article["canonical_url"]
    assert article["url"] == seed_url  # the feed linked it with utm_* and a fragment
    assert article["source"] in {"scmp-china", "news-sitemaps", "scmp-wic-topic", "broken-links"}
    # the AMP page, the syndicated copy (canonical), the aggregator copy (same text) and the
    # republished copy (near-duplicate) are this article
    assert sorted(article["also_at"]) == sorted(site.url(p) for p in (AMP_PATH, WIRE_PATH, DIGEST_PATH, MIRROR_PATH))
    first_seen = datetime.fromisoformat(article["first_seen_at"])
    assert abs((datetime.now(timezone.utc) - first_seen).total_seconds()) < 600

    chinese = by_url[site.url(CHINESE_PATH)]
    assert chinese["language"] == "zh"
    assert chinese["title"].startswith("2022年世界互联网大会乌镇峰会开幕")
    assert "王喆" in chinese["text"] and "\ufffd" not in chinese["text"]
    assert chinese["published_at"] == "2022-11-09T02:15:00+00:00"  # 10:15 China time
    assert {"世界互联网大会", "乌镇峰会"} <= set(chinese["matched_terms"])

    everything = new_json(wicnews, db_url, "--all")
    unrelated = [a for a in everything if a["canonical_url"] == site.url(UNRELATED_PATH)]
    assert len(unrelated) == 1 and unrelated[0]["relevant"] is False and unrelated[0]["matched_terms"] == []
    assert len(everything) == 4

    [run] = runs_json(wicnews, db_url)
    assert run["status"] == "finished"
    assert run["articles_new"] == 4
    assert run["duplicates"] == 4  # AMP, wire, digest and mirror copies
    assert run["not_relevant"] == 1
    assert set(run["error_counts"]) >= BAD_KINDS, run["error_counts"]
    assert run["errors"] == sum(run["error_counts"][k] for k in BAD_KINDS)
    assert run["error_counts"]["skipped_robots"] == 1
    assert site.hits().get("/private/secret.html", 0) == 0  # robots.txt obeyed
    assert run["pages_fetched"] > 10

    # a second cycle: nothing new, nothing lost, stored URLs are not downloaded again
    site.reset()
    second = wicnews("crawl", "--sources", str(sources_file), "--db", db_url, *FAST)
    assert second.returncode == 0, second.stderr
    assert new_json(wicnews, db_url, "--all") == everything
    latest = runs_json(wicnews, db_url)[0]
    assert latest["status"] == "finished" and latest["articles_new"] == 0
    # the unchanged feeds, sitemaps and listing pages answer 304 (conditional GET): not parsed again
    assert latest["error_counts"]["skipped_not_modified"] >= 5, latest["error_counts"]
    hits = site.hits()
    assert hits.get(SEED_PATH, 0) == 0 and hits.get(CHINESE_PATH, 0) == 0


def test_rerun_without_skip_dedupes_in_the_database(site, wicnews, sqlite_url):
    """With WICNEWS_SKIP_SEEN off every page is fetched again; the unique constraints keep
    one row per article."""
    args = ("crawl", "--feed", site.url("/feeds/scmp-china.rss"), "--feed", site.url("/feeds/asiatechwire.atom"),
            "--db", sqlite_url, *FAST)
    env = {"WICNEWS_SKIP_SEEN": "false", "WICNEWS_CONDITIONAL_GET": "false"}  # feeds read in full again
    wicnews(*args, env=env, check=True)
    before = new_json(wicnews, sqlite_url, "--all")
    site.reset()
    wicnews(*args, env=env, check=True)
    assert site.hits().get(SEED_PATH, 0) == 1
    assert new_json(wicnews, sqlite_url, "--all") == before
    run = runs_json(wicnews, sqlite_url)[0]
    assert run["articles_new"] == 0 and run["duplicates"] == 5


def test_every_source_failing_exits_nonzero(site, wicnews, sqlite_url):
    result = wicnews("crawl", "--feed", site.url("/feeds/broken.rss"), "--feed", site.url("/feeds/missing.rss"),
                     "--feed", "http://127.0.0.1:9/unreachable.rss", "--db", sqlite_url, *FAST)
    assert result.returncode == 1
    assert "every source failed" in result.stderr
    assert "Traceback" not in result.stderr  # an unreachable host is logged in one line, not as a bug
    [run] = runs_json(wicnews, sqlite_url)
    assert run["status"] == "failed"
    assert run["error_counts"] == {"connection": 1, "feed_malformed": 1, "http_404": 1}


def test_some_sources_failing_still_exits_zero(site, wicnews, sqlite_url):
    result = wicnews("crawl", "--feed", site.url("/feeds/broken.rss"), "--feed", site.url("/feeds/digest.rdf"),
                     "--db", sqlite_url, *FAST)
    assert result.returncode == 0, result.stderr
    assert [a["title"] for a in new_json(wicnews, sqlite_url)] == ["WIC 2022: business over glitz in Wuzhen"]


def test_sitemap_index_with_gzip_child_and_news_extension(site, wicnews, sqlite_url):
    wicnews("crawl", "--sitemap", site.url("/sitemaps/index.xml"), "--db", sqlite_url, *FAST, check=True)
    articles = new_json(wicnews, sqlite_url, "--all")
    assert sorted(a["canonical_url"] for a in articles) == sorted(
        site.url(p) for p in (SEED_PATH, UNRELATED_PATH, CHINESE_PATH))
    run = runs_json(wicnews, sqlite_url)[0]
    assert run["duplicates"] == 1  # the digest copy in the news sitemap


def test_listing_page_follows_only_matching_links(site, wicnews, sqlite_url):
    site.reset()
    wicnews("crawl", "--page", site.url("/scmp/topics/world-internet-conference.html"), "--db", sqlite_url,
            *FAST, check=True)
    hits = site.hits()
    assert hits.get(SEED_PATH) == 1 and hits.get(AMP_PATH) == 1 and hits.get(UNRELATED_PATH) == 1
    assert not any(path.startswith("/scmp/about") for path in hits)
    articles = new_json(wicnews, sqlite_url, "--all")
    assert len(articles) == 2


def test_the_huge_page_is_over_the_test_limit_and_every_other_page_under_it():
    """What test_page_size_limit_from_settings and the full cycle rely on (the huge page is a
    streamed route of _routes.json, every other page a file)."""
    routes = json.loads((SITE_DIR / "_routes.json").read_text(encoding="utf-8"))
    assert routes["/bad/huge.html"]["size"] > FAST_MAXSIZE
    largest = max(SITE_DIR.rglob("*"), key=lambda p: p.stat().st_size if p.is_file() else 0)
    assert largest.stat().st_size * 5 < FAST_MAXSIZE, largest


def test_page_size_limit_from_settings(site, wicnews, sqlite_url):
    """-s overrides a Scrapy setting exactly like scrapy crawl -s."""
    feed = site.url("/feeds/bad-links.rss")
    small = wicnews("crawl", "--feed", feed, "--db", sqlite_url, *FAST)
    assert small.returncode == 0
    assert runs_json(wicnews, sqlite_url)[0]["error_counts"].get("too_large") == 1
    large = wicnews("crawl", "--feed", feed, "--db", sqlite_url, *FAST, "-s", f"DOWNLOAD_MAXSIZE={10 * FAST_MAXSIZE}")
    assert large.returncode == 0
    assert "too_large" not in runs_json(wicnews, sqlite_url)[0]["error_counts"]


@pytest.mark.e2e
def test_scrapy_crawl_from_the_repository_root(site, tmp_path):
    """``scrapy crawl monitor -a ...`` works from the repository root via scrapy.cfg."""
    import os
    import subprocess
    import sys

    from conftest import REPO

    db = f"sqlite:///{tmp_path / 'scrapy.db'}"
    env = {**os.environ, "WICNEWS_DATABASE_URL": db, "WICNEWS_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "monitor", "-a", f"feed={site.url('/feeds/digest.rdf')}",
         "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "'wicnews/articles_new': 1" in result.stderr
    listed = subprocess.run([sys.executable, "-m", "scrapy", "list"], cwd=REPO, env=env, capture_output=True, text=True)
    assert listed.stdout.split() == ["monitor"]


@pytest.mark.parametrize("args, message", [
    (["crawl", "--sources", "/nonexistent/sources.toml"], "cannot read sources file"),
    (["crawl", "--feed", "ftp://example.org/feed"], "not an http(s) URL"),
    (["crawl", "--feed", "http://127.0.0.1:9/feed", "-s", "lowercase=1"], "-s expects NAME=VALUE"),
    (["new", "--since", "last tuesday"], "--since"),
])
def test_user_mistakes_get_one_line_and_exit_2(wicnews, args, message):
    result = wicnews(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_bad_sources_file_names_the_line(wicnews, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[source]]\nname = "a"\nkind = "feed"\nurl = "http://127.0.0.1:9/a"\n\n'
                   '[[source]]\nname = "b"\nkind = "rss"\nurl = "http://127.0.0.1:9/b"\n')
    result = wicnews("crawl", "--sources", str(bad))
    assert result.returncode == 2
    assert result.stderr.strip() == (f"wicnews: {bad}:8: source #2: kind must be one of "
                                     "feed, sitemap, page, google_news, gdelt (got 'rss')")


@pytest.mark.parametrize("command", [["new"], ["runs"], ["crawl", "--feed", "http://127.0.0.1:9/feed"]])
def test_unreachable_database_gets_one_line_and_exit_3(wicnews, command):
    result = wicnews(*command, "--db", "postgresql://postgres@127.0.0.1:1/nowhere")
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith("wicnews: cannot open database postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    assert len(result.stderr.strip().splitlines()) == 1


def test_embedded_database_lives_at_an_absolute_documented_place(site, wicnews, tmp_path):
    wicnews("crawl", "--feed", site.url("/feeds/digest.rdf"), *FAST, check=True)
    db_file = tmp_path / "home" / "wicnews.db"
    assert db_file.exists()
    import sqlite3

    with sqlite3.connect(db_file) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 1
    assert json.loads(wicnews("new", "--format", "json", check=True).stdout)[0]["site_name"] == "Daily Tech Digest"


def test_demo_shows_coverage(wicnews):
    result = wicnews("demo")
    assert result.returncode == 0, result.stderr
    assert SEED_TITLE[:60] in result.stdout
    assert "2022年世界互联网大会乌镇峰会开幕" in result.stdout
    assert "run #1 finished" in result.stdout


def test_the_original_takes_over_when_its_copies_were_crawled_first(site, wicnews, sqlite_url):
    """A feed brings only the syndicated copy (canonical: the SCMP page), stored as the
    article; a later cycle over the SCMP feed still fetches the original, which takes over."""
    wicnews("crawl", "--feed", site.url("/feeds/wire-only.rss"), "--db", sqlite_url, *FAST, check=True)
    [copy] = new_json(wicnews, sqlite_url)
    assert (copy["url"], copy["canonical_url"]) == (site.url(WIRE_PATH), site.url(SEED_PATH))
    site.reset()
    wicnews("crawl", "--feed", site.url("/feeds/scmp-china.rss"), "--db", sqlite_url, *FAST, check=True)
    assert site.hits().get(SEED_PATH) == 1
    [article] = [a for a in new_json(wicnews, sqlite_url) if a["canonical_url"] == site.url(SEED_PATH)]
    assert (article["url"], article["site_name"]) == (site.url(SEED_PATH), "South China Morning Post")
    assert site.url(WIRE_PATH) in article["also_at"] and site.url(SEED_PATH) not in article["also_at"]


def test_naive_page_time_yields_to_the_feeds_time_with_offset(site, wicnews, sqlite_url):
    """The Chinese page gives "2022-11-09 10:15:00" without a zone; read as China time it
    agrees with the feed's 02:15 UTC, so both give the same instant."""
    wicnews("crawl", "--feed", site.url("/feeds/scmp-china.rss"), "--db", sqlite_url, *FAST, check=True)
    [chinese] = [a for a in new_json(wicnews, sqlite_url) if a["canonical_url"] == site.url(CHINESE_PATH)]
    assert chinese["published_at"] == "2022-11-09T02:15:00+00:00"
    assert chinese["authors"] == ["王喆", "李堃"]


def test_edge_cases_keep_every_story(site, wicnews, sqlite_url):
    """An AMP page whose canonical page is gone is kept; a template's section-page canonical
    does not merge two stories; a malformed link is counted and the other items still crawled."""
    result = wicnews("crawl", "--feed", site.url("/feeds/edge-cases.rss"), "--db", sqlite_url, *FAST)
    assert result.returncode == 0, result.stderr
    stored = {a["canonical_url"]: a for a in new_json(wicnews, sqlite_url)}
    assert sorted(stored) == sorted(site.url(p) for p in ("/edge/amp-orphan.html", "/edge/ai-labels.html",
                                                          "/edge/satellite-broadband.html"))
    assert stored[site.url("/edge/amp-orphan.html")]["title"] == "Small factories weigh the cost of going digital at Wuzhen"
    run = runs_json(wicnews, sqlite_url)[0]
    assert run["error_counts"] == {"bad_url": 1, "http_404": 1}
    assert run["articles_new"] == 3


def test_entries_older_than_the_age_limit_are_not_fetched(site, wicnews, sqlite_url):
    site.reset()
    result = wicnews("crawl", "--feed", site.url("/feeds/scmp-china.rss"), "--db", sqlite_url, *FAST,
                     "-s", "WICNEWS_MAX_AGE_DAYS=30")
    assert result.returncode == 0, result.stderr
    run = runs_json(wicnews, sqlite_url)[0]
    assert (run["articles_new"], run["error_counts"]) == (0, {"skipped_too_old": 3})  # all from 2022
    assert site.hits().get(SEED_PATH, 0) == 0


def test_a_database_that_refuses_one_article_loses_nothing_else(site, wicnews, pg_url):
    """A real PostgreSQL trigger rejects the football story: it is counted as store_failed,
    the run goes on and every other article is stored."""
    import psycopg

    wicnews("db", "upgrade", "--db", pg_url, check=True)
    with psycopg.connect(pg_url) as conn:
        conn.execute("""
            CREATE FUNCTION refuse_football() RETURNS trigger AS $$
            BEGIN
              IF NEW.url LIKE '%football%' THEN RAISE EXCEPTION 'disk quota exceeded (test)'; END IF;
              RETURN NEW;
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER refuse_football BEFORE INSERT ON articles FOR EACH ROW EXECUTE FUNCTION refuse_football();
        """)
    result = wicnews("crawl", "--feed", site.url("/feeds/scmp-china.rss"), "--db", pg_url, *FAST)
    assert result.returncode == 0, result.stderr
    assert "disk quota exceeded (test)" in result.stderr
    run = runs_json(wicnews, pg_url)[0]
    assert run["error_counts"] == {"store_failed": 1} and run["articles_new"] == 2
    assert len(new_json(wicnews, pg_url, "--all")) == 2


def test_two_crawls_at_once_store_each_article_once(site, db_url, sources_file, tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "WICNEWS_HOME": str(tmp_path), "WICNEWS_SKIP_SEEN": "false"}
    command = [sys.executable, "-m", "wicnews.cli", "crawl", "--sources", str(sources_file), "--db", db_url, *FAST]
    procs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
    listed = json.loads(subprocess.run([sys.executable, "-m", "wicnews.cli", "new", "--all", "--since", "1d",
                                        "--format", "json", "--db", db_url], env=env, capture_output=True,
                                       text=True, check=True).stdout)
    urls = [a["canonical_url"] for a in listed]
    assert len(urls) == len(set(urls))
    assert site.url(SEED_PATH) in urls and site.url(CHINESE_PATH) in urls
