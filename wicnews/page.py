"""What one article page yields: ``Extracted``, the value ``wicnews.extract.extract_article``
returns and an extraction worker sends back to the crawl.

A module of its own, with no extraction library behind it: the crawl's process unpickles
the workers' results, and unpickling a class imports its module. Were ``Extracted`` defined
beside the extractor, the crawl would import trafilatura (and numpy, through its language
guesser) just to read a result its workers made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# Bumped on purpose whenever a change to extraction changes what it yields for the same
# bytes; stored per article, so `wicnews reextract` knows what an improvement can redo.
EXTRACTOR_VERSION = 5


@dataclass
class Extracted:
    """What one page yields. Dates are timezone-aware UTC; lists are never None."""

    text: str
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    site_name: str | None = None
    language: str | None = None
    description: str | None = None
    canonical_url: str | None = None
    image: str | None = None
    tags: list[str] = field(default_factory=list)
    encoding: str = "utf-8"
    replaced_chars: int = 0
    is_amp: bool = False
    canonical_claim: str | None = None  # a canonical URL on another site, not trusted (see extract_article)
    published_precision: str | None = None  # "zone" (an instant), "local" (no zone given) or "date" (day only)
    published_offset: int | None = None  # minutes east of UTC the publisher wrote the time in (or assumed)
    published_source: str | None = None  # the winning candidate: jsonld, meta, time, title, htmldate, text, url
    modified_at: datetime | None = None
    editors: list[str] = field(default_factory=list)  # 编辑/责编: credited, not authors
    origin: str | None = None  # the outlet a story is credited to (来源：新华社)
    extractor_version: int = EXTRACTOR_VERSION


__all__ = ["EXTRACTOR_VERSION", "Extracted"]
