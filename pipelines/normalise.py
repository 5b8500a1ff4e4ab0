"""Normalise articles: canonical URL (``wicnews.urls``: tracking parameters, fragments, AMP) and whitespace."""

from __future__ import annotations

import re
import unicodedata

from itemadapter import ItemAdapter

from wicnews.urls import canonicalize_url, choose_canonical

__all__ = ["NormalisePipeline", "clean_line", "clean_text"]


_SPACES = re.compile(r"[ \t\u00a0\u3000\u2000-\u200b\u202f\u205f]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def clean_text(text: str | None) -> str:
    """NFC, one space between words, one newline between paragraphs, no edge blanks."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n", "\n".join(line for line in lines if line)).strip()


def clean_line(text: str | None) -> str:
    """A single-line field (title, site name): whitespace collapsed."""
    return " ".join((text or "").split())


class NormalisePipeline:
    """Canonical URL and clean whitespace for every article, before any judgement."""

    def process_item(self, item):
        adapter = ItemAdapter(item)
        adapter["canonical_url"] = choose_canonical(adapter["url"], adapter.get("canonical_url"))
        adapter["url"] = canonicalize_url(adapter["url"])
        adapter["text"] = clean_text(adapter.get("text"))
        for field in ("title", "site_name", "description"):
            adapter[field] = clean_line(adapter.get(field)) or None
        adapter["authors"] = list(dict.fromkeys(a for a in map(clean_line, adapter.get("authors") or []) if a))
        adapter["tags"] = list(dict.fromkeys(t for t in map(clean_line, adapter.get("tags") or []) if t))
        return item
