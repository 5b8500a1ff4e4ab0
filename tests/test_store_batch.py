"""The store's batches: one transaction per batch; an item the database refuses costs that
item only, the others of its batch are stored (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wicnews.db import engine as db
from wicnews.db.articles import StorePolicy
from wicnews.db.raw import compress
from wicnews.models import Article, RawPage
from wicnews.pipelines.dedupe import bands, text_key
from wicnews.pipelines.store import StorePipeline
from wicnews.urls import url_key


@pytest.fixture
def engine(db_url):
    engine = db.open_database(db_url)
    yield engine
    engine.dispose()


def row(n: int, **extra) -> tuple[dict, dict, list[str], dict]:
    url = f"http://site/story-{n}.html"
    text = f"Story number {n} says something of its own about the summit in Wuzhen. " * 8
    values = dict(url=url, canonical_url=url, url_key=url_key(url), text_key=text_key(text), title=f"Story {n}",
                  authors=[], editors=[], tags=[], text=text, text_status="full", relevant=True,
                  relevance_level="coverage", matched_terms=[], source="src", first_seen_at=datetime.now(timezone.utc),
                  run_id=None, _hints={}) | extra
    raw = {"url": url, "headers": {"content-type": "text/html"}, "compressed": compress(text.encode())}
    return values, {url_key(url): url}, bands(text), raw


def test_a_refused_item_costs_only_itself(engine):
    store = StorePipeline(engine, StorePolicy(), batch_size=10)
    results = store._write([row(1), row(2, source=None), row(3)])  # articles.source is NOT NULL
    assert [r[1] if isinstance(r, tuple) else type(r) for r in results] == ["new", IntegrityError, "new"]
    with Session(engine) as s:
        assert s.scalars(select(Article.url).order_by(Article.id)).all() == ["http://site/story-1.html",
                                                                            "http://site/story-3.html"]
        assert s.scalar(select(func.count()).select_from(RawPage)) == 2
    again = store._write([row(1), row(3)])  # a rerun of the batch is idempotent
    assert [r[1] for r in again] == ["duplicate", "duplicate"]
