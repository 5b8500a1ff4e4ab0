"""The article item that travels from the spider through the pipelines to the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Article:
    url: str                       # the URL fetched (after redirects)
    source: str                    # the name of the source that led to it
    text: str
    title: str | None = None
    canonical_url: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None   # timezone-aware
    site_name: str | None = None
    language: str | None = None
    description: str | None = None
    image: str | None = None
    tags: list[str] = field(default_factory=list)
    requested_url: str | None = None   # the URL asked for, before redirects
    via: list[str] = field(default_factory=list)  # pages that led here (an AMP page resolved to its canonical)
    # set by the pipelines
    relevant: bool | None = None
    matched_terms: list[str] = field(default_factory=list)
    relevance: dict | None = None
    url_key: str | None = None
    text_key: str | None = None
    bands: list[str] = field(default_factory=list)
