"""Dates and times as pages, feeds and sitemaps write them, and which one to believe.

``parse_time`` reads a value and keeps what it said: an instant (a zone was stated), a
local wall-clock time, or a bare date. Only then is a naive value placed in a zone
(``ParsedTime.instant``): the source's, the host country's (``guess_timezone``) or UTC.
Pure functions; no network, no third-party imports.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

CHINA_TZ = ZoneInfo("Asia/Shanghai")

# Country-code domains whose naive page times are local: a better guess than UTC.
# Only countries that keep one zone (or nearly all their press in one).
HOST_TIMEZONES = {"cn": "Asia/Shanghai", "hk": "Asia/Hong_Kong", "mo": "Asia/Macau", "tw": "Asia/Taipei",
                  "sg": "Asia/Singapore", "jp": "Asia/Tokyo", "kr": "Asia/Seoul", "in": "Asia/Kolkata",
                  "vn": "Asia/Ho_Chi_Minh", "th": "Asia/Bangkok", "my": "Asia/Kuala_Lumpur", "ph": "Asia/Manila",
                  "id": "Asia/Jakarta", "il": "Asia/Jerusalem", "lb": "Asia/Beirut", "tr": "Europe/Istanbul",
                  "uk": "Europe/London", "ie": "Europe/Dublin", "pt": "Europe/Lisbon", "de": "Europe/Berlin",
                  "at": "Europe/Vienna", "ch": "Europe/Zurich", "li": "Europe/Vaduz", "fr": "Europe/Paris",
                  "be": "Europe/Brussels", "nl": "Europe/Amsterdam", "lu": "Europe/Luxembourg", "it": "Europe/Rome",
                  "es": "Europe/Madrid", "dk": "Europe/Copenhagen", "no": "Europe/Oslo", "se": "Europe/Stockholm",
                  "fi": "Europe/Helsinki", "is": "Atlantic/Reykjavik", "pl": "Europe/Warsaw", "cz": "Europe/Prague",
                  "sk": "Europe/Bratislava", "hu": "Europe/Budapest", "ro": "Europe/Bucharest", "bg": "Europe/Sofia",
                  "gr": "Europe/Athens", "hr": "Europe/Zagreb", "si": "Europe/Ljubljana", "lt": "Europe/Vilnius",
                  "lv": "Europe/Riga", "ee": "Europe/Tallinn", "ua": "Europe/Kyiv", "za": "Africa/Johannesburg",
                  "ls": "Africa/Maseru", "na": "Africa/Windhoek", "ke": "Africa/Nairobi", "tz": "Africa/Dar_es_Salaam",
                  "ng": "Africa/Lagos", "eg": "Africa/Cairo", "nz": "Pacific/Auckland", "py": "America/Asuncion",
                  "gl": "America/Nuuk", "ar": "America/Argentina/Buenos_Aires", "co": "America/Bogota",
                  "pe": "America/Lima", "cl": "America/Santiago"}
# Languages whose press writes in one zone, for pages on generic domains (.com).
LANGUAGE_TIMEZONES = {"zh": "Asia/Shanghai", "ja": "Asia/Tokyo", "ko": "Asia/Seoul", "de": "Europe/Berlin",
                      "cs": "Europe/Prague", "pl": "Europe/Warsaw", "it": "Europe/Rome", "nl": "Europe/Amsterdam",
                      "da": "Europe/Copenhagen", "nb": "Europe/Oslo", "no": "Europe/Oslo", "sv": "Europe/Stockholm",
                      "fi": "Europe/Helsinki", "hu": "Europe/Budapest", "tr": "Europe/Istanbul", "vi": "Asia/Ho_Chi_Minh",
                      "th": "Asia/Bangkok", "uk": "Europe/Kyiv", "lt": "Europe/Vilnius", "el": "Europe/Athens",
                      "he": "Asia/Jerusalem"}

Precision = Literal["zone", "local", "date"]

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*([+-]\d{2}:?\d{2})?")
_FORMATS = ("%Y-%m-%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日")
_CLOCK = re.compile(r"\d:\d")
# "2022.01.20 16:31", "2022-01-20 16:31:5", "2005年03月21日 11:21", "2024/11/21T08:00:00+08:00"
_WRITTEN = re.compile(r"((?:19|20)\d\d)\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?(?:(?:\s+|T|,\s*)(\d{1,2})[:：](\d{2})"
                      r"(?:[:：](\d{1,2})(?:\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2}|UTC|GMT)?", re.IGNORECASE)


@dataclass(frozen=True)
class ParsedTime:
    """A parsed date or time. ``value`` is aware when the text stated its zone
    (``precision == "zone"``), else naive: a wall-clock time (``"local"``) or midnight of a
    bare date (``"date"``)."""

    value: datetime
    precision: Precision

    @property
    def zone_stated(self) -> bool:
        return self.precision == "zone"

    def instant(self, default_tz: tzinfo = UTC) -> datetime:
        """Aware UTC datetime; a naive value is read in ``default_tz``."""
        value = self.value if self.zone_stated else self.value.replace(tzinfo=default_tz)
        return value.astimezone(UTC)


def parse_time(value: str | None) -> ParsedTime | None:
    """A date or date-time as written in pages and feeds (ISO 8601, RFC 822, ``2024/11/21``,
    ``2024年11月21日 11:21``, ``2022.01.20 16:31``, one-digit seconds), or None when it does not
    read or falls outside 1995-2100."""
    if not value or not value.strip():
        return None
    value = value.strip()
    dt = None
    candidate = value.replace("Z", "+00:00").replace("z", "+00:00")
    if _ISO.fullmatch(candidate):
        try:
            dt = datetime.fromisoformat(re.sub(r"\s+([+-])", r"\1", candidate))
        except ValueError:
            dt = None
    if dt is None:
        for fmt in _FORMATS:
            try:
                dt = datetime.strptime(value, fmt)
                break
            except ValueError:
                continue
    if dt is None:
        dt = _written(value)
    if dt is None:
        try:
            dt = parsedate_to_datetime(value)  # RFC 822; "-0000" (zone unknown) is naive
        except (TypeError, ValueError, IndexError):
            return None
    if not (1995 <= dt.year <= 2100):
        return None
    if dt.tzinfo is not None:
        return ParsedTime(dt, "zone")
    return ParsedTime(dt, "local" if _CLOCK.search(value) else "date")


def _written(value: str) -> datetime | None:
    match = _WRITTEN.fullmatch(value)
    if not match:
        return None
    y, m, d, hh, mm, ss, zone = match.groups()
    try:
        dt = datetime(int(y), int(m), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
    except ValueError:
        return None
    if zone:
        zone = zone.upper()
        if zone in ("Z", "UTC", "GMT"):
            return dt.replace(tzinfo=UTC)
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        return dt.replace(tzinfo=timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))))
    return dt


def parse_datetime(value: str | None, default_tz: tzinfo = UTC) -> datetime | None:
    """A date or date-time -> aware UTC datetime, or None. Naive values are taken in ``default_tz``."""
    parsed = parse_time(value)
    return parsed.instant(default_tz) if parsed else None


def published_time(values: Iterable[str | None], default_tz: tzinfo) -> tuple[datetime | None, Precision | None]:
    """``(when, precision)`` from the candidate values: the first that states its zone
    (precision ``"zone"``); else the first local time (``"local"``) or, failing that, date
    (``"date"``), read in ``default_tz``."""
    fallback: ParsedTime | None = None
    for value in values:
        parsed = parse_time(value)
        if parsed is None:
            continue
        if parsed.zone_stated:
            return parsed.instant(), "zone"
        if fallback is None or (fallback.precision == "date" and parsed.precision == "local"):
            fallback = parsed
    return (fallback.instant(default_tz), fallback.precision) if fallback else (None, None)


def guess_timezone(url: str, language: str | None) -> tzinfo:
    """Zone of naive times when the source names none: the host's country (``HOST_TIMEZONES``),
    else the language's (``LANGUAGE_TIMEZONES``: Chinese pages China time), else UTC."""
    host = (urlsplit(url).hostname or "").rstrip(".")
    zone = HOST_TIMEZONES.get(host.rsplit(".", 1)[-1]) if "." in host else None
    zone = zone or LANGUAGE_TIMEZONES.get((language or "").split("-")[0])
    return ZoneInfo(zone) if zone else UTC


def trusted_hint(when: datetime | None, zone_stated: bool, source_tz: str | None) -> datetime | None:
    """A feed's or sitemap's publication time, if it can be trusted as an instant: it stated
    its zone, or the source names the zone its feed writes local times in (``when`` is then
    the wall clock read as UTC)."""
    if when is None or zone_stated:
        return when
    if source_tz:
        return when.replace(tzinfo=ZoneInfo(source_tz)).astimezone(UTC)
    return None


def same_wall_clock(a: datetime, b: datetime) -> bool:
    """True when two instants differ by a whole UTC offset (a quarter-hour multiple, at most 14 h)."""
    seconds = (a - b).total_seconds()
    return abs(seconds) <= 14 * 3600 and seconds % 900 == 0


def best_published(page: datetime | None, precision: str | None, hint: datetime | None) -> datetime | None:
    """The publication instant from the page's (``precision`` as in ``published_time``) and
    the feed's or sitemap's (``hint``, only when it stated its zone). A page instant wins.
    A page's local time yields to the hint when they are the same wall-clock time (they
    differ by a whole UTC offset); a page's bare date yields to a hint on that day."""
    if page is None or hint is None or precision == "zone":
        return page or hint
    if precision == "local" and same_wall_clock(page, hint):
        return hint
    if precision == "date" and abs((hint - page).total_seconds()) <= 36 * 3600:
        return hint
    return page
