"""Mistakes on the command line are one clear line and a usage exit, never a traceback; and
commands that only rework stored articles follow the settings (topic, sources) of the crawl."""

from __future__ import annotations

import json
import re

import pytest
from conftest import SEED_PATH, read_site

TOURISM_TOPIC = ('[topic]\nname = "wuzhen-tourism"\n\n[[term]]\nlabel = "water town"\nstrength = "strong"\n'
                 'aliases = ["water town", "scenic area"]\n')


def one_line(result, code: int) -> str:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


@pytest.mark.parametrize("ident", ["99999999999999999999999", "#9223372036854775808", "²", "٣"])
def test_show_and_explain_of_an_impossible_id_say_no_such_article(wicnews, db_url, ident):
    wicnews("db", "upgrade", "--db", db_url, check=True)
    for command in ("show", "explain"):
        assert re.search(r"no (stored )?article", one_line(wicnews(command, ident, "--db", db_url), 2))


def test_the_largest_id_is_looked_up():
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from wicnews.db.queries import MAX_ID, find_article
    from wicnews.models import Base

    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        assert find_article(session, str(MAX_ID)) is None and find_article(session, str(MAX_ID + 1)) is None
    engine.dispose()


def test_extract_of_a_broken_url_is_one_line(wicnews):
    assert "http://[broken/" in one_line(wicnews("extract", "http://[broken/"), 2)


def test_a_failed_fetch_is_exactly_one_line(wicnews):
    """No Scrapy deprecation warning, no "Disabled ... middleware" line: the failure alone."""
    result = wicnews("extract", "http://127.0.0.1:9/nothing.html")
    assert "cannot fetch" in one_line(result, 1)


def test_sources_check_says_nothing_on_stderr_for_a_healthy_source(wicnews, site, tmp_path):
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[source]]\nname = "feed-ok"\nkind = "feed"\nurl = "{site.url("/feeds/scmp-china.rss")}"\n',
                       encoding="utf-8")
    result = wicnews("sources", "check", "--sources", str(sources))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""


def test_extract_judges_with_the_topic_given(wicnews, tmp_path):
    page = tmp_path / "seed.html"
    page.write_bytes(read_site(SEED_PATH, "https://www.scmp.com"))
    topic = tmp_path / "tourism.toml"
    topic.write_text(TOURISM_TOPIC, encoding="utf-8")
    default = json.loads(wicnews("extract", str(page), "--format", "json", check=True).stdout)
    assert default["relevant"] is True
    for args, env in ((["--topic", str(topic)], None), ([], {"WICNEWS_TOPIC": str(topic)})):
        other = json.loads(wicnews("extract", str(page), "--format", "json", *args, env=env, check=True).stdout)
        assert other["relevant"] is False and other["relevance"]["level"] == "none"
    assert "nowhere.toml" in one_line(wicnews("extract", str(page), "--topic", str(tmp_path / "nowhere.toml")), 2)


@pytest.mark.parametrize("how", ["flag", "environment", "broken"])
def test_a_bad_topic_stops_the_crawl_before_it_starts(wicnews, tmp_path, how):
    db = tmp_path / "crawl.db"
    bad = tmp_path / "bad.toml"
    bad.write_text("[topic\nname = ", encoding="utf-8")
    args = ["crawl", "--feed", "http://127.0.0.1:9/f", "--db", f"sqlite:///{db}"]
    if how == "flag":
        result = wicnews(*args, "--topic", str(bad))
    elif how == "environment":
        result = wicnews(*args, env={"WICNEWS_TOPIC": str(tmp_path / "nonexistent.toml")})
    else:
        result = wicnews(*args, env={"WICNEWS_TOPIC": str(bad)})
    one_line(result, 2)
    assert not db.exists()


@pytest.mark.parametrize("item", ["WICNEWS_NEAR_DUP_THRESHOLD=5", "WICNEWS_CANONICAL_MIN_SIMILARITY=-0.1",
                                  "WICNEWS_NEAR_DUP_THRESHOLD=nan", "WICNEWS_MAX_REPLACEMENT_RATIO=2"])
def test_ratios_outside_zero_to_one_are_one_line(wicnews, tmp_path, item):
    result = wicnews("crawl", "--feed", "http://127.0.0.1:9/f", "--db", f"sqlite:///{tmp_path / 'x.db'}", "-s", item)
    assert "from 0 to 1" in one_line(result, 2)
    name, _, value = item.partition("=")
    assert "from 0 to 1" in one_line(wicnews("runs", env={name: value}), 2)


def test_rework_commands_do_not_make_a_schema_in_an_empty_postgresql_database(wicnews, pg_url, tmp_path):
    from sqlalchemy import create_engine, inspect

    topic = tmp_path / "tourism.toml"
    topic.write_text(TOURISM_TOPIC, encoding="utf-8")
    current = wicnews("db", "current", "--db", pg_url, check=True)
    assert "schema none (latest" in current.stdout, current.stdout
    for args in (["rescore", "--topic", str(topic)], ["reextract"]):
        assert "wicnews db upgrade" in one_line(wicnews(*args, "--db", pg_url), 3)
    engine = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_sources_check_counts_the_links_of_a_sitemap_index_not_its_sitemaps(wicnews, site, tmp_path):
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[source]]\nname = "index"\nkind = "sitemap"\nurl = "{site.url("/sitemaps/index.xml")}"\n',
                       encoding="utf-8")
    result = wicnews("sources", "check", "--sources", str(sources))
    row = result.stdout.splitlines()[1].split()
    assert result.returncode == 0, result.stderr
    assert row[2] == "ok" and int(row[3]) > 2 and "2 sitemaps" in result.stdout  # the children's article links


def test_a_sitemap_index_of_empty_sitemaps_is_not_ok(wicnews, tmp_path):
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            base = f"http://127.0.0.1:{self.server.server_port}"
            if self.path == "/index.xml":
                body = ('<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                        + "".join(f"<sitemap><loc>{base}/s{i}.xml</loc></sitemap>" for i in range(3))
                        + "</sitemapindex>")
            elif self.path.startswith("/s"):
                body = '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>'
            else:
                self.send_error(404)
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sources = tmp_path / "sources.toml"
        sources.write_text(f'[[source]]\nname = "index"\nkind = "sitemap"\n'
                           f'url = "http://127.0.0.1:{server.server_port}/index.xml"\n', encoding="utf-8")
        result = wicnews("sources", "check", "--sources", str(sources),
                         "-s", "ROBOTSTXT_OBEY=false")
    finally:
        server.shutdown()
        server.server_close()
    row = result.stdout.splitlines()[1].split()
    assert result.returncode == 1 and row[2:4] == ["no_links", "0"], result.stdout + result.stderr
    assert "3 sitemaps" in result.stdout



def test_reextract_right_after_a_crawl_changes_nothing(wicnews, site, sqlite_url, tmp_path):
    """The crawl's feed hints and zones are kept: the same extractor gives the same articles."""
    from conftest import FAST

    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[source]]\nname = "scmp"\nkind = "feed"\ntimezone = "America/New_York"\n'
                       f'url = "{site.url("/feeds/scmp-china.rss")}"\n', encoding="utf-8")
    env = {"WICNEWS_SOURCES": str(sources)}
    wicnews("crawl", "--db", sqlite_url, *FAST, env=env, check=True)
    result = wicnews("reextract", "--db", sqlite_url, env=env, check=True)
    counts = re.search(r"(\d+) article\(s\), (\d+) changed, (\d+) unchanged", result.stdout)
    assert counts and int(counts[1]) > 0 and counts[2] == "0" and counts[3] == counts[1], result.stdout


@pytest.mark.e2e
def test_output_that_cannot_be_written_is_one_line_and_a_failure(tmp_path):
    """A full disk (``/dev/full``) under ``new``, ``runs`` or ``search``: one line, exit 1,
    no traceback; a misspelled option points to its command's help."""
    import os
    import subprocess
    import sys

    from wicnews.db import engine as db

    url = f"sqlite:///{tmp_path / 'x.db'}"
    db.open_database(url).dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WICNEWS_")}
    for argv in (["new"], ["new", "--format", "json"], ["runs"], ["search", "wuzhen"]):
        with open("/dev/full", "w") as full:
            result = subprocess.run([sys.executable, "-m", "wicnews.cli", *argv, "--db", url], stdout=full,
                                    stderr=subprocess.PIPE, text=True, env=env, timeout=60)
        assert "cannot write the output: No space left on device" in one_line(result, 1), argv
    result = subprocess.run([sys.executable, "-m", "wicnews.cli", "new", "--fromat", "json", "--db", url],
                            capture_output=True, text=True, env=env, timeout=60)
    assert "(see wicnews new --help)" in one_line(result, 2) and "--fromat" in result.stderr


def test_an_empty_query_or_since_a_directory_and_the_version(wicnews, tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    wicnews("db", "upgrade", "--db", url, check=True)
    assert "the query is empty" in one_line(wicnews("search", "  ", "--db", url), 2)
    assert "--since" in one_line(wicnews("new", "--since", "", "--db", url), 2)
    assert "is a directory" in one_line(wicnews("new", "--db", f"sqlite:///{tmp_path}"), 3)
    version = wicnews("--version")
    assert version.returncode == 0 and re.fullmatch(r"wicnews \d+\.\d+\S*\n", version.stdout), version
