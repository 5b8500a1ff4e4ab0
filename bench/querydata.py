"""A database of N synthetic articles for ``query_latency.py``: real sentences, a year of dates.

Articles: 90% English (sentences of the AEB gold bodies, ``$WICNEWS_EVAL_DIR/aeb``), 10% Chinese
(sentences of the fundus People's Daily gold body and of this repository's Chinese test texts),
3 to 8 paragraphs of 1 to 3 sentences; first seen over the last 365 days, ids growing with time
as in a crawl; a twentieth of them coverage (about 140 a day), a tenth mentions; one placement each (a twentieth
also a syndicated copy), a hundredth revised once, entities on a twentieth. A made-up company
name (``RARE_WORD``) is in one article in 20,000.

Built through the real schema (the Alembic migrations), then filled in bulk: SQLite with
``executemany`` in transactions of 20,000 articles, then FTS5's ``rebuild`` (see
``load_sqlite``); PostgreSQL with ``COPY``,
its indexes dropped for the copy and created again from their own definitions
(``pg_get_indexdef``) afterwards, ``seq`` set as migration 0003 sets it for existing rows.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
from datetime import UTC, datetime, timedelta

from loopback import REPO, eval_dir, real_sentences
from sqlalchemy import text

from wicnews.db.search import SEARCH_TABLES
from wicnews.models import Article, ArticleEntity, ArticleRevision, ArticleUrl
from wicnews.urls import url_key

RARE_WORD = "Qiaolumetrics"
RARE_EVERY = 20_000
CHUNK = 20_000
YEAR = timedelta(days=365).total_seconds()


def chinese_sentences() -> list[str]:
    """Chinese sentences: the fundus People's Daily gold body (when present) and the repository's texts."""
    paragraphs: list[str] = []
    source = eval_dir()
    gold = source / "fundus" / "test_data" / "cn" / "People.json" if source else None
    if gold and gold.is_file():
        for version in json.loads(gold.read_text(encoding="utf-8")).values():
            paragraphs += [p for s in version["body"]["sections"] for p in s["paragraphs"]]
    for path in [*sorted((REPO / "tests").rglob("*.toml")), *sorted((REPO / "tests" / "fixtures" / "expected").glob("*.json"))]:
        paragraphs += re.findall(r"[\u4e00-\u9fff][^\n\"'\]]{8,}?[。！？]", path.read_text(encoding="utf-8"))
    found = [s.strip() for p in paragraphs for s in re.split(r"(?<=[。！？])", p) if len(s.strip()) >= 10]
    return sorted(set(found))


def _key(value: str) -> str:
    return hashlib.blake2b(value.encode(), digest_size=16).hexdigest()


def _sqlite_time(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class Generator:
    """Deterministic rows: ``batches(n)`` yields dicts of table name -> rows (dicts)."""

    def __init__(self, now: datetime):
        self.now = now
        self.english, self.chinese = real_sentences(), chinese_sentences()
        self.rng = random.Random(12)

    def _body(self, zh: bool, i: int) -> tuple[str, str]:
        rng, pool = self.rng, (self.chinese if zh else self.english)
        joiner = "" if zh else " "
        paragraphs = [joiner.join(rng.choice(pool) for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(3, 8))]
        if i % RARE_EVERY == 7:
            paragraphs[-1] += f" {RARE_WORD} said it would expand."
        return rng.choice(pool)[:120], "\n".join(paragraphs)

    def article(self, i: int, n: int) -> tuple[dict, list[dict], list[dict], list[dict]]:
        rng = self.rng
        ident = i + 1
        seen = self.now - timedelta(seconds=YEAR * (1 - i / n) + rng.random() * 30)
        zh = rng.random() < 0.1
        title, body = self._body(zh, i)
        roll = rng.random()
        level = "coverage" if roll < 0.05 else "mention" if roll < 0.15 else "none"
        site = rng.randrange(400)
        url = f"https://news{site}.example.{'cn' if zh else 'com'}/{seen:%Y/%m/%d}/{ident}.html"
        published = None if rng.random() < 0.05 else seen - timedelta(seconds=rng.random() * 12 * 3600)
        terms = ["World Internet Conference", "Wuzhen"] if level != "none" else []
        relevance = None if level == "none" else {
            "score": 7.5 if level == "coverage" else 2.0, "level": level,
            "explanation": [{"term": t, "field": f, "count": 1 + (ident % 3), "counted": True, "points": 2.5,
                             "snippet": body[:80]} for t, f in zip(terms, ("title", "body"), strict=True)],
            "entities": [{"name": "Alibaba", "count": 1}] if ident % 20 == 0 else []}
        article = {
            "id": ident, "url": url, "canonical_url": url, "url_key": url_key(url), "text_key": _key(f"{ident}:{body}"),
            "title": title, "authors": ["Li Wei"] if zh else ["A. Writer", "B. Reporter"][: 1 + ident % 2],
            "published_at": published, "published_offset": 480 if zh else 0, "published_source": "jsonld",
            "modified_at": None, "site_name": f"News {site}", "language": "zh" if zh else "en",
            "description": body[:150], "image": None, "tags": ["internet"] if ident % 4 == 0 else [], "editors": [],
            "origin": None, "extractor_version": 3, "text": body, "text_status": "full", "title_key": _key(title),
            "relevant": level == "coverage", "matched_terms": terms, "relevance_level": level, "relevance": relevance,
            "source": f"feed-{site % 40}", "first_seen_at": seen, "run_id": None, "seq": ident}
        urls = [{"article_id": ident, "url": url, "url_key": article["url_key"], "fetched": True,
                 "site_name": article["site_name"], "source": article["source"], "first_seen_at": seen, "run_id": None,
                 "kind": "original", "title": title, "published_at": published, "authors": article["authors"],
                 "checked_at": None}]
        if ident % 20 == 3:
            copy = f"https://mirror{site % 37}.example.net/a/{ident}"
            urls.append({**urls[0], "url": copy, "url_key": url_key(copy), "kind": "copy", "site_name": f"Mirror {site % 37}",
                         "first_seen_at": seen + timedelta(hours=2)})
        revisions = [] if ident % 100 != 50 else [
            {"article_id": ident, "number": 1, "fetched_at": seen, "title": title, "text": body[: len(body) // 2],
             "summary": "first stored", "run_id": None},
            {"article_id": ident, "number": 2, "fetched_at": seen + timedelta(hours=6), "title": title, "text": body,
             "summary": "text: 3 paragraphs added", "run_id": None}]
        entities = [{"article_id": ident, "name": "Alibaba", "kind": "org", "mentions": 2}] if ident % 20 == 0 else []
        return article, urls, revisions, entities

    def batches(self, n: int):
        for start in range(0, n, CHUNK):
            batch: dict[str, list[dict]] = {"articles": [], "article_urls": [], "article_revisions": [],
                                            "article_entities": []}
            for i in range(start, min(n, start + CHUNK)):
                article, urls, revisions, entities = self.article(i, n)
                batch["articles"].append(article)
                batch["article_urls"] += urls
                batch["article_revisions"] += revisions
                batch["article_entities"] += entities
            yield batch


TABLES = {"articles": Article.__table__, "article_urls": ArticleUrl.__table__,
          "article_revisions": ArticleRevision.__table__, "article_entities": ArticleEntity.__table__}


def _columns(name: str) -> list[str]:
    return [c.key for c in TABLES[name].columns if not (c.key == "id" and name != "articles")]


def _plain(value, sqlite: bool):
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime):
        return _sqlite_time(value) if sqlite else value
    if sqlite and isinstance(value, bool):
        return int(value)
    return value


def load_sqlite(engine, n: int, now: datetime) -> None:
    """Fill a migrated SQLite database. The schema's triggers on ``articles`` are set aside
    for the copy and put back after it: ``seq`` is set as they set it (in id order), and the
    full-text tables are filled with FTS5's ``rebuild`` (the index the triggers build row by
    row, 2.6x faster)."""
    raw = engine.raw_connection()
    conn = raw.driver_connection
    started = time.perf_counter()
    conn.execute("PRAGMA journal_mode=OFF")  # a build from scratch: no journal (the FTS tables are GBs)
    conn.execute("PRAGMA synchronous=OFF")
    try:
        triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'articles'").fetchall()
        for name, _ in triggers:
            conn.execute(f'DROP TRIGGER "{name}"')
        for i, batch in enumerate(Generator(now).batches(n)):
            conn.execute("BEGIN")
            for name, rows in batch.items():
                if rows:
                    columns = _columns(name)
                    conn.executemany(f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                                     [tuple(_plain(r[c], True) for c in columns) for r in rows])
            conn.execute("COMMIT")
            _progress(i, n, started)
        for table in SEARCH_TABLES:
            t0 = time.perf_counter()
            conn.execute(f"INSERT INTO {table}({table}) VALUES ('rebuild')")
            print(f"  {table}: {time.perf_counter() - t0:.0f} s", flush=True)
        for _, sql in triggers:
            conn.execute(sql)
        conn.execute("ANALYZE")
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        raw.close()


def load_postgresql(engine, n: int, now: datetime) -> None:
    """Fill a migrated PostgreSQL database with COPY, indexes built after the copy."""
    started = time.perf_counter()
    with engine.begin() as conn:
        indexes = list(conn.execute(text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' "
            "AND i.tablename IN ('articles', 'article_urls', 'article_revisions', 'article_entities') "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)")))
        for name, _ in indexes:
            conn.execute(text(f'DROP INDEX "{name}"'))
        conn.execute(text("ALTER TABLE articles DISABLE TRIGGER articles_seq"))
    raw = engine.raw_connection()
    conn = raw.driver_connection
    try:
        for i, batch in enumerate(Generator(now).batches(n)):
            with conn.cursor() as cur:
                for name, rows in batch.items():
                    if rows:
                        columns = _columns(name)
                        with cur.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
                            for r in rows:
                                copy.write_row(tuple(_plain(r[c], False) for c in columns))
            conn.commit()
            _progress(i, n, started)
    finally:
        raw.close()
    with engine.connect() as conn:
        conn.execute(text("SET maintenance_work_mem = '512MB'"))
        for name, definition in indexes:
            t0 = time.perf_counter()
            conn.execute(text(definition))
            conn.commit()
            print(f"  index {name}: {time.perf_counter() - t0:.0f} s", flush=True)
        conn.execute(text("ALTER TABLE articles ENABLE TRIGGER articles_seq"))
        conn.execute(text("SELECT setval('articles_seq_seq', (SELECT max(seq) FROM articles) + 1, false)"))
        conn.execute(text("SELECT setval(pg_get_serial_sequence('articles', 'id'), (SELECT max(id) FROM articles))"))
        conn.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def _progress(i: int, n: int, started: float) -> None:
    done = min(n, (i + 1) * CHUNK)
    if (i + 1) % 10 == 0 or done == n:
        print(f"  {done} articles, {time.perf_counter() - started:.0f} s", flush=True)


if __name__ == "__main__":  # a look at the data: python bench/querydata.py
    import argparse

    argparse.ArgumentParser(description="Print a few of the synthetic articles that query_latency.py loads.").parse_args()
    g = Generator(datetime.now(UTC))
    print(len(g.english), "English and", len(g.chinese), "Chinese sentences")
    for k in range(3):
        print(json.dumps(g.article(k * 7, 100)[0], default=str, ensure_ascii=False)[:600])
