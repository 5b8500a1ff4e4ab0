"""Sources as data: a TOML file of ``[[source]]`` tables, validated with the line at fault.

    [[source]]
    name = "scmp-china"            # unique, used in logs, stats and the stored articles
    kind = "feed"                  # feed | sitemap | page
    url = "https://www.scmp.com/rss/4/feed"
    language = "en"                # optional hint
    enabled = true                 # optional, default true
    timezone = "Asia/Hong_Kong"    # optional: zone of naive times on its pages
    link_pattern = "/article/\\d+" # page only: regex for the article links to follow
    max_age_days = 7               # optional: skip entries older than this

    [[source]]                     # topic search sources: a query, not a URL
    name = "google-news-wic-zh"
    kind = "google_news"           # google_news | gdelt
    query = "世界互联网大会"
    language = "zh"                # google_news: the edition (en, zh, ...)
    api_url = "http://..."         # optional: another endpoint of the same API (tests use loopback)
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wicnews.errors import ConfigError
from wicnews.urls import check_url

KINDS = ("feed", "sitemap", "page", "google_news", "gdelt")
# Kinds configured by a search query; their URL is built from it (wicnews.aggregators).
TOPIC_KINDS = ("google_news", "gdelt")
DEFAULT_FILE = Path(__file__).with_name("sources.toml")
_FIELDS = {"name", "kind", "url", "language", "enabled", "timezone", "link_pattern", "max_age_days", "query", "api_url"}


@dataclass(frozen=True)
class Source:
    name: str
    kind: str
    url: str
    language: str | None = None
    enabled: bool = True
    timezone: str | None = None
    link_pattern: str | None = None
    max_age_days: int | None = None
    query: str | None = None     # topic kinds: the search query
    api_url: str | None = None   # topic kinds: the API endpoint, when not the public one

    @property
    def is_topic(self) -> bool:
        """True for the topic search kinds, whose links lead through an aggregator."""
        return self.kind in TOPIC_KINDS


class _FieldError(ConfigError):
    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field


def _validate(raw: dict) -> Source:
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise _FieldError(unknown[0], f"unknown field {unknown[0]!r} (fields: {', '.join(sorted(_FIELDS))})")
    for key in ("name", "kind"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise _FieldError(key if key in raw else None, f"{key!r} is required and must be a non-empty string")
    if raw["kind"] not in KINDS:
        raise _FieldError("kind", f"kind must be one of {', '.join(KINDS)} (got {raw['kind']!r})")
    if raw["kind"] not in TOPIC_KINDS and ({"query", "api_url"} & set(raw)):
        field = min({"query", "api_url"} & set(raw))
        raise _FieldError(field, f"{field!r} only applies to the topic kinds ({', '.join(TOPIC_KINDS)})")
    raw = _topic_url(raw) if raw["kind"] in TOPIC_KINDS else raw
    if not isinstance(raw.get("url"), str) or not raw["url"].strip():
        raise _FieldError("url" if "url" in raw else None, "'url' is required and must be a non-empty string")
    try:
        check_url(raw["url"])
    except ConfigError as exc:
        raise _FieldError("url", str(exc)) from None
    if "enabled" in raw and not isinstance(raw["enabled"], bool):
        raise _FieldError("enabled", "'enabled' must be true or false")
    language = raw.get("language")
    if "language" in raw and not (isinstance(language, str) and re.fullmatch(r"[a-z]{2,3}(-[A-Za-z]{2,4})?", language)):
        raise _FieldError("language", f"'language' must be a language code such as 'en' or 'zh' (got {raw['language']!r})")
    if "timezone" in raw:
        try:
            ZoneInfo(str(raw["timezone"]))
        except (ZoneInfoNotFoundError, ValueError):
            raise _FieldError("timezone", f"unknown timezone {raw['timezone']!r}") from None
    if "link_pattern" in raw:
        if raw["kind"] != "page":
            raise _FieldError("link_pattern", "'link_pattern' only applies to kind = \"page\"")
        try:
            re.compile(raw["link_pattern"])
        except (re.error, TypeError) as exc:
            raise _FieldError("link_pattern", f"bad link_pattern regex: {exc}") from None
    if "max_age_days" in raw and (type(raw["max_age_days"]) is not int or raw["max_age_days"] < 0):
        raise _FieldError("max_age_days", "'max_age_days' must be a whole number >= 0")
    values: dict[str, Any] = {k: (v.strip() if isinstance(v, str) else v) for k, v in raw.items()}
    return Source(**values)


def _topic_url(raw: dict) -> dict:
    """A topic source's fields with its ``url`` built from ``query`` (and ``api_url``)."""
    from wicnews.aggregators import GDELT_API, GOOGLE_NEWS_EDITIONS, google_news_url

    if "url" in raw:
        raise _FieldError("url", f"kind = {raw['kind']!r} takes 'query' (and 'api_url'), not 'url'")
    for key in ("query", "api_url"):
        if key in raw and (not isinstance(raw[key], str) or not raw[key].strip()):
            raise _FieldError(key, f"{key!r} must be a non-empty string")
    if "query" not in raw:
        raise _FieldError(None, f"'query' is required for kind = {raw['kind']!r}")
    if "api_url" in raw:
        try:
            check_url(raw["api_url"])
        except ConfigError as exc:
            raise _FieldError("api_url", str(exc)) from None
    api_url = raw.get("api_url", "").strip() or None
    if raw["kind"] == "google_news":
        language = raw.get("language", "en")
        if language not in GOOGLE_NEWS_EDITIONS:
            raise _FieldError("language", f"google_news editions: {', '.join(GOOGLE_NEWS_EDITIONS)} (got {language!r})")
        url = google_news_url(raw["query"].strip(), language, api_url)
    else:
        url = api_url or GDELT_API  # the spider adds the query and the time window
    return {**raw, "url": url}


def _line_of(lines: list[str], index: int, field: str | None) -> int:
    """1-based line of the ``index``-th ``[[source]]`` table, or of ``field`` inside it."""
    headers = [i for i, line in enumerate(lines) if re.match(r"\s*\[\[\s*source\s*\]\]", line)]
    if index >= len(headers):
        return 1
    start = headers[index]
    end = headers[index + 1] if index + 1 < len(headers) else len(lines)
    if field:
        for i in range(start, end):
            if re.match(rf"\s*{re.escape(field)}\s*=", lines[i]):
                return i + 1
    return start + 1


def parse_sources(text: str, filename: str = "<sources>") -> list[Source]:
    """Sources declared in TOML ``text``; ``ConfigError("file:line: ...")`` on any mistake."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        raise ConfigError(f"{filename}:{at[1] if at else 1}: invalid TOML: {exc}") from None
    unknown = set(data) - {"source"}
    if unknown:
        raise ConfigError(f"{filename}: unknown top-level key {min(unknown)!r}; declare sources as [[source]] tables")
    tables = data.get("source", [])
    if not isinstance(tables, list):
        raise ConfigError(f"{filename}: 'source' must be an array of tables ([[source]])")
    lines = text.splitlines()
    sources, names = [], set()
    for i, raw in enumerate(tables):
        try:
            source = _validate(raw)
        except _FieldError as exc:
            raise ConfigError(f"{filename}:{_line_of(lines, i, exc.field)}: source #{i + 1}: {exc}") from None
        if source.name in names:
            raise ConfigError(f"{filename}:{_line_of(lines, i, 'name')}: duplicate source name {source.name!r}")
        names.add(source.name)
        sources.append(source)
    return sources


def load_sources(path: str | Path | None = None) -> list[Source]:
    """Enabled sources of a sources file (the bundled default when ``path`` is empty)."""
    path = Path(path) if path else DEFAULT_FILE
    from wicnews.config import read_config_file

    return [s for s in parse_sources(read_config_file(path, "sources file"), str(path)) if s.enabled]


def adhoc_sources(feeds=(), sitemaps=(), pages=()) -> list[Source]:
    """Sources given on the command line, named after their kind and host."""
    result = []
    for kind, urls in (("feed", feeds), ("sitemap", sitemaps), ("page", pages)):
        for url in urls:
            url = check_url(url)
            try:
                parts = urlsplit(url)
                name = f"{kind}:{parts.netloc}{parts.path}"
            except ValueError:  # "http://[x": the crawl counts it as this source's bad_url
                name = f"{kind}:{url.split('://', 1)[1]}"
            result.append(Source(name=name[:200], kind=kind, url=url))
    return result
