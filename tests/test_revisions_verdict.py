"""A revision takes the new version's relevance verdict, entities and MinHash bands
(SQLite and PostgreSQL); the change summary of long pages is linear."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_store_canonical import CYBER, SATELLITE, engine, page, store  # noqa: F401 (the engine fixture)

from wicnews.db import revisions
from wicnews.db.revisions import change_summary
from wicnews.models import Article, ArticleBand, ArticleEntity
from wicnews.pipelines.dedupe import bands

URL = "http://site/news/edited.html"
WIC = {"score": 9, "level": "coverage", "explanation": [{"term": "World Internet Conference", "field": "title"}],
       "entities": [{"name": "World Internet Conference", "kind": "org", "count": 2}]}
NONE = {"score": 0, "level": "none", "explanation": [], "entities": []}


def _state(db_engine, article_id):
    with Session(db_engine) as s:
        a = s.get(Article, article_id)
        return ((a.relevant, a.relevance_level, a.relevance, a.matched_terms),
                set(s.scalars(select(ArticleEntity.name).where(ArticleEntity.article_id == article_id))),
                set(s.scalars(select(ArticleBand.band).where(ArticleBand.article_id == article_id))))


@pytest.mark.parametrize("first, then", [(NONE, WIC), (WIC, NONE)])
def test_a_revision_takes_the_new_verdict_entities_and_bands(engine, first, then):  # noqa: F811
    def verdict(v):
        return dict(relevant=v is WIC, relevance_level=v["level"], relevance=v,
                    matched_terms=["World Internet Conference"] if v is WIC else [])

    article_id, _ = store(engine, page(URL, CYBER, **verdict(first)))
    assert _state(engine, article_id)[2] == set(bands(CYBER))
    assert store(engine, page(URL, SATELLITE, **verdict(then))) == (article_id, "revised")
    fields, entities, stored_bands = _state(engine, article_id)
    assert fields == (then is WIC, then["level"], then, verdict(then)["matched_terms"])
    assert entities == {e["name"] for e in then["entities"]}
    assert stored_bands == set(bands(SATELLITE))  # the old text's bands are gone


def test_change_summary_of_long_pages_is_linear(monkeypatch):
    """20,000 paragraphs: kept paragraphs are matched by value (wherever they moved), and the
    paragraphs compared pairwise to find edits are capped."""
    calls = []
    similar = revisions._similar
    monkeypatch.setattr(revisions, "_similar", lambda a, b: calls.append(1) or similar(a, b))
    old = [f"Paragraph number {i} of a very long live blog about the summit." for i in range(20_000)]
    new = list(old)
    new[10] = old[10] + " Updated."                                   # one edited
    del new[500]                                                       # one removed
    new.append("A closing paragraph added at the end.")               # one added
    new[1000:1010] = reversed(new[1000:1010])                         # moved: no change
    assert change_summary("T", "\n".join(old), "T", "\n".join(new)) == \
        "1 paragraph added, 1 paragraph removed, 1 paragraph edited"
    assert len(calls) <= 3
    # everything rewritten: at most MAX_PAIR_COMPARISONS pairs are compared, the rest counted
    calls.clear()
    rewritten = [f"Entirely different sentence {i} about another subject altogether." for i in range(20_000)]
    summary = change_summary("T", "\n".join(old), "T", "\n".join(rewritten))
    assert summary == "20000 paragraphs added, 20000 paragraphs removed"
    assert len(calls) <= revisions.MAX_PAIR_COMPARISONS
    assert change_summary("T", "\n".join(old), "T", "\n".join(reversed(old))) == "paragraphs moved"
