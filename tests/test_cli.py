"""The command line: documented, thin, and one clear line for every mistake."""

from __future__ import annotations

import gzip
import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from conftest import CHINESE_PATH, REPO, SEED_PATH, SEED_TITLE, SITE_DIR, flat, read_site, seed

from wicnews.cli import build_parser
from wicnews.config import parse_since
from wicnews.errors import ConfigError

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_every_command_is_documented():
    commands = build_parser()._subparsers._group_actions[0].choices
    for name in commands:
        assert re.search(rf"`wicnews {name}\b", README), f"`wicnews {name}` is not in README.md"


def test_readme_gives_exactly_two_commands():
    block = README.split("## Two commands", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    assert [line.split("#")[0].strip() for line in block.strip().splitlines()] == ["make demo", "make test"]


def test_ci_runs_the_readme_test_command():
    assert "make test" in (REPO / ".ci" / "run").read_text()


NOW = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("value, expected", [
    ("24h", NOW - timedelta(hours=24)),
    ("7d", NOW - timedelta(days=7)),
    ("30m", NOW - timedelta(minutes=30)),
    ("2w", NOW - timedelta(weeks=2)),
    ("2022-11-10", datetime(2022, 11, 10, tzinfo=timezone.utc)),
    ("2022-11-10T08:00:00+08:00", datetime(2022, 11, 10, tzinfo=timezone.utc)),
    ("2022-11-10T08:00:00Z", datetime(2022, 11, 10, 8, tzinfo=timezone.utc)),
])
def test_since(value, expected):
    assert parse_since(value, NOW) == expected


@pytest.mark.parametrize("value", ["yesterday", "7 days", "-1d", "2022-13-01", "", "99999999d"])
def test_bad_since(value):
    with pytest.raises(ConfigError):
        parse_since(value, NOW)


def test_extract_a_saved_page_without_network(wicnews, tmp_path):
    page = tmp_path / "seed.html.gz"
    page.write_bytes(gzip.compress(read_site(SEED_PATH, "https://www.scmp.com")))
    result = wicnews("extract", str(page), "--url", "https://www.scmp.com/x?utm_source=t", "--format", "json", check=True)
    data = json.loads(result.stdout)
    assert data["title"] == SEED_TITLE and data["authors"] == ["Ben Jiang", "Coco Feng"]
    assert data["relevant"] is True and flat(data["text"]) == flat(seed()[1])
    assert data["published_at"] == "2022-11-10T11:30:11+00:00"
    assert data["canonical_url"] == "https://www.scmp.com" + SEED_PATH

    text = wicnews("extract", str(SITE_DIR / CHINESE_PATH.lstrip("/")), check=True).stdout
    assert "language:      zh" in text and "世界互联网大会" in text and "\ufffd" not in text


def test_extract_errors(wicnews):
    missing = wicnews("extract", "no/such/page.html")
    assert missing.returncode == 2 and "no such file" in missing.stderr
    pdf = wicnews("extract", str(SITE_DIR / "bad" / "report.pdf"))
    assert pdf.returncode == 1 and "not_html" in pdf.stderr
    assert len(pdf.stderr.strip().splitlines()) == 1


def test_db_upgrade_and_current(wicnews, sqlite_url):
    from wicnews.db.engine import head_revision

    head = head_revision()
    up = wicnews("db", "upgrade", "--db", sqlite_url, check=True)
    assert f"schema {head} (latest {head})" in up.stdout
    assert f"schema {head}" in wicnews("db", "current", "--db", sqlite_url, check=True).stdout


def test_db_upgrade_unreachable(wicnews):
    result = wicnews("db", "upgrade", "--db", "postgresql://postgres@127.0.0.1:1/x")
    assert result.returncode == 3 and len(result.stderr.strip().splitlines()) == 1


def test_empty_database_lists_nothing(wicnews, sqlite_url):
    missing = wicnews("new", "--db", sqlite_url)
    assert missing.returncode == 3 and "no database at" in missing.stderr  # a typo must not look like "no news"
    wicnews("db", "upgrade", "--db", sqlite_url, check=True)
    assert json.loads(wicnews("new", "--db", sqlite_url, "--format", "json", check=True).stdout) == []
    assert wicnews("new", "--db", sqlite_url, check=True).stdout.strip() == "no articles"
    assert wicnews("runs", "--db", sqlite_url, check=True).stdout.strip() == "no runs"


@pytest.mark.parametrize("args, message", [
    (["crawl", "--feed", "http://127.0.0.1:9/f", "-s", "DOWNLOAD_MAXSIZE=abc"], "-s DOWNLOAD_MAXSIZE: expected a whole number"),
    (["crawl", "--feed", "http://127.0.0.1:9/f", "-s", "WICNEWS_NEAR_DUP_THRESHOLD=x"], "expected a number"),
    (["crawl", "--feed", "http://127.0.0.1:9/f", "-s", "ROBOTSTXT_OBEY=maybe"], "expected true or false"),
    (["new", "--limit", "-1"], "expected a whole number >= 1"),
    (["frobnicate"], "invalid choice"),
])
def test_usage_mistakes_are_one_line(wicnews, args, message):
    result = wicnews(*args)
    assert result.returncode == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_sqlite_path_that_cannot_be_created(wicnews):
    result = wicnews("crawl", "--feed", "http://127.0.0.1:9/f", "--db", "sqlite:////proc/nope/a.db")
    assert result.returncode == 3 and "cannot create the database directory /proc/nope" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("env, message", [
    ({"WICNEWS_MAX_AGE_DAYS": "7d"}, "WICNEWS_MAX_AGE_DAYS='7d' does not fit the setting"),
    ({"WICNEWS_SKIP_SEEN": "maybe"}, "WICNEWS_SKIP_SEEN='maybe' does not fit the setting"),
])
def test_bad_environment_values_are_one_line(wicnews, env, message):
    result = wicnews("runs", env=env)
    assert result.returncode == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_schema_newer_than_this_wicnews_is_one_line(wicnews, sqlite_url):
    import sqlite3

    wicnews("db", "upgrade", "--db", sqlite_url, check=True)
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    result = wicnews("new", "--db", sqlite_url)
    assert result.returncode == 3 and "has a schema this wicnews does not know" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
