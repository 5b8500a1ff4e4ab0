"""Backfill: collect the coverage of a past window through the sources that take a time range.

    wicnews backfill --from 2024-11-15 --to 2024-11-25     # or --summit 2024

The window (whole UTC days, both included) is cut into one-day slices per source; the
spider asks the source for each slice (GDELT: ``startdatetime``/``enddatetime``; Google
News: ``after:``/``before:``), halves a GDELT slice while its answer reaches the API's cap,
and fetches the articles like any crawl (the store keeps each once: a second run adds
nothing). A slice whose articles have all been handled is written to ``backfill_slices``;
an interrupted backfill resumes with the slices not yet there. Pure interval arithmetic
here; the checkpoint table through ``Checkpoint``.
"""

from __future__ import annotations

import sys
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from wicnews.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from wicnews.sources import Source

DAY = timedelta(days=1)
# Days of coverage before and after a summit that ``--summit`` adds to its dates.
SUMMIT_MARGIN = timedelta(days=7)
# The kinds whose API takes a time range.
RANGED_KINDS = ("gdelt", "google_news")

Interval = tuple[datetime, datetime]


def parse_day(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ConfigError(f"{what}: expected a date such as 2024-11-20, got {value!r}") from None


def day_window(first: date, last: date) -> Interval:
    """``[first 00:00 UTC, the day after last 00:00 UTC)``."""
    if last < first:
        raise ConfigError(f"--to {last} is before --from {first}")
    return datetime.combine(first, time(), UTC), datetime.combine(last, time(), UTC) + DAY


def summits_file() -> Path:
    from importlib.resources import files

    return Path(str(files("wicnews.schedules"))) / "summits.toml"


def summit_window(year: int, path: Path | None = None, margin: timedelta = SUMMIT_MARGIN) -> Interval:
    """The days of a summit (``[[summit]] year/start/end`` in ``schedules/summits.toml``),
    ``margin`` before and after included."""
    path = path or summits_file()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the summit dates in {path}: {exc}") from None
    known = []
    for summit in data.get("summit", []):
        known.append(summit.get("year"))
        if summit.get("year") == year:
            start, end = summit.get("start"), summit.get("end")
            if not (isinstance(start, date) and isinstance(end, date)):
                raise ConfigError(f"{path}: summit {year}: 'start' and 'end' must be TOML dates")
            first, last = day_window(start, end)
            return first - margin, last + margin
    raise ConfigError(f"no summit {year} in {path} (known: {', '.join(map(str, sorted(k for k in known if k)))})")


def subtract(window: Interval, done: list[Interval]) -> list[Interval]:
    """The parts of ``window`` that no interval of ``done`` covers, in order."""
    gaps, cursor = [], window[0]
    for start, end in sorted(done):
        if end <= cursor or start >= window[1]:
            continue
        if start > cursor:
            gaps.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < window[1]:
        gaps.append((cursor, window[1]))
    return gaps


def pending_slices(window: Interval, done: list[Interval], step: timedelta = DAY) -> list[Interval]:
    """The slices still to walk: the uncovered parts of ``window``, cut at the multiples of
    ``step`` (UTC midnights for a day), so that every run cuts the same slices."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    slices = []
    for start, end in subtract(window, done):
        while start < end:
            boundary = start - (start - epoch) % step + step
            slices.append((start, min(boundary, end)))
            start = slices[-1][1]
    return slices


def ranged_sources(sources: list[Source], name: str | None = None) -> list[Source]:
    """The sources a backfill walks: those whose API takes a time range (or the one named)."""
    if name:
        chosen = [s for s in sources if s.name == name]
        if not chosen:
            raise ConfigError(f"no enabled source named {name!r}")
        if chosen[0].kind not in RANGED_KINDS:
            raise ConfigError(f"source {name!r} ({chosen[0].kind}) takes no time range; "
                              f"backfill works through {' and '.join(RANGED_KINDS)} sources")
        return chosen
    chosen = [s for s in sources if s.kind in RANGED_KINDS]
    if not chosen:
        raise ConfigError(f"no enabled {' or '.join(RANGED_KINDS)} source to backfill through")
    return chosen


class Checkpoint:
    """The ``backfill_slices`` table: slices walked to the end, per source."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def done(self, source: str, window: Interval) -> list[Interval]:
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from wicnews.models import BackfillSlice

        with Session(self.engine) as session:
            rows = session.execute(select(BackfillSlice.start, BackfillSlice.end).where(
                BackfillSlice.source == source, BackfillSlice.end > window[0], BackfillSlice.start < window[1])).all()
        return [(start, end) for start, end in rows]

    def mark(self, source: str, start: datetime, end: datetime, results: int) -> None:
        """``INSERT ... ON CONFLICT DO NOTHING``: marking a slice twice is harmless."""
        from sqlalchemy.orm import Session

        from wicnews.db.articles import _insert
        from wicnews.models import BackfillSlice, utcnow

        with Session(self.engine) as session, session.begin():
            session.execute(_insert(session, BackfillSlice).values(
                source=source, start=start, end=end, results=results, done_at=utcnow()).on_conflict_do_nothing())


@dataclass
class Progress:
    """A one-line progress bar on ``stream`` (stderr), drawn only when ``enabled``."""

    enabled: bool = False
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    total: int = 0
    done: int = 0
    links: int = 0
    width: int = 30

    def add(self, slices: int) -> None:
        self.total += slices
        self.draw()

    def advance(self, links: int) -> None:
        self.done += 1
        self.links += links
        self.draw()

    def draw(self) -> None:
        if not self.enabled or not self.total:
            return
        filled = self.width * self.done // self.total
        self.stream.write(f"\rbackfill [{'#' * filled}{'.' * (self.width - filled)}] "
                          f"{self.done}/{self.total} slices, {self.links} links")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.total:
            self.stream.write("\n")
            self.stream.flush()


@dataclass
class BackfillPlan:
    """What the spider needs to walk a window: the window, the checkpoint, the progress bar."""

    window: Interval
    progress: Progress = field(default_factory=Progress)
    checkpoint: Checkpoint | None = None

    def bind(self, engine: Engine) -> None:
        if self.checkpoint is None:
            self.checkpoint = Checkpoint(engine)

    def pending(self, source: Source) -> list[Interval]:
        assert self.checkpoint is not None, "bind() the plan to the crawl's engine first"
        slices = pending_slices(self.window, self.checkpoint.done(source.name, self.window))
        self.progress.add(len(slices))
        return slices

    def slice_done(self, source: str, start: datetime, end: datetime, results: int) -> None:
        assert self.checkpoint is not None
        self.checkpoint.mark(source, start, end, results)
        self.progress.advance(results)


def run_backfill(settings: Any, sources: list[Source], window: Interval, progress: Progress) -> Any:
    """Walk ``window`` through ``sources`` in one crawl; returns its ``CrawlResult``."""
    from wicnews.crawl import run_crawl

    plan = BackfillPlan(window=window, progress=progress)
    try:
        return run_crawl(settings, sources, backfill=plan)
    finally:
        progress.close()
