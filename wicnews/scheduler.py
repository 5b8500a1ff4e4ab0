"""Crawl schedules: TOML definitions run by APScheduler 3.x, one subprocess per crawl.

    [[schedule]]
    name = "every-30-minutes"     # unique
    cron = "*/30 * * * *"         # a crontab line (minute hour day month weekday), or
    every = "30m"                 # an interval: 90s, 30m, 2h, 1d
    args = ["--sources", "/etc/wicnews/sources.toml"]   # extra `wicnews crawl` arguments
    timeout = "2h"                # optional: kill a crawl that runs longer (default 2h)
    enabled = true

    surge = true                  # optional: tighten inside summit windows (default true)

A Twisted reactor cannot be restarted, so every crawl runs as ``python -m wicnews.cli crawl``
in its own process (its own session: a Ctrl-C reaches the scheduler, which stops the crawl
once, cleanly). The job store is in memory and belongs to this one process. Jobs coalesce,
never overlap (``max_instances=1``) and have a real misfire grace time.

Surge windows: ``summits.toml`` (data, beside the schedules) lists the summit dates; within
a window around each (``[window] before/after``) every schedule with ``surge`` runs at least
every ``[window] every`` (``SurgeTrigger``), and relaxes afterwards. The time logic
(``surge_next``, ``backoff_delay``) is pure: tests give it a fake clock.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import subprocess
import sys
import threading
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from wicnews.errors import ConfigError

logger = logging.getLogger(__name__)



def default_dir() -> Path:
    """The bundled schedule data: the ``schedules/`` folder, installed as ``wicnews.schedules``."""
    from importlib.resources import files

    return Path(str(files("wicnews.schedules")))

MISFIRE_GRACE_SECONDS = 600
_FIELDS = {"name", "cron", "every", "args", "timeout", "enabled", "surge"}


@dataclass(frozen=True)
class Schedule:
    name: str
    cron: str | None = None
    every_seconds: int | None = None
    args: tuple[str, ...] = field(default_factory=tuple)
    timeout_seconds: int = 7200
    surge: bool = True


def parse_span(value: str) -> int:
    """``90s``, ``30m``, ``2h``, ``1d`` -> seconds, at most ten years (``wicnews.config.parse_span``:
    APScheduler cannot hold a larger interval)."""
    from wicnews.config import parse_span as span

    return span(value)


def _check(raw: dict) -> Schedule | None:
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise ConfigError(f"unknown field {unknown[0]!r} (fields: {', '.join(sorted(_FIELDS))})")
    if not isinstance(raw.get("name"), str) or not raw["name"].strip():
        raise ConfigError("'name' is required")
    if ("cron" in raw) == ("every" in raw):
        raise ConfigError("give exactly one of 'cron' and 'every'")
    if "cron" in raw:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(str(raw["cron"]), timezone="UTC")
        except ValueError as exc:
            raise ConfigError(f"bad cron line {raw['cron']!r}: {exc}") from None
    args = raw.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise ConfigError("'args' must be a list of strings")
    if not isinstance(raw.get("surge", True), bool):
        raise ConfigError("'surge' must be true or false")
    if raw.get("enabled", True) is False:
        return None
    return Schedule(name=raw["name"].strip(), cron=raw.get("cron"),
                    every_seconds=parse_span(raw["every"]) if "every" in raw else None, args=tuple(args),
                    timeout_seconds=parse_span(raw.get("timeout", "2h")), surge=raw.get("surge", True))


def load_schedules(path: str | Path | None = None) -> list[Schedule]:
    """Enabled schedules of one file, or of every ``*.toml`` in a directory (default: the
    bundled ``schedules/``). Mistakes raise ``ConfigError("file: schedule #N: ...")``."""
    path = Path(path) if path else default_dir()
    files = sorted(path.glob("*.toml")) if path.is_dir() else [path]
    schedules, names = [], set()
    for file in files:
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read schedule file {file}: {exc.strerror or exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: invalid TOML: {exc}") from None
        for i, raw in enumerate(data.get("schedule", [])):
            try:
                schedule = _check(raw)
            except ConfigError as exc:
                raise ConfigError(f"{file}: schedule #{i + 1}: {exc}") from None
            if schedule is None:
                continue
            if schedule.name in names:
                raise ConfigError(f"{file}: schedule #{i + 1}: duplicate name {schedule.name!r}")
            names.add(schedule.name)
            schedules.append(schedule)
    return schedules


def crawl_command(schedule: Schedule, extra: Sequence[str] = ()) -> list[str]:
    return [sys.executable, "-m", "wicnews.cli", "crawl", *schedule.args, *extra]


GRACE_SECONDS = 60  # after SIGTERM, how long a crawl may take to close its run
_KILLED_EARLY = (-signal.SIGTERM, -signal.SIGINT)  # the child died of the signal itself: before it could record


class CrawlRunner:
    """Runs each scheduled crawl in a subprocess; ``stop()`` (SIGTERM/SIGINT to the
    scheduler) sends the running crawls one SIGTERM, so Scrapy closes them and their run
    rows say ``interrupted``, and starts no more. A crawl that died of the signal before it
    could write its run row (during interpreter start-up) gets one written here."""

    def __init__(self, extra: Sequence[str] = (), grace: float = GRACE_SECONDS, notify: Sequence[str] | None = None):
        # notify: the arguments of `wicnews notify`, run after each crawl (webhooks configured)
        self.extra, self.grace, self.notify = tuple(extra), grace, notify
        self.stopping = threading.Event()
        self._procs: set[subprocess.Popen] = set()
        self._signalled: set[int] = set()  # a second SIGTERM would make Scrapy stop uncleanly
        self._lock = threading.Lock()

    def __call__(self, schedule: Schedule) -> int:
        """One crawl; its exit code (124 on timeout, 0 when not started because stopping). Never raises."""
        command = crawl_command(schedule, self.extra)
        with self._lock:
            if self.stopping.is_set():
                return 0
            logger.info("schedule %s: starting %s", schedule.name, " ".join(command[2:]))
            try:
                proc = subprocess.Popen(command, start_new_session=True)
            except OSError as exc:
                logger.error("schedule %s: cannot start the crawl: %s", schedule.name, exc)
                return 127
            self._procs.add(proc)
        try:
            code = self._wait(schedule, proc)
        finally:
            with self._lock:
                self._procs.discard(proc)
        if proc.returncode in _KILLED_EARLY:
            record_unstarted(schedule, self.extra)
        (logger.info if code == 0 else logger.error)("schedule %s: crawl exited %d", schedule.name, code)
        if self.notify is not None and not self.stopping.is_set():
            run_notify(self.notify)
        return code

    def _wait(self, schedule: Schedule, proc: subprocess.Popen) -> int:
        try:
            return proc.wait(timeout=schedule.timeout_seconds)
        except subprocess.TimeoutExpired:
            logger.error("schedule %s: crawl still running after %d s: stopping it", schedule.name,
                         schedule.timeout_seconds)
            self._end(proc)
            return 124

    def _end(self, proc: subprocess.Popen) -> None:
        proc.terminate()
        try:
            proc.wait(timeout=self.grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def stop(self) -> None:
        """Start no more crawls; send each running one SIGTERM (once). Safe in a signal handler."""
        self.stopping.set()
        for proc in list(self._procs):
            if proc.returncode is None and proc.pid not in self._signalled:
                self._signalled.add(proc.pid)
                with contextlib.suppress(OSError):
                    proc.send_signal(signal.SIGTERM)

    def running(self) -> int:
        with self._lock:
            return len(self._procs)


def run_crawl(schedule: Schedule, extra: Sequence[str] = (), grace: float = GRACE_SECONDS) -> int:
    """One crawl in a subprocess; its exit code (124 on timeout). Never raises. A crawl past
    its timeout gets SIGTERM, so Scrapy closes it and its run is recorded (``interrupted``);
    SIGKILL only if it has not ended ``grace`` seconds later."""
    return CrawlRunner(extra, grace)(schedule)


def record_unstarted(schedule: Schedule, extra: Sequence[str] = ()) -> None:
    """Write the ``interrupted`` run row of a crawl that died before it could (never raises)."""
    try:
        from wicnews.crawl import record_run_of_args

        run_id = record_run_of_args([*schedule.args, *extra], "interrupted")
        logger.warning("schedule %s: the crawl was stopped during start-up: run #%s recorded as interrupted",
                       schedule.name, run_id)
    except Exception as exc:  # the scheduler must go on
        logger.error("schedule %s: could not record the interrupted crawl: %s", schedule.name, exc)


# --- backoff ---------------------------------------------------------------------------

def backoff_delay(failures: int, base: float, cap: float, after: int = 1) -> float:
    """Seconds a source that failed ``failures`` times in a row waits before its next poll:
    nothing before its ``after``-th failure in a row (a passing hiccup), then ``base``,
    doubling, never more than ``cap`` (so it is still tried every ``cap`` and recovers on
    its own)."""
    if failures < max(after, 1):
        return 0.0
    return float(min(cap, base * 2 ** min(failures - max(after, 1), 62)))


# --- surge windows ---------------------------------------------------------------------

SUMMIT_ZONE = ZoneInfo("Asia/Shanghai")  # Wuzhen: summit days are China days


@dataclass(frozen=True)
class Surge:
    """The summit windows (``start``, ``end``: aware datetimes) and the longest interval a
    schedule may have inside one."""

    windows: tuple[tuple[datetime, datetime], ...] = ()
    every_seconds: int = 600

    def active(self, now: datetime) -> bool:
        return any(start <= now < end for start, end in self.windows)


def _as_date(value, what: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise ConfigError(f"{what}: expected a date such as 2026-11-05, got {value!r}")


def _span_or_zero(value) -> timedelta:
    return timedelta() if str(value).strip() in ("0", "0s") else timedelta(seconds=parse_span(value))


def load_surge(path: str | Path | None = None) -> Surge:
    """The summit windows of a ``summits.toml`` (default: the bundled one)::

        [window]
        before = "7d"    # the window opens this long before a summit's first day (China time)
        after = "3d"     # and closes this long after its last day
        every = "10m"    # inside it, every schedule runs at least this often
        [[summit]]
        name = "WIC 2025"
        start = 2025-11-06
        end = 2025-11-09
    """
    path = Path(path) if path else default_dir() / "summits.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read summits file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    window = data.get("window", {})
    unknown = sorted(set(window) - {"before", "after", "every"}) or sorted(set(data) - {"window", "summit"})
    if unknown:
        raise ConfigError(f"{path}: unknown key {unknown[0]!r}")
    before, after = _span_or_zero(window.get("before", "7d")), _span_or_zero(window.get("after", "3d"))
    windows = []
    for i, summit in enumerate(data.get("summit", [])):
        where = f"{path}: summit #{i + 1}"
        start, end = _as_date(summit.get("start"), f"{where}: start"), _as_date(summit.get("end"), f"{where}: end")
        if end < start:
            raise ConfigError(f"{where}: end {end} is before start {start}")
        opens = datetime.combine(start, time(), SUMMIT_ZONE) - before
        closes = datetime.combine(end + timedelta(days=1), time(), SUMMIT_ZONE) + after
        windows.append((opens, closes))
    return Surge(tuple(sorted(windows)), parse_span(window.get("every", "10m")))


def surge_next(previous: datetime | None, now: datetime, base_next: datetime | None, surge: Surge) -> datetime | None:
    """When a schedule whose own trigger says ``base_next`` fires next, given surge windows:
    inside a window at most ``surge.every_seconds`` after ``previous``; a window that opens
    before ``base_next`` fires when it opens; outside windows, ``base_next`` unchanged."""
    earliest = max(previous + timedelta(seconds=surge.every_seconds), now) if previous else now
    for start, end in surge.windows:
        if end <= earliest:
            continue
        candidate = max(earliest, start)
        return candidate if base_next is None or candidate < base_next else base_next
    return base_next


def surge_trigger(base, surge: Surge):
    """An APScheduler 3.x trigger: ``base`` tightened inside the surge windows."""
    from apscheduler.triggers.base import BaseTrigger

    class SurgeTrigger(BaseTrigger):
        def get_next_fire_time(self, previous_fire_time, now):
            return surge_next(previous_fire_time, now, base.get_next_fire_time(previous_fire_time, now), surge)

        def __str__(self):
            return f"{base} (at least every {surge.every_seconds} s in summit windows)"

    return SurgeTrigger()


def utcnow() -> datetime:
    return datetime.now(UTC)


def build_scheduler(schedules: list[Schedule], runner: Callable[[Schedule], object], scheduler_cls=None,
                    surge: Surge | None = None, start_now: bool = False):
    """An APScheduler 3.x scheduler (blocking by default) with one job per schedule; with
    ``surge``, schedules that allow it tighten inside its windows; ``start_now``: each job
    runs once at start, then as its trigger says."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    scheduler = (scheduler_cls or BlockingScheduler)(
        jobstores={"default": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(max_workers=max(1, len(schedules)))},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_SECONDS},
        timezone="UTC",
    )
    for schedule in schedules:
        trigger = (CronTrigger.from_crontab(schedule.cron, timezone="UTC") if schedule.cron
                   else IntervalTrigger(seconds=schedule.every_seconds, timezone="UTC"))
        if surge is not None and surge.windows and schedule.surge:
            trigger = surge_trigger(trigger, surge)
        first = {"next_run_time": utcnow()} if start_now else {}
        scheduler.add_job(runner, trigger, args=[schedule], id=schedule.name, name=schedule.name, **first)
    return scheduler


NOTIFY_TIMEOUT_SECONDS = 900


def run_notify(extra: Sequence[str] = (), timeout: float = NOTIFY_TIMEOUT_SECONDS) -> int:
    """``wicnews notify`` in a subprocess after a crawl: a slow or failing webhook endpoint
    never holds up a crawl (its retries happen here, after the crawl has ended). Never raises."""
    command = [sys.executable, "-m", "wicnews.cli", "notify", *extra]
    try:
        code = subprocess.run(command, timeout=timeout).returncode
    except subprocess.TimeoutExpired:
        logger.error("notify still running after %d s: stopped", timeout)
        return 124
    except OSError as exc:
        logger.error("cannot start notify: %s", exc)
        return 127
    (logger.info if code == 0 else logger.error)("notify exited %d", code)
    return code
