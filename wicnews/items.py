"""The article item that travels from the spider through the pipelines to the database.

Its fields are the page columns of an article (``wicnews.page_fields.PAGE_ROLES``, which
``wicnews.models.Article`` checks its columns against), plus what only travels with the item (the URL requested before
redirects, the pages that led here, the dedupe keys and bands).
"""

from __future__ import annotations

from dataclasses import field, make_dataclass
from typing import Any

from wicnews.page_fields import PAGE_ROLES

_REQUIRED = ("url", "source", "text")
_PYTHON_TYPES = {"url": "str | None", "text": "str", "line": "str | None", "lines": "list[str]", "value": "Any"}
_TRANSIENT: list[tuple[str, str, Any]] = [
    ("requested_url", "str | None", None),  # the URL asked for, before redirects
    ("via", "list[str]", list),             # pages that led here (an AMP page resolved to its canonical)
    ("url_key", "str | None", None),        # set by the dedupe pipeline
    ("text_key", "str | None", None),
    ("title_key", "str | None", None),
    ("bands", "list[str]", list),
    ("raw", "dict | None", None),           # the fetch as it came: url, headers, body (kept in raw_pages)
    ("backfill_slice", "tuple | None", None),  # the backfill slice it was found in: done once the item is stored
]


def _fields() -> list[tuple]:
    required: list[tuple] = [(name, _PYTHON_TYPES[PAGE_ROLES[name]]) for name in _REQUIRED]
    optional: list[tuple] = [(name, _PYTHON_TYPES[role], field(default_factory=list) if role == "lines" else field(default=None))
                for name, role in PAGE_ROLES.items() if name not in _REQUIRED]
    transient: list[tuple] = [(name, kind, field(default_factory=list) if default is list else field(default=default))
                 for name, kind, default in _TRANSIENT]
    return required + optional + transient


Article: Any = make_dataclass("Article", _fields())
Article.__module__ = __name__  # so that items pickle (to and from worker processes)
Article.__doc__ = "An article on its way to the store (fields: wicnews.models.Article's page columns + transit)."
