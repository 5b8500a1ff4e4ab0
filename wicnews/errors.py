"""The errors of wicnews, and the vocabulary of what the runs count.

The exception tree::

    Exception
    ├── WicnewsError
    │   ├── ConfigError      a user mistake: bad sources file, bad setting, bad URL, bad date.
    │   │                    The CLI prints one line and exits 2.
    │   ├── DatabaseError    the database cannot be reached or is not at the expected schema.
    │   │                    The CLI prints one line and exits 3.
    │   └── PageError        one page cannot become an article; its ``kind`` (an ``ErrorKind``)
    │                        names the reason. The run goes on.
    └── scrapy.exceptions.IgnoreRequest      a request dropped before or while downloading
        │                           (these live in ``wicnews.failures``: this module imports no Scrapy)
        ├── AlreadySeen             the URL led to a stored article          -> SEEN (a skip)
        ├── RobotsDenied            robots.txt forbids it                    -> ROBOTS (a skip)
        ├── RedirectLoop            REDIRECT_MAX_TIMES reached               -> REDIRECT_LOOP
        ├── PrivateAddressRefused   a public source led to a private address -> PRIVATE_ADDRESS
        ├── BadUrl                  too long, malformed host or port         -> BAD_URL
        ├── NotModified             a source answered 304                    -> NOT_MODIFIED (a skip)
        ├── Unchanged               a source's body is that of its last poll -> UNCHANGED (a skip)
        ├── BackedOff               a failing source is not due yet          -> BACKOFF (a skip)
        └── Stopped                 a queued download of a stopped crawl     -> STOPPED (a skip)

``wicnews.failures.classify`` maps any download failure to an ``ErrorKind`` by its type,
never by its message. Every kind is counted as ``wicnews/errors/<kind>``, except the
``SKIPS`` (decisions, not errors), counted as ``wicnews/skipped/<kind>``.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any


class ErrorKind(StrEnum):
    """Every kind of failure or skip wicnews counts; the value is the stats suffix.
    The README's table of kinds lists exactly these (a test checks it)."""

    # the download
    HTTP = "http_<status>"          # a family: ``http_kind(404)`` is "http_404"
    REDIRECT_LOOP = "redirect_loop"
    TOO_LARGE = "too_large"
    TIMEOUT = "timeout"
    DNS = "dns"
    CONNECTION = "connection"
    PRIVATE_ADDRESS = "private_address"
    UNSUPPORTED_SCHEME = "unsupported_scheme"
    IGNORED = "ignored"             # an IgnoreRequest of no known kind
    OTHER = "other"                 # a failure of no known kind (the log names the exception)
    # the page
    EMPTY_BODY = "empty_body"
    NOT_HTML = "not_html"
    ENCODING = "encoding"
    ENCODING_REPLACED = "encoding_replaced"
    UNPARSABLE = "unparsable"
    NO_TEXT = "no_text"
    EXTRACT_FAILED = "extract_failed"
    EXTRACT_TIMEOUT = "extract_timeout"
    # feeds, sitemaps and listing pages
    FEED_MALFORMED = "feed_malformed"
    SITEMAP_MALFORMED = "sitemap_malformed"
    SITEMAP_TOO_DEEP = "sitemap_too_deep"
    BAD_URL = "bad_url"
    NO_LINKS = "no_links"           # a warning: a feed, sitemap or listing page gave no article link
    # the store
    STORE_FAILED = "store_failed"
    # skips: decisions, not errors
    SEEN = "seen"
    ROBOTS = "robots"
    REQUESTED_TWICE = "requested_twice"
    TOO_OLD = "too_old"
    CANONICAL_UNTRUSTED = "canonical_untrusted"  # stored under its own URL: the canonical is another site's
    NOT_MODIFIED = "not_modified"   # a feed/sitemap answered 304 to a conditional GET
    UNCHANGED = "unchanged"         # a feed/sitemap answered 200 with the body of its last poll
    BACKOFF = "backoff"             # a failing source not polled before its next poll time
    STOPPED = "stopped"             # a queued download dropped because the crawl was stopped


# Outcomes that are decisions, not errors: counted under wicnews/skipped/<kind>.
SKIPS = frozenset({ErrorKind.SEEN, ErrorKind.ROBOTS, ErrorKind.REQUESTED_TWICE, ErrorKind.TOO_OLD,
                   ErrorKind.CANONICAL_UNTRUSTED, ErrorKind.NOT_MODIFIED, ErrorKind.UNCHANGED, ErrorKind.BACKOFF,
                   ErrorKind.STOPPED})


def http_kind(status: int) -> str:
    """The kind of an HTTP error status, a member of the ``ErrorKind.HTTP`` family: ``"http_404"``."""
    return f"http_{int(status)}"


class WicnewsError(Exception):
    """Base of every error wicnews raises on purpose."""


class ConfigError(WicnewsError):
    """A configuration or usage mistake the user can fix."""


class DatabaseError(WicnewsError):
    """The database is unreachable or its schema is not usable."""


class PageError(WicnewsError):
    """A page that cannot become an article; ``kind`` says why (an ``ErrorKind``, or a
    member of its ``http_<status>`` family). ``extracted`` holds what was read before the
    refusal (a ``no_text`` page's title and date), else None."""

    def __init__(self, kind: ErrorKind | str, message: str, extracted: Any = None):
        super().__init__(message)
        self.extracted = extracted
        self.kind: str = kind if re.fullmatch(r"http_\d{3}", str(kind)) else ErrorKind(kind)

