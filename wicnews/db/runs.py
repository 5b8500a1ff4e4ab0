"""The run log's rows: one per crawl, with its outcome and counts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from wicnews.models import Article, ArticleUrl, Run, utcnow


def run_counts(stats: dict) -> dict:
    """The ``runs`` columns from a crawl's stats."""
    errors = {k.removeprefix("wicnews/errors/"): v for k, v in stats.items() if k.startswith("wicnews/errors/")}
    skipped = {f"skipped_{k.removeprefix('wicnews/skipped/')}": v for k, v in stats.items()
               if k.startswith("wicnews/skipped/")}
    return {
        "pages_fetched": stats.get("response_received_count", 0),
        "articles_new": stats.get("wicnews/articles_new", 0),
        "duplicates": stats.get("wicnews/duplicates", 0),
        "not_relevant": stats.get("wicnews/not_relevant", 0),
        "revised": stats.get("wicnews/revised", 0),
        "errors": sum(errors.values()),
        "error_counts": dict(sorted({**errors, **skipped}.items())),
    }


def run_status(stats: dict, reason: str) -> str:
    """``finished``; ``failed`` when no source could be read; ``interrupted`` when stopped
    by SIGTERM/SIGINT (Scrapy's ``shutdown``); else Scrapy's close reason."""
    if reason == "shutdown":
        return "interrupted"
    if reason != "finished":
        return reason
    if stats.get("wicnews/sources/failed", 0) and not stats.get("wicnews/sources/ok", 0):
        return "failed"
    return "finished"


def start_run(session: Session, spider: str, sources: list[str], cycle_id: str | None = None) -> int:
    run = Run(spider=spider, started_at=utcnow(), status="running", sources=sources, cycle_id=cycle_id,
              pages_fetched=0, articles_new=0, duplicates=0, not_relevant=0, revised=0, errors=0, error_counts={})
    session.add(run)
    session.flush()
    return run.id


def abandon_stale_runs(session: Session, older_than: timedelta = timedelta(days=1)) -> int:
    """Runs still ``running`` long after they started died without closing (killed, machine
    lost): mark them ``abandoned``. Returns how many."""
    result: Any = session.execute(update(Run).where(Run.status == "running", Run.started_at < utcnow() - older_than)
                                  .values(status="abandoned"))
    return result.rowcount


def finish_run(session: Session, run_id: int, status: str, counts: dict) -> None:
    session.execute(update(Run).where(Run.id == run_id).values(finished_at=utcnow(), status=status, **counts))



def list_runs(session: Session, limit: int = 20) -> list[Run]:
    return list(session.scalars(select(Run).order_by(Run.id.desc()).limit(limit)))


def prune(session: Session, before: datetime, articles: bool = False) -> tuple[int, int]:
    """Delete the runs that started before ``before`` (never a running one) and, only with
    ``articles``, the articles first seen before then (their URLs and bands go with them).
    Stored articles keep their text; their ``run_id`` becomes NULL. Returns the counts."""
    removed_articles = 0
    if articles:
        result: Any = session.execute(delete(Article).where(Article.first_seen_at < before))
        removed_articles = result.rowcount
    ids = select(Run.id).where(Run.started_at < before, Run.status != "running")
    for table in (Article, ArticleUrl):  # SQLite without enforced foreign keys would keep stale ids
        session.execute(update(table).where(table.run_id.in_(ids)).values(run_id=None))
    result = session.execute(delete(Run).where(Run.started_at < before, Run.status != "running"))
    return result.rowcount, removed_articles


def set_cycle(session: Session, run_id: int, cycle_id: str) -> None:
    """Mark a run written before its crawl started as one worker of a distributed cycle."""
    session.execute(update(Run).where(Run.id == run_id).values(cycle_id=cycle_id))
