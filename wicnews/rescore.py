"""Re-judge stored articles against a topic profile, without fetching anything again
(``wicnews rescore``), after the profile changed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from wicnews.db.articles import set_entities
from wicnews.models import Article
from wicnews.relevance import judge
from wicnews.topic import Topic


def rescore(engine: Engine, topic: Topic, batch: int = 500,
            progress: Callable[[int], None] | None = None) -> Counter[tuple[str, str]]:
    """Judge every stored article again with ``topic``; store the new verdicts (level,
    score, explanation, entities) one batch per transaction. Returns how many articles went
    from each level to each level, ``(old, new) -> count``."""
    moved: Counter[tuple[str, str]] = Counter()
    last_id, done = 0, 0
    while True:
        with Session(engine) as session, session.begin():
            rows = session.execute(
                select(Article.id, Article.title, Article.text, Article.relevance_level)
                .where(Article.id > last_id).order_by(Article.id).limit(batch)).all()
            for article_id, title, text, old in rows:
                verdict = judge(title, text, topic)
                session.execute(update(Article).where(Article.id == article_id).values(
                    relevant=verdict.relevant, matched_terms=verdict.matched_terms,
                    relevance_level=verdict.level, relevance=verdict.to_json()))
                set_entities(session, article_id, verdict.to_json()["entities"])
                moved[(old, verdict.level)] += 1
        if not rows:
            return moved
        last_id = rows[-1][0]
        done += len(rows)
        if progress:
            progress(done)
