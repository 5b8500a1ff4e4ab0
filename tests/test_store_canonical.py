"""A page whose canonical link names another story, stored before that story's own page:
the two stay two articles (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from wicnews.db import engine as db
from wicnews.db.articles import StorePolicy, store_article
from wicnews.db.queries import coverage
from wicnews.models import Article, ArticleUrl
from wicnews.pipelines.dedupe import bands, shingles, similarity, text_key
from wicnews.urls import url_key

CYBER = ("Ransomware gangs hit three regional hospitals in a coordinated attack on Monday, encrypting patient records.\n\n"
         "Investigators traced the intrusion to a phishing email that stole a contractor's password weeks earlier.\n\n"
         "The hospitals restored most systems from offline backups and said no ransom would be paid.")
SATELLITE = ("A weather satellite built by a Hangzhou start-up reached orbit on Tuesday aboard a commercial rocket.\n\n"
             "The spacecraft carries a microwave sounder that measures humidity through thick cloud cover.\n\n"
             "Its operators plan a constellation of twelve such satellites by the end of next year.")
POLICY = StorePolicy(near_dup_threshold=0.75, canonical_min_similarity=0.3)


def page(url: str, text: str, canonical: str | None = None, **extra) -> dict:
    canonical = canonical or url
    return extra | dict(url=url, canonical_url=canonical, url_key=url_key(canonical), text_key=text_key(text),
                title=text.split(".")[0], authors=[], published_at=None, site_name="B", language="en",
                description=None, image=None, tags=[], text=text, relevant=True, relevance_level="coverage",
                matched_terms=["WIC"], source="src", first_seen_at=datetime.now(timezone.utc), run_id=None) | extra


@pytest.fixture
def engine(db_url):
    engine = db.open_database(db_url)
    yield engine
    engine.dispose()


def store(engine, values):
    mine = shingles(values["text"])
    with Session(engine) as s, s.begin():
        return store_article(s, values, {url_key(values["url"]): values["url"]}, bands=bands(values["text"]),
                             score=lambda text: similarity(mine, shingles(text)), policy=POLICY)


@pytest.mark.parametrize("a, b", [("http://site/b/story-a.html", "http://site/b/story-b.html"),
                                  ("http://site/b/story.html?page=2", "http://site/b/story.html")])
def test_a_page_naming_another_story_as_canonical_keeps_its_text(engine, a, b):
    """A (or page 2) names B (page 1) as canonical and is stored first; B's own page, another
    text, then arrives: A moves under its own URL, B is a new article; nothing is lost."""
    assert url_key(a) != url_key(b)
    a_id, outcome = store(engine, page(a, CYBER, canonical=b))
    assert outcome == "new"
    b_id, outcome = store(engine, page(b, SATELLITE))
    assert outcome == "new" and b_id != a_id
    with Session(engine) as s:
        rows = {r.id: (r.url, r.canonical_url, r.url_key, r.text) for r in s.scalars(select(Article))}
        placements = {(p.article_id, p.url, p.kind, p.fetched) for p in s.scalars(select(ArticleUrl))}
    assert rows == {a_id: (a, a, url_key(a), CYBER), b_id: (b, b, url_key(b), SATELLITE)}
    assert placements == {(a_id, a, "original", True), (b_id, b, "original", True)}
    assert {r["url"] for r in coverage(engine, None)} == {a, b}
    # both settled: fetched again, each is a duplicate of itself
    assert store(engine, page(a, CYBER, canonical=b)) == (a_id, "duplicate")
    assert store(engine, page(b, SATELLITE)) == (b_id, "duplicate")


def test_a_true_copy_first_still_hands_over_to_its_original(engine):
    """The similar case is unchanged: the copy's row is taken over by the original."""
    copy, orig = "http://site/wire/copy.html", "http://site/b/original.html"
    article_id, _ = store(engine, page(copy, CYBER, canonical=orig))
    assert store(engine, page(orig, CYBER + "\n\nUpdated with the hospitals' statement.")) == (article_id, "duplicate")
    with Session(engine) as s:
        assert s.execute(select(Article.url, Article.url_key)).all() == [(orig, url_key(orig))]
