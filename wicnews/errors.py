"""The errors of wicnews, as a tree::

    WicnewsError
    ├── ConfigError      a user mistake: bad sources file, bad setting, bad URL, bad date.
    │                    The CLI prints one line and exits 2.
    ├── DatabaseError    the database cannot be reached or is not at the expected schema.
    │                    The CLI prints one line and exits 3.
    └── PageError        one page cannot become an article. ``kind`` names the reason and is
                         the suffix of the ``wicnews/errors/<kind>`` stats counter; the run
                         goes on.
"""

from __future__ import annotations


class WicnewsError(Exception):
    """Base of every error wicnews raises on purpose."""


class ConfigError(WicnewsError):
    """A configuration or usage mistake the user can fix."""


class DatabaseError(WicnewsError):
    """The database is unreachable or its schema is not usable."""


class PageError(WicnewsError):
    """A page that cannot become an article; ``kind`` is a short stable slug."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
