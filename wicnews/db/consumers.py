"""Consumer cursors: each reader of new coverage (``wicnews new --consumer NAME``, a webhook)
has the commit sequence number (``articles.seq``) of the last article it was given.

``articles.seq`` is assigned by the database in commit order (migration 0003), so "after my
cursor" never misses an article a slower crawl commits later. Reading is read-only; moving
a cursor is its own short write transaction, done by the caller once the output is safely
written (``advance``), and never moves a cursor backwards.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from wicnews.db.queries import Filters, as_dicts, filtered
from wicnews.models import Article, Consumer, utcnow

MAX_NAME = 200


@dataclass
class Batch:
    """What a consumer has not been given yet: ``rows`` (``article_dict``s, oldest first)
    and ``next_seq``, where its cursor moves once they are written (None: nothing new)."""

    consumer: str
    cursor: int
    rows: list[dict]
    next_seq: int | None


def position(session: Session, name: str) -> int:
    """The consumer's cursor (0 for a consumer never seen: everything is new to it)."""
    return session.scalar(select(Consumer.last_seq).where(Consumer.name == name)) or 0


def pending(engine: Engine, name: str, filters: Filters) -> Batch:
    """The articles after ``name``'s cursor that pass ``filters``, oldest first (at most
    ``filters.limit``). Without a limit, or when fewer than the limit are left, the cursor
    may move past every article committed so far (the ones the filters leave out
    included); with a limit cut short, to the last article given."""
    with Session(engine) as session:
        cursor = position(session, name)
        # The horizon first: every number up to it is committed (or rolled back) by now,
        # whatever statement snapshots the backend takes next.
        horizon = session.scalar(select(func.max(Article.seq))) or 0
        stmt = filtered(select(Article), filters).where(Article.seq > cursor, Article.seq <= horizon)
        stmt = stmt.order_by(Article.seq)
        if filters.limit:
            stmt = stmt.limit(filters.limit)
        articles = list(session.scalars(stmt))
        next_seq = articles[-1].seq if filters.limit and len(articles) == filters.limit else horizon
        rows = as_dicts(session, articles)
    return Batch(name, cursor, rows, next_seq if next_seq and next_seq > cursor else None)


def advance(engine: Engine, name: str, seq: int) -> bool:
    """Move ``name``'s cursor to ``seq`` (creating it), never backwards, in one short write
    transaction. True when it moved."""
    from wicnews.db.articles import _insert

    with Session(engine) as session, session.begin():
        now = utcnow()
        inserted = session.execute(_insert(session, Consumer).values(name=name, last_seq=seq, updated_at=now)
                                   .on_conflict_do_nothing().returning(Consumer.name)).scalar_one_or_none()
        if inserted is not None:
            return True
        moved: int = session.execute(update(Consumer).where(Consumer.name == name, Consumer.last_seq < seq)
                                     .values(last_seq=seq, updated_at=now)).rowcount  # type: ignore[attr-defined]
        return moved == 1

