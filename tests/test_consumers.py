"""Consumers of the coverage, end to end over a real crawl of the loopback fixture site, on
SQLite and on the real PostgreSQL: cursors, formats parsed back by real parsers, search in
English and Chinese, hostile queries."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import threading
from datetime import datetime, timezone

import feedparser
import pytest
from conftest import CHINESE_PATH, FAST, SEED_PATH, SEED_TITLE
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from wicnews.db import consumers
from wicnews.db import engine as db
from wicnews.db.articles import store_article
from wicnews.db.queries import Filters
from wicnews.models import Article
from wicnews.pipelines.dedupe import text_key
from wicnews.urls import url_key


@pytest.fixture
def crawled(site, wicnews, db_url, sources_file):
    result = wicnews("crawl", "--sources", str(sources_file), "--db", db_url, *FAST)
    assert result.returncode == 0, result.stderr
    return db_url


def ids(wicnews, *args) -> list[int]:
    return [a["id"] for a in json.loads(wicnews(*args, "--format", "json", check=True).stdout)]


def table_state(url: str) -> tuple:
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            return tuple(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                         for t in ("articles", "article_urls", "consumers", "runs"))
    finally:
        engine.dispose()


def test_consumers_formats_and_search(site, wicnews, crawled):
    db_url = crawled
    everything = ids(wicnews, "new", "--db", db_url, "--since", "1d")
    assert len(everything) == 3

    # a consumer gets the coverage once, then nothing; another consumer gets it all
    assert sorted(ids(wicnews, "new", "--consumer", "desk", "--peek", "--db", db_url)) == sorted(everything)
    assert sorted(ids(wicnews, "new", "--consumer", "desk", "--db", db_url)) == sorted(everything)
    assert ids(wicnews, "new", "--consumer", "desk", "--db", db_url) == []
    assert "no articles" in wicnews("new", "--consumer", "desk", "--db", db_url, check=True).stdout
    # --limit: oldest first, the rest next time
    first = ids(wicnews, "new", "--consumer", "analyst", "--limit", "2", "--db", db_url)
    rest = ids(wicnews, "new", "--consumer", "analyst", "--db", db_url)
    assert len(first) == 2 and sorted(first + rest) == sorted(everything)
    # filters
    [chinese] = json.loads(wicnews("new", "--lang", "zh", "--since", "1d", "--db", db_url, "--format", "json").stdout)
    assert chinese["canonical_url"] == site.url(CHINESE_PATH)
    scmp = json.loads(wicnews("new", "--site", "south china morning post", "--since", "1d", "--db", db_url,
                              "--format", "json").stdout)
    assert [a["title"] for a in scmp] == [SEED_TITLE]
    assert ids(wicnews, "new", "--site", "127.0.0.1", "--since", "1d", "--db", db_url) != []
    assert ids(wicnews, "new", "--site", "example.org", "--since", "1d", "--db", db_url) == []
    assert ids(wicnews, "new", "--source", "no-such-source", "--since", "1d", "--db", db_url) == []

    # every format parsed back by a real parser
    rows = json.loads(wicnews("new", "--since", "1d", "--db", db_url, "--format", "json").stdout)
    lines = wicnews("new", "--since", "1d", "--db", db_url, "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line) for line in lines] == rows
    raw = wicnews("new", "--since", "1d", "--db", db_url, "--format", "csv").stdout
    table = list(csv.DictReader(io.StringIO(raw.removeprefix("\ufeff"))))
    assert raw.startswith("\ufeff") and [int(r["id"]) for r in table] == [r["id"] for r in rows]
    assert any(r["title"].startswith("2022年世界互联网大会乌镇峰会开幕") for r in table)
    atom = wicnews("new", "--since", "1d", "--db", db_url, "--format", "atom").stdout
    parsed = feedparser.parse(io.BytesIO(atom.encode("utf-8")))
    assert parsed.bozo == 0, parsed.bozo_exception
    assert parsed.version == "atom10" and len(parsed.entries) == 3
    assert {e.link for e in parsed.entries} == {r["canonical_url"] for r in rows}
    assert any(e.title == SEED_TITLE and e.published_parsed for e in parsed.entries)
    assert "乌镇峰会" in atom

    # search: English (stemmed), Chinese inside a sentence, ranked, with a snippet
    [found] = json.loads(wicnews("search", "Alibaba", "--db", db_url, "--format", "json", check=True).stdout)
    assert found["canonical_url"] == site.url(SEED_PATH) and "[Alibaba]" in found["snippet"]
    [found] = json.loads(wicnews("search", "乌镇峰会", "--db", db_url, "--format", "json", check=True).stdout)
    assert found["canonical_url"] == site.url(CHINESE_PATH) and "[乌镇峰会]" in found["snippet"]
    assert ids(wicnews, "search", "峰会", "--db", db_url) == [found["id"]]  # two characters: below a trigram
    assert site.url(SEED_PATH) in wicnews("search", "tycoons", "--db", db_url, check=True).stdout
    stemmed = json.loads(wicnews("search", "conferences", "--db", db_url, "--format", "json").stdout)
    assert site.url(SEED_PATH) in {a["canonical_url"] for a in stemmed}
    assert ids(wicnews, "search", "Alibaba", "--lang", "zh", "--db", db_url) == []
    assert ids(wicnews, "search", "Alibaba 量子计算机", "--db", db_url) == []  # every term must match
    feed = feedparser.parse(io.BytesIO(wicnews("search", "乌镇", "--db", db_url, "--format", "atom").stdout.encode()))
    assert feed.bozo == 0 and len(feed.entries) >= 1


HOSTILE = ['"', "'", '""', "Alibaba\"", 'NEAR(Alibaba', "NEAR(a b, 2)", "title:Alibaba", "text:*", "*", "Ali*",
           "%", "_", "%%", "a_b", "\\", "\\%", "AND", "OR NOT", "(", ")", "^Alibaba", "{title}: x", "-Alibaba",
           "'; DROP TABLE articles; --", "x' OR '1'='1", "\x00", "Ali\x00baba", "乌镇\x00峰会", "\u200b", "\ud7ff",
           "a" * 5000, "乌" * 5000, "Alibaba " * 700, "\U0001f600"]


def test_hostile_queries_never_become_syntax(wicnews, crawled):
    from wicnews.db.queries import search
    from wicnews.db.search import terms

    before = table_state(crawled)
    engine = db.open_database(crawled, read_only=True, must_exist=True, auto_upgrade=False)
    try:
        for query in HOSTILE:  # NUL bytes included: the library layer, as a caller would
            assert isinstance(search(engine, query, Filters()), list)
        # literal text, not operators: they find what contains them, or nothing
        assert search(engine, "%", Filters()) == search(engine, "_", Filters()) == []
        assert len(search(engine, "乌镇\x00峰会", Filters())) == 1  # NUL splits terms
    finally:
        engine.dispose()
    for query in HOSTILE:  # the command line (argv cannot carry NUL)
        if "\x00" in query:
            continue
        result = wicnews("search", "--db", crawled, "--format", "json", "--", query)
        if not terms(query):  # nothing to search for (a zero-width space): a usage mistake, one line
            assert result.returncode == 2 and "the query is empty" in result.stderr, (query[:40], result.stderr)
            continue
        assert result.returncode == 0 and result.stderr == "", (query[:40], result.stderr)
        assert isinstance(json.loads(result.stdout), list)
    assert table_state(crawled) == before


def test_failed_writes_do_not_move_the_cursor(wicnews, crawled, tmp_path):
    read_end, write_end = os.pipe()
    os.close(read_end)  # stdout is a pipe nobody reads: every write fails
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WICNEWS_")}
        proc = subprocess.run([sys.executable, "-m", "wicnews.cli", "new", "--consumer", "desk", "--db", crawled],
                              stdout=write_end, stderr=subprocess.PIPE, text=True, env=env, timeout=120)
    finally:
        os.close(write_end)
    assert proc.returncode == 1 and "cursor did not move" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    unwritable = wicnews("new", "--consumer", "desk", "--db", crawled, "--out", str(tmp_path / "missing" / "out.json"))
    assert unwritable.returncode == 2 and "cannot write" in unwritable.stderr and "Traceback" not in unwritable.stderr
    assert table_state(crawled)[2] == 0  # no cursor written
    out = tmp_path / "desk.json"
    wicnews("new", "--consumer", "desk", "--db", crawled, "--format", "json", "--out", str(out), check=True)
    assert len(json.loads(out.read_text(encoding="utf-8"))) == 3
    assert ids(wicnews, "new", "--consumer", "desk", "--db", crawled) == []


def article(n: int, **extra) -> dict:
    body = f"article number {n} about the World Internet Conference in Wuzhen " * 5
    link = f"http://news.test/{n}"
    values = {"url": link, "canonical_url": link, "url_key": url_key(link), "text_key": text_key(body),
              "title": f"Story {n}", "authors": [], "published_at": None, "site_name": "News Test", "language": "en",
              "description": None, "image": None, "tags": [], "text": body, "relevant": True, "relevance_level": "coverage",
              "matched_terms": ["World Internet Conference"], "source": "test",
              "first_seen_at": datetime.now(timezone.utc), "run_id": None}
    values.update(extra)
    return values


def test_a_crawl_committing_between_two_reads_is_not_skipped(db_url):
    engine = db.open_database(db_url)
    try:
        with Session(engine) as s, s.begin():
            store_article(s, article(1), {})
        batch = consumers.pending(engine, "desk", Filters())
        assert [r["title"] for r in batch.rows] == ["Story 1"]
        # a slow crawl holds an uncommitted article while the cursor moves
        slow = Session(engine)
        slow.begin()
        if engine.dialect.name == "postgresql":
            store_article(slow, article(2), {})
        consumers.advance(engine, "desk", batch.next_seq)
        if engine.dialect.name == "sqlite":  # one writer at a time: the crawl writes after the cursor moved
            store_article(slow, article(2), {})
        slow.commit()
        slow.close()
        assert [r["title"] for r in consumers.pending(engine, "desk", Filters()).rows] == ["Story 2"]
        assert consumers.advance(engine, "desk", 1) is False  # never backwards
    finally:
        engine.dispose()


def test_postgresql_numbers_articles_in_commit_order(pg_url):
    """Two writers: the first to insert holds its number until it commits; the second waits,
    so a reader never sees a bigger number committed before a smaller one."""
    engine = db.open_database(pg_url)
    try:
        first = Session(engine)
        first.begin()
        store_article(first, article(1), {})
        done = threading.Event()

        def second():
            with Session(engine) as s, s.begin():
                store_article(s, article(2), {})
            done.set()

        thread = threading.Thread(target=second)
        thread.start()
        assert not done.wait(1.0)  # waits for the first writer, whatever the time given
        assert consumers.pending(engine, "desk", Filters()).rows == []
        first.commit()
        first.close()
        thread.join(timeout=60)
        assert done.is_set()
        with Session(engine) as s:
            assert list(s.execute(select(Article.title).order_by(Article.seq)).scalars()) == ["Story 1", "Story 2"]
            assert s.scalar(select(func.count()).where(Article.seq.is_(None))) == 0
    finally:
        engine.dispose()


def test_read_commands_work_while_a_crawl_writes(sqlite_url):
    """A read-only SQLite connection (mode=ro) reads a WAL database a writer holds open."""
    engine = db.open_database(sqlite_url)
    reader = db.open_database(sqlite_url, read_only=True, must_exist=True, auto_upgrade=False)
    try:
        with Session(engine) as s, s.begin():
            store_article(s, article(1), {})
        with Session(engine) as writing, writing.begin():
            store_article(writing, article(2), {})
            assert [r["title"] for r in consumers.pending(reader, "x", Filters()).rows] == ["Story 1"]
        with pytest.raises(Exception, match=r"readonly|read-only|query_only"), reader.begin() as conn:
            conn.execute(text("DELETE FROM articles"))
    finally:
        reader.dispose()
        engine.dispose()


def test_migration_0003_numbers_and_indexes_existing_articles(db_url):
    """A database stored before 0003: its articles get numbers and are searchable after the upgrade."""
    from wicnews.db.queries import search

    engine = db.make_engine(db_url)
    try:
        db.upgrade(engine, "0004")  # the revision before 0003
        values = article(1, title="乌镇峰会 opens", text="世界互联网大会乌镇峰会今天开幕 " * 20 + " Alibaba conferences")
        with Session(engine) as s, s.begin():
            s.execute(Article.__table__.insert().values(**dict(values.items())))
        db.upgrade(engine)
        assert [a["title"] for a in search(engine, "峰会", Filters())] == ["乌镇峰会 opens"]
        assert [a["title"] for a in search(engine, "conference alibaba", Filters())] == ["乌镇峰会 opens"]
        with Session(engine) as s, s.begin():
            store_article(s, article(2), {})
        with Session(engine) as s:
            assert list(s.execute(select(Article.seq).order_by(Article.id)).scalars()) == [1, 2]
        assert [r["title"] for r in consumers.pending(engine, "new", Filters()).rows] == ["乌镇峰会 opens", "Story 2"]
    finally:
        engine.dispose()
