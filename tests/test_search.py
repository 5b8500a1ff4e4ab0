"""Search finds and orders exactly what its plain definition says, on SQLite and PostgreSQL.

``wicnews.db.search.matching_ids`` takes shortcuts for speed (a page ranked without ranking
every match, two-character CJK terms through indexes instead of a scan): on a corpus built
to reach every shortcut's edges, it must return what ``reference`` returns, the plain
one-statement definition (every term as a word or a substring, LIKE for short terms, the
whole match set ranked, then cut).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import Float, Integer, bindparam, case, column, func, literal_column, or_, select, text
from sqlalchemy.orm import Session

from wicnews.db import engine as db
from wicnews.db import search as fts
from wicnews.db.queries import Filters, filtered, search
from wicnews.models import Article
from wicnews.urls import url_key

T0 = datetime(2024, 11, 20, 8, 0, tzinfo=timezone.utc)
EN = ["digital", "Digital", "economy", "economies", "economic", "people", "peoples", "AI", "ai", "said", "maintain",
      "conference", "conferences", "Wuzhen", "summit", "x_y", "100%", "a", "of", "the", "É", "é", "naïve"]
ZH = ["乌镇", "峰会", "互联网", "大会", "世界", "数字经济", "开幕", "浙江", "，", "。", "乌", "镇峰"]


def _words(rng: random.Random, pool: list[str], n: int, joiner: str) -> str:
    return joiner.join(rng.choice(pool) for _ in range(n))


def _article(i: int, rng: random.Random) -> dict:
    zh = i % 3 == 0
    pool, joiner = (ZH, "") if zh else (EN, " ")
    title = _words(rng, pool, rng.randint(1, 4), joiner)
    text_ = "\n".join(_words(rng, pool, rng.randint(2, 12), joiner) for _ in range(rng.randint(1, 3)))
    if i % 17 == 0:
        title = "乌镇"  # a title that is the pair itself
    elif i % 11 == 0:
        title += "峰会"  # ends with a pair
    if i % 13 == 0:
        text_ += "乌镇"  # a text that ends with a pair
    url = f"http://search.test/{i}"
    seen = T0 + timedelta(hours=i % 40)  # equal times: the id decides
    level = ("coverage", "mention", "none")[i % 3 if i % 5 else 0]
    return {"url": url, "canonical_url": url, "url_key": url_key(url), "text_key": f"k{i}", "title": title,
            "authors": [], "published_at": None if i % 7 == 0 else seen - timedelta(hours=i % 5),
            "site_name": f"Site {i % 4}", "language": "zh" if zh else "en", "description": None, "image": None,
            "tags": [], "text": text_, "relevant": level == "coverage", "matched_terms": [], "relevance_level": level,
            "source": "test", "first_seen_at": seen, "run_id": None}


@pytest.fixture
def corpus(db_url):
    engine = db.open_database(db_url)
    rng = random.Random(3)
    with engine.begin() as conn:
        conn.execute(Article.__table__.insert(), [_article(i, rng) for i in range(1, 361)])
    engine.dispose()
    reader = db.open_database(db_url, read_only=True, must_exist=True, auto_upgrade=False)
    yield reader
    reader.dispose()


def _term(dialect: str, term: str):
    """One term's condition, as the single-statement search of migration 0003 had it."""
    if dialect == "postgresql":
        doc = literal_column(fts.DOC_SQL)
        vector = func.to_tsvector(literal_column("'english'::regconfig"), doc)
        return or_(vector.op("@@")(func.phraseto_tsquery(literal_column("'english'::regconfig"), term)),
                   func.lower(doc).like(func.lower(fts.like_pattern(term)), escape="\\"))

    def rows(table: str):
        match = text(f"SELECT rowid FROM {table} WHERE {table} MATCH :q").bindparams(
            bindparam("q", fts.fts5_phrase(term), unique=True))
        return Article.id.in_(match.columns(column("rowid", Integer)))

    if len(term) >= 3:
        substring = rows("articles_tri")
    else:
        pattern = fts.like_pattern(term)
        substring = or_(Article.title.like(pattern, escape="\\"), Article.text.like(pattern, escape="\\"))
    return or_(rows("articles_fts"), substring)


def reference(engine, query: str, filters: Filters) -> list[int]:
    """The plain definition: every article every term matches, all ranked, then cut."""
    terms = fts.terms(query)
    stmt = filtered(select(Article.id), filters).where(*[_term(engine.dialect.name, t) for t in terms])
    newest = func.coalesce(Article.published_at, Article.first_seen_at)
    if engine.dialect.name == "postgresql":
        vector = func.to_tsvector(literal_column("'english'::regconfig"), literal_column(fts.DOC_SQL))
        rank = func.ts_rank_cd(vector, func.plainto_tsquery(literal_column("'english'::regconfig"), " ".join(terms)))
        title = func.lower(func.coalesce(Article.title, ""))
        hits = [case((func.strpos(title, t.lower()) > 0, 1), else_=0) for t in terms]
        stmt = stmt.order_by(sum(hits[1:], hits[0]).desc(), rank.desc())
    else:
        ranks = text("SELECT rowid AS rid, bm25(articles_fts, 5.0, 1.0) AS score FROM articles_fts "
                     "WHERE articles_fts MATCH :all").bindparams(all=" OR ".join(fts.fts5_phrase(t) for t in terms)) \
            .columns(column("rid", Integer), column("score", Float)).subquery("fts_rank")
        # the articles no term matches as a word: the most terms in the title first (LIKE)
        hits = [case((Article.title.like(fts.like_pattern(t), escape="\\"), 1), else_=0) for t in terms]
        stmt = stmt.outerjoin(ranks, ranks.c.rid == Article.id).order_by(
            func.coalesce(ranks.c.score, 0.0), case((ranks.c.score.is_(None), -sum(hits[1:], hits[0])), else_=0))
    stmt = stmt.order_by(newest.desc(), Article.id.desc())
    with Session(engine) as session:
        return list(session.scalars(stmt.limit(filters.limit) if filters.limit else stmt))


QUERIES = ["digital", "economy", "economies", "Digital economy", "people said", "AI", "ai", "a", "of the", "x_y", "100%",
           "%", "_", "é", "É", "naïve", "conferences", "乌镇", "峰会", "镇峰", "互联网", "乌镇 峰会", "乌", "。", "乌镇 economy",
           "Wuzhen 乌镇", "zzz", "大会 世界 开幕", "\"乌镇\"", "乌镇x",
           # several indexed terms (their id sets intersected) beside terms only a scan finds
           "digital of economy", "乌镇 of 峰会 a", "the economy AI said"]
FILTERS = [Filters(), Filters(limit=1), Filters(limit=5), Filters(include_all=True), Filters(include_all=True, limit=7),
           Filters(levels=("coverage", "mention"), limit=20), Filters(since=T0 + timedelta(hours=20), include_all=True),
           Filters(langs=("zh",), include_all=True, limit=3), Filters(sites=("Site 1",), limit=4)]


def test_search_returns_what_its_definition_says(corpus):
    checked = 0
    with Session(corpus) as session:
        for query in QUERIES:
            for filters in FILTERS:
                candidates = filtered(select(Article.id), filters)
                got = fts.matching_ids(session, candidates, fts.terms(query), filters.limit)
                assert got == reference(corpus, query, filters), (query, filters)
                checked += bool(got)
    assert checked > len(QUERIES) * len(FILTERS) // 2  # most of them find something


def test_every_term_must_match(corpus):
    found = {a["id"]: a for a in search(corpus, "digital economy", Filters(include_all=True))}
    assert found
    for article in found.values():
        doc = f"{article['title']} {article['text']}".lower()
        assert "digital" in doc and ("econom" in doc), article["id"]


def test_a_term_with_punctuation_is_one_phrase_on_both_databases(corpus):
    """``digital:economy`` is the two words next to each other (or the string itself), as
    FTS5 reads a quoted term, on PostgreSQL too: never both words anywhere."""
    import re

    found = search(corpus, "economy:digital", Filters(include_all=True))
    together = search(corpus, "digital", Filters(include_all=True))
    assert found and len(found) < len(together)
    for article in found:
        doc = f"{article['title']} {article['text']}".lower()
        assert re.search(r"econom\w*\W+digital", doc), article["id"]


def test_a_pair_at_the_end_of_a_title_or_text_is_found(corpus):
    ids = {a["id"] for a in search(corpus, "乌镇", Filters(include_all=True))}
    assert {17, 34, 13, 26} <= ids  # titles "乌镇", texts ending with 乌镇
    assert fts.caseless_pair("乌镇") and not fts.caseless_pair("AI") and not fts.caseless_pair("乌")


def test_rows_read_in_batches_are_the_same(corpus, monkeypatch):
    from wicnews.db import queries

    everything = Filters(include_all=True)
    whole = queries.coverage(corpus, None, filters=everything), search(corpus, "乌镇", everything)
    monkeypatch.setattr(queries, "ID_BATCH", 7)
    assert (queries.coverage(corpus, None, filters=everything), search(corpus, "乌镇", everything)) == whole
    assert len(whole[0]) == 360 and len(whole[1]) > 7


def test_migration_0011_indexes_existing_articles_and_downgrades(db_url):
    from alembic import command

    engine = db.make_engine(db_url)
    try:
        db.upgrade(engine, "0010")
        rng = random.Random(5)
        with engine.begin() as conn:
            conn.execute(Article.__table__.insert(), [_article(i, rng) for i in range(1, 40)])
        db.upgrade(engine)
        found = [a["id"] for a in search(engine, "乌镇", Filters(include_all=True))]
        assert 17 in found and 13 in found and found == reference(engine, "乌镇", Filters(include_all=True))
        with engine.connect() as conn, conn.begin():
            command.downgrade(db._alembic_config(conn), "0010")
        db.upgrade(engine)
        assert [a["id"] for a in search(engine, "乌镇", Filters(include_all=True))] == found
    finally:
        engine.dispose()


def test_postgresql_search_memory_and_jit_hold_for_its_transaction_only(pg_url):
    """At 1M articles a common Chinese pair's bitmap outgrows PostgreSQL's default work_mem,
    turns lossy, and every row of its pages is rechecked (4.3 s instead of 0.1 s): search sets
    its own for its transaction, and nothing after it inherits that."""
    engine = db.open_database(pg_url)
    with engine.begin() as conn:
        conn.execute(Article.__table__.insert(), [_article(i, random.Random(i)) for i in range(1, 41)])
    engine.dispose()
    reader = db.open_database(pg_url, read_only=True, must_exist=True, auto_upgrade=False)
    with Session(reader) as session:
        default = session.execute(text("SHOW work_mem")).scalar()
        session.rollback()
        candidates = filtered(select(Article.id), Filters(include_all=True))
        assert fts.matching_ids(session, candidates, ["乌镇"], 5)
        assert session.execute(text("SHOW work_mem")).scalar() == fts.PG_WORK_MEM
        assert session.execute(text("SHOW jit")).scalar() == "off"
        session.rollback()
        assert session.execute(text("SHOW work_mem")).scalar() == default
    reader.dispose()


def test_the_snippet_marks_what_was_found_and_no_more():
    text = "The province held mountains of talks; the Internet conference in Wuzhen said economies grew."
    assert fts.snippet(None, text, ["in"]) == \
        "The prov[in]ce held mounta[in]s of talks; the [In]ternet conference [in] Wuzhen said economies grew."
    # a stem marks its word; a quoted query's quotes are not part of what is marked
    assert "[economies]" in fts.snippet(None, text, ["economy"])
    assert "the [Internet] conference [in] [Wuzhen]" in fts.snippet(None, text, ['"Internet', "in", 'Wuzhen"'])
    assert fts.snippet(None, "世界互联网大会乌镇峰会开幕", ["乌镇"]) == "世界互联网大会[乌镇]峰会开幕"
    # punctuation that belongs to a term stays part of it; case folding that grows a character moves nothing
    text = "The conference discussed cloud computing, compared C++ and Rust, and C# too."
    assert fts.snippet(None, text, fts.terms("C++")) == \
        "The conference discussed cloud computing, compared [C++] and Rust, and C# too."
    assert fts.snippet(None, "ß" * 100 + " Wuzhen conference", ["wuzhen"], width=40).endswith("[Wuzhen] conference")
