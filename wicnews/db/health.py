"""Source health: the ``source_state`` rows, and what ``wicnews status`` finds wrong.

``record_polls`` folds one crawl's outcome per source into its row (created with
``INSERT ... ON CONFLICT DO NOTHING``); ``status_problems`` is a pure function of the
runs, the rows and the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from wicnews.models import Run, SourceState

GAP_WEIGHT = 0.3  # weight of the newest gap in the moving average of gaps between new articles

# The fields of ``wicnews sources`` (JSON keys), in order.
SOURCE_FIELDS = ("name", "url", "kind", "last_attempt_at", "last_success_at", "consecutive_failures",
                 "last_error_kind", "last_error_at", "last_new_article_at", "last_new_relevant_article_at",
                 "articles_per_poll", "polls", "next_poll_at")


@dataclass
class Poll:
    """One source's outcome in one crawl. ``outcome``: ``read`` (fetched and parsed),
    ``not_modified``, ``unchanged`` or ``failed`` (``error_kind`` says how)."""

    name: str
    url: str
    kind: str
    outcome: str
    error_kind: str | None = None
    warning: str | None = None  # read, but worth a look: no_links (it yielded no article link)
    articles_new: int = 0
    relevant_new: int = 0
    validators: dict = field(default_factory=dict)  # etag, last_modified, body_hash of a body read in full


def load_states(session: Session, names: list[str]) -> dict[str, SourceState]:
    return {s.name: s for s in session.scalars(select(SourceState).where(SourceState.name.in_(names)))}


def _ensure_rows(session: Session, polls: list[Poll]) -> None:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    rows = [{"name": p.name, "url": p.url, "kind": p.kind, "consecutive_failures": 0, "polls": 0,
             "articles_total": 0} for p in polls]
    session.execute(insert(SourceState).values(rows).on_conflict_do_nothing(index_elements=["name"]))


def record_polls(session: Session, polls: list[Poll], now: datetime, backoff) -> None:
    """Fold ``polls`` into the ``source_state`` rows. ``backoff(failures) -> seconds`` says
    how long a source that failed that many times in a row waits before its next poll."""
    if not polls:
        return
    _ensure_rows(session, polls)
    states = load_states(session, [p.name for p in polls])
    for poll in polls:
        state = states[poll.name]
        if state.url != poll.url:  # the source moved: its validators belong to the old URL
            state.etag = state.last_modified = state.body_hash = None
        state.url, state.kind, state.last_attempt_at = poll.url, poll.kind, now
        if poll.outcome == "failed":
            state.consecutive_failures += 1
            state.last_error_kind, state.last_error_at = poll.error_kind, now
            state.next_poll_at = now + timedelta(seconds=backoff(state.consecutive_failures))
            continue
        state.last_success_at, state.consecutive_failures, state.next_poll_at = now, 0, None
        if poll.warning:  # a success all the same, but the health shows it as its last error
            state.last_error_kind, state.last_error_at = poll.warning, now
        state.polls += 1
        state.articles_total += poll.articles_new
        if poll.articles_new:
            if state.last_new_article_at is not None:
                gap = (now - state.last_new_article_at).total_seconds()
                old = state.new_article_gap_seconds
                state.new_article_gap_seconds = gap if old is None else (1 - GAP_WEIGHT) * old + GAP_WEIGHT * gap
            state.last_new_article_at = now
        if poll.relevant_new:
            state.last_new_relevant_article_at = now
        if poll.validators:
            state.etag = poll.validators.get("etag")
            state.last_modified = poll.validators.get("last_modified")
            state.body_hash = poll.validators.get("body_hash")


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def source_dict(state: SourceState) -> dict:
    """A source's health as users see it (JSON-ready, ``SOURCE_FIELDS``)."""
    values = {name: _plain(getattr(state, name, None)) for name in SOURCE_FIELDS}
    values["articles_per_poll"] = round(state.articles_total / state.polls, 2) if state.polls else None
    return values


def all_sources(session: Session) -> list[SourceState]:
    return list(session.scalars(select(SourceState).order_by(SourceState.name)))


def prune_sources(session: Session, before: datetime) -> int:
    """Forget the sources not polled since ``before`` (removed from the configuration)."""
    result: Any = session.execute(delete(SourceState).where(SourceState.last_attempt_at < before))
    return result.rowcount


# --- status ----------------------------------------------------------------------------

OK, WARNING, CRITICAL = 0, 1, 2  # Nagios exit codes (3, UNKNOWN, is the database error)
LEVELS = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL"}
FAILED_RUNS = ("failed", "abandoned")


@dataclass(frozen=True)
class Thresholds:
    """When ``wicnews status`` complains: no run finished for ``stale_after``; a source
    failed ``max_failures`` times in a row; a source has brought nothing new for
    ``silence_factor`` times its usual gap between new articles (and at least ``min_silence``)."""

    stale_after: timedelta = timedelta(hours=2)
    max_failures: int = 3
    silence_factor: float = 10.0
    min_silence: timedelta = timedelta(days=2)


def _ago(now: datetime, when: datetime) -> str:
    seconds = int((now - when).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{max(seconds, 0)}s ago"


def status_problems(now: datetime, last_ended: Run | None, last_finished: Run | None, states: list[SourceState],
                    limits: Thresholds = Thresholds()) -> list[tuple[int, str]]:
    """What is wrong, as ``(level, message)``, worst first. ``last_ended``: the newest run
    that is neither running nor skipped; ``last_finished``: the newest ``finished`` one."""
    problems: list[tuple[int, str]] = []
    if last_ended is not None and last_ended.status in FAILED_RUNS:
        problems.append((CRITICAL, f"last run #{last_ended.id} {last_ended.status}"))
    if last_finished is None or last_finished.finished_at is None:
        problems.append((CRITICAL, "no run has finished yet"))
    elif now - last_finished.finished_at > limits.stale_after:
        problems.append((CRITICAL, f"no run finished within {_span(limits.stale_after)} "
                                   f"(last: run #{last_finished.id}, {_ago(now, last_finished.finished_at)})"))
    for state in states:
        if state.consecutive_failures >= limits.max_failures:
            problems.append((WARNING, f"source {state.name} failing: {state.consecutive_failures} failures in a row "
                                      f"(last: {state.last_error_kind})"))
        elif state.last_new_article_at is not None and state.new_article_gap_seconds:
            quiet = max(limits.min_silence, timedelta(seconds=limits.silence_factor * state.new_article_gap_seconds))
            if now - state.last_new_article_at > quiet:
                problems.append((WARNING, f"source {state.name} silent: nothing new since "
                                          f"{_ago(now, state.last_new_article_at)} (usually every "
                                          f"{_span(timedelta(seconds=state.new_article_gap_seconds))})"))
    return sorted(problems, key=lambda p: -p[0])


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if (seconds >= size and seconds % size == 0) or seconds >= 10 * size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def last_runs(session: Session) -> tuple[Run | None, Run | None]:
    """The newest run that ended (neither running nor skipped), and the newest finished one."""
    ended = session.scalars(select(Run).where(Run.status.not_in(("running", "skipped")))
                            .order_by(Run.id.desc()).limit(1)).first()
    finished = session.scalars(select(Run).where(Run.status == "finished").order_by(Run.id.desc()).limit(1)).first()
    return ended, finished
