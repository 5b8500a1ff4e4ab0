"""Crawl schedules: TOML definitions run by APScheduler 3.x, one subprocess per crawl.

    [[schedule]]
    name = "every-30-minutes"     # unique
    cron = "*/30 * * * *"         # a crontab line (minute hour day month weekday), or
    every = "30m"                 # an interval: 90s, 30m, 2h, 1d
    args = ["--sources", "/etc/wicnews/sources.toml"]   # extra `wicnews crawl` arguments
    timeout = "2h"                # optional: kill a crawl that runs longer (default 2h)
    enabled = true

A Twisted reactor cannot be restarted, so every crawl runs as ``python -m wicnews.cli crawl``
in its own process. The job store is in memory and belongs to this one process. Jobs
coalesce, never overlap (``max_instances=1``) and have a real misfire grace time.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from wicnews.errors import ConfigError

logger = logging.getLogger(__name__)



def default_dir() -> Path:
    """The bundled schedule data: the ``schedules/`` folder, installed as ``wicnews.schedules``."""
    from importlib.resources import files

    return Path(str(files("wicnews.schedules")))

MISFIRE_GRACE_SECONDS = 600
_FIELDS = {"name", "cron", "every", "args", "timeout", "enabled"}
_SPAN = re.compile(r"\s*(\d+)\s*([smhd])\s*")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Schedule:
    name: str
    cron: str | None = None
    every_seconds: int | None = None
    args: tuple[str, ...] = field(default_factory=tuple)
    timeout_seconds: int = 7200


def parse_span(value: str) -> int:
    """``90s``, ``30m``, ``2h``, ``1d`` -> seconds."""
    match = _SPAN.fullmatch(str(value))
    if not match or int(match[1]) == 0:
        raise ConfigError(f"expected a span such as 90s, 30m, 2h or 1d, got {value!r}")
    return int(match[1]) * _UNITS[match[2]]


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
    if raw.get("enabled", True) is False:
        return None
    return Schedule(name=raw["name"].strip(), cron=raw.get("cron"),
                    every_seconds=parse_span(raw["every"]) if "every" in raw else None, args=tuple(args),
                    timeout_seconds=parse_span(raw.get("timeout", "2h")))


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


def run_crawl(schedule: Schedule, extra: Sequence[str] = (), grace: float = GRACE_SECONDS) -> int:
    """One crawl in a subprocess; its exit code (124 on timeout). Never raises. A crawl past
    its timeout gets SIGTERM, so Scrapy closes it and its run is recorded (``shutdown``);
    SIGKILL only if it has not ended ``grace`` seconds later."""
    command = crawl_command(schedule, extra)
    logger.info("schedule %s: starting %s", schedule.name, " ".join(command[2:]))
    try:
        proc = subprocess.Popen(command)
    except OSError as exc:
        logger.error("schedule %s: cannot start the crawl: %s", schedule.name, exc)
        return 127
    try:
        code = proc.wait(timeout=schedule.timeout_seconds)
    except subprocess.TimeoutExpired:
        logger.error("schedule %s: crawl still running after %d s: stopping it", schedule.name, schedule.timeout_seconds)
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return 124
    (logger.info if code == 0 else logger.error)("schedule %s: crawl exited %d", schedule.name, code)
    return code


def build_scheduler(schedules: list[Schedule], runner: Callable[[Schedule], object], scheduler_cls=None):
    """An APScheduler 3.x scheduler (blocking by default) with one job per schedule."""
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
        scheduler.add_job(runner, trigger, args=[schedule], id=schedule.name, name=schedule.name)
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


def run_cycle(schedule: Schedule, extra: Sequence[str] = (), notify: Sequence[str] | None = None) -> int:
    """One scheduled run: the crawl, then (when webhooks are configured: ``notify`` holds the
    arguments of ``wicnews notify``) the webhooks. The crawl's exit code."""
    code = run_crawl(schedule, extra)
    if notify is not None:
        run_notify(notify)
    return code
