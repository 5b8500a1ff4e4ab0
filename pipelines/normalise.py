"""Normalise articles: canonical URL (``wicnews.urls``: tracking parameters, fragments, AMP) and whitespace."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import MutableMapping
from typing import Any

from wicnews.page_fields import PAGE_ROLES
from wicnews.urls import canonicalize_url, choose_canonical

__all__ = ["NormalisePipeline", "clean_line", "clean_text", "normalise_fields"]


# A run of spaces, tabs and Unicode blanks becomes one space: _RUNS finds the runs that are not
# one space already, _ODD_SPACE is a quick sign of those that are not double spaces.
_RUNS = re.compile(r"[ \t\u00a0\u3000\u2000-\u200b\u202f\u205f]{2,}|[\t\u00a0\u3000\u2000-\u200b\u202f\u205f]")
_ODD_SPACE = re.compile(r"[\t\u00a0\u3000\u2000-\u200b\u202f\u205f]")
_BLANK_LINES = re.compile(r"\n\s*\n+")


_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean_text(text: str | None) -> str:
    """NFC, no control characters, one space between words, one newline between
    paragraphs, no edge blanks."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", _CONTROLS.sub(" ", text)).replace("\r\n", "\n").replace("\r", "\n")
    if "  " in text or _ODD_SPACE.search(text):  # else each run is one space already
        text = _RUNS.sub(" ", text)  # (runs never span lines: one pass over the text)
    return _BLANK_LINES.sub("\n", "\n".join(line for line in map(str.strip, text.split("\n")) if line)).strip()


def clean_line(text: str | None) -> str:
    """A single-line field (title, site name): control characters out, whitespace collapsed."""
    return " ".join(_CONTROLS.sub(" ", text or "").split())


def normalise_values(values: dict) -> dict:
    """The page fields of an article, cleaned as their role in ``wicnews.page_fields`` says:
    canonical URL chosen, URLs canonical, text and one-line fields with clean whitespace,
    lists of lines without blanks or repeats. Fields that are absent stay absent."""
    out = dict(values)
    out["canonical_url"] = choose_canonical(values["url"], values.get("canonical_url"))
    out["url"] = canonicalize_url(values["url"])
    for name, role in PAGE_ROLES.items():
        if name not in values:
            continue
        if role == "text":
            out[name] = clean_text(values[name])
        elif role == "line":
            out[name] = clean_line(values[name]) or None
        elif role == "lines":
            out[name] = list(dict.fromkeys(v for v in map(clean_line, values[name] or []) if v))
    return out


def normalise_fields(fields: MutableMapping[str, Any]) -> None:
    """Normalise an item's fields in place (an ``ItemAdapter``, or ``vars(item)`` of a
    ``wicnews.items.Article``): ``normalise_values``, or, for an item prepared in an
    extraction worker (``wicnews.articles.prepared_page``: clean already), only its URLs."""
    if fields.get("text_key"):
        url, canonical = fields["url"], fields.get("canonical_url")  # only these may have changed since
        fields["canonical_url"], fields["url"] = choose_canonical(url, canonical), canonicalize_url(url)
        return
    fields.update(normalise_values({name: fields[name] for name in PAGE_ROLES if name in fields}))


class NormalisePipeline:
    """Canonical URL and clean whitespace for every article, before any judgement."""

    def process_item(self, item):
        from itemadapter import ItemAdapter  # imports Scrapy: not at module level (the extraction workers)

        normalise_fields(ItemAdapter(item))
        return item
