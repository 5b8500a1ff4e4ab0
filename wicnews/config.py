"""Settings assembly: the one way configuration flows.

    wicnews.settings (defaults)  ->  WICNEWS_* environment  ->  flags (--db, --sources)  ->  -s NAME=VALUE

The environment is read when settings are built, never at import time. Names are checked:
an unknown ``WICNEWS_*`` variable or ``-s`` name is a ``ConfigError`` with a did-you-mean,
and every value must fit its setting's type. The value grammars (booleans, spans such as
``90s``/``2h``/``7d``, dates for ``--since``) live here and nowhere else.
"""

from __future__ import annotations

import difflib
import json
import logging
import os
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wicnews.errors import ConfigError

if TYPE_CHECKING:
    from scrapy.settings import Settings

# WICNEWS_* environment variables that are not settings.
ENVIRONMENT_ONLY = {"WICNEWS_HOME", "WICNEWS_EVAL_DIR", "WICNEWS_TEST_PG_ADMIN"}
# -s names of well-known Scrapy add-ons (scrapy-redis, Scrapyd) that Scrapy's defaults do not list.
ADDON_PREFIXES = ("REDIS_", "SCHEDULER_", "DUPEFILTER_", "SCRAPYD_", "FEED_", "ADDONS")
# Priority of the environment: above the project's defaults (20), below the command line (40).
ENV_PRIORITY = 30

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
_SPAN = re.compile(r"\s*(\d{1,9})\s*([smhdw])\s*")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
# Settings that are ratios or similarity thresholds: a number from 0 to 1.
RATIO_SETTINGS = frozenset({"WICNEWS_NEAR_DUP_THRESHOLD", "WICNEWS_CANONICAL_MIN_SIMILARITY",
                            "WICNEWS_MAX_REPLACEMENT_RATIO"})


def parse_bool(value: object, what: str = "value") -> bool:
    """``true/false``, ``yes/no``, ``on/off``, ``1/0`` (any case) -> bool."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ConfigError(f"{what}: expected true or false, got {value!r}")


def parse_span(value: object, what: str = "span") -> int:
    """``90s``, ``30m``, ``2h``, ``1d``, ``2w`` -> seconds (at least 1, at most 10 years)."""
    match = _SPAN.fullmatch(str(value))
    seconds = int(match[1]) * _UNITS[match[2]] if match else 0
    if not match or not 0 < seconds <= 3650 * 86400:
        raise ConfigError(f"{what}: expected a span such as 90s, 30m, 2h, 7d or 2w (up to 10 years), got {value!r}")
    return seconds


def parse_spans(value: object, what: str = "spans") -> tuple[int, ...]:
    """``"1h,6h,24h,72h"`` -> seconds, ascending; an empty value is no spans."""
    parts = [p for p in str(value or "").split(",") if p.strip()]
    return tuple(sorted({parse_span(p, what) for p in parts}))


def parse_since(value: str | None, now: datetime | None = None) -> datetime | None:
    """``24h``, ``7d``, ``30m``, ``2w`` (before ``now``) or an ISO 8601 date/date-time
    (naive = UTC) -> an aware datetime; None stays None."""
    if value is None:
        return None
    now = now or datetime.now(timezone.utc)
    if _SPAN.fullmatch(value):
        try:
            return now - timedelta(seconds=parse_span(value, "--since"))
        except OverflowError:
            pass
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ConfigError(f"--since: expected an ISO 8601 date/time or a span like 24h or 7d, got {value!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def read_config_file(path: Path, what: str) -> str:
    """The UTF-8 text of a configuration file (sources, topic, schedules); one-line
    ``ConfigError`` when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None


def _suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
    return f" (did you mean {close[0]}?)" if close else ""


def _coerce(name: str, raw: str, default: Any, where: str) -> Any:
    """``raw`` read as the type of the setting's default; ``ConfigError`` when it does not fit."""
    if name == "LOG_LEVEL":
        level = raw.strip().upper()
        if level not in _LOG_LEVELS:
            raise ConfigError(f"{where} {name}: expected one of {', '.join(_LOG_LEVELS)}, got {raw!r}")
        return level
    if isinstance(default, bool):
        return parse_bool(raw, f"{where} {name}")
    if name in RATIO_SETTINGS:
        try:
            ratio = float(raw)
        except ValueError:
            ratio = -1.0
        if not 0.0 <= ratio <= 1.0:  # also NaN
            raise ConfigError(f"{where} {name}: expected a number from 0 to 1, got {raw!r}")
        return ratio
    for kind, expected in ((int, "a whole number"), (float, "a number")):
        if isinstance(default, kind):
            try:
                return kind(raw)
            except ValueError:
                raise ConfigError(f"{where} {name}: expected {expected}, got {raw!r}") from None
    from collections.abc import Mapping as _Mapping

    as_dict = isinstance(default, _Mapping) or hasattr(default, "copy_to_dict") or _is_component_dict(name)
    if as_dict or isinstance(default, (list, tuple)):
        expected = "dict" if as_dict else "list"
        try:
            value = json.loads(raw)
        except ValueError:
            raise ConfigError(f"{where} {name}: expected JSON (a {expected}), got {raw!r}") from None
        if not isinstance(value, dict if as_dict else list):
            raise ConfigError(f"{where} {name}: expected a JSON {expected}, got {raw!r}")
        return value
    return raw


def _is_component_dict(name: str) -> bool:
    return name.endswith(("_PIPELINES", "_MIDDLEWARES", "_HANDLERS", "EXTENSIONS")) or name.endswith("_BASE")


def _known_names(settings: Settings) -> set[str]:
    return {name for name, _ in settings.items()}


def environment_values(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The ``WICNEWS_*`` settings the environment gives, typed like their defaults; an
    unknown name or a value that does not fit is a ``ConfigError``. Imports no Scrapy."""
    from wicnews import settings as defaults

    environ = os.environ if environ is None else environ
    known = {n for n in vars(defaults) if n.startswith("WICNEWS_")}
    values = {}
    for name, raw in sorted(environ.items()):
        if not name.startswith("WICNEWS_") or name in ENVIRONMENT_ONLY:
            continue
        if name not in known:
            raise ConfigError(f"unknown environment variable {name}{_suggest(name, known | ENVIRONMENT_ONLY)}")
        try:
            values[name] = _coerce(name, raw, getattr(defaults, name), "environment variable")
        except ConfigError as exc:
            expected = str(exc).partition(": expected ")[2].rpartition(", got")[0]
            raise ConfigError(f"environment variable {name}={raw!r} does not fit the setting (expected {expected})"
                              ) from None
    return values


def apply_environment(settings: Settings, environ: Mapping[str, str] | None = None) -> None:
    """Let ``WICNEWS_*`` environment variables override the defaults (``ENV_PRIORITY``)."""
    for name, value in environment_values(environ).items():
        settings.set(name, value, priority=ENV_PRIORITY)


def apply_redis(settings: Settings) -> None:
    """With ``WICNEWS_REDIS_URL``: a distributed crawl. The database must be PostgreSQL; the
    scrapy-redis scheduler and fingerprint set are set for this run only (``-s`` still wins)."""
    url = (settings.get("WICNEWS_REDIS_URL") or "").strip()
    if not url:
        return
    from wicnews.distributed import check_database, redis_settings

    check_database(settings.get("WICNEWS_DATABASE_URL") or "")
    for name, value in redis_settings(url, settings.getint("WICNEWS_REDIS_IDLE_SECONDS")).items():
        settings.set(name, value, priority="spider")


def _check_override(settings: Settings, item: str) -> tuple[str, Any]:
    name, sep, raw = item.partition("=")
    name = name.strip()
    if not sep or not re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
        raise ConfigError(f"-s expects NAME=VALUE with an upper-case setting name, got {item!r}")
    known = _known_names(settings)
    if name not in known and (name.startswith("WICNEWS_") or not name.startswith(ADDON_PREFIXES)):
        raise ConfigError(f"-s {name}: unknown setting{_suggest(name, known)}")
    return name, _coerce(name, raw, settings.get(name), "-s")


def build_settings(db_url: str | None = None, overrides: Iterable[str] = (), environ: Mapping[str, str] | None = None,
                   **values: object) -> Settings:
    """The settings of one command: defaults, environment, then ``values`` (flags such as
    ``WICNEWS_SOURCES=...``; None means not given), ``db_url`` and ``-s`` ``overrides``."""
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("wicnews.settings", priority="project")
    apply_environment(settings, environ)
    for name, value in values.items():
        if value is not None:
            settings.set(name, value, priority="cmdline")
    if db_url:
        settings.set("WICNEWS_DATABASE_URL", db_url, priority="cmdline")
    for item in overrides:
        name, value = _check_override(settings, item)
        settings.set(name, value, priority="cmdline")
    return settings


def database_url(db_url: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The database URL alone, for the read-only commands: ``--db``, else
    ``$WICNEWS_DATABASE_URL``, else empty (the embedded default). Imports no Scrapy."""
    return (db_url or environment_values(environ).get("WICNEWS_DATABASE_URL") or "").strip()


def quiet_logging() -> None:
    """One-line log records on stderr for the commands that are not crawls."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s [%(name)s] %(levelname)s: %(message)s")
