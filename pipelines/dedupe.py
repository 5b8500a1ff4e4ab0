"""Dedupe keys: the same canonical URL, or the same normalised text, is one article.

This pipeline only computes the keys; the store's unique constraints decide, across runs
and processes, with ``INSERT ... ON CONFLICT`` (the database is the arbiter).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from itemadapter import ItemAdapter

_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "‟": '"'})
_WORD = re.compile(r"\w+")
# Chinese has no spaces between words: a line break inside a sentence must not count.
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff]) (?=[\u3400-\u9fff])")


def url_key(canonical_url: str) -> str:
    """Fixed-width key of a canonical URL (URLs can outgrow index limits)."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()


def normalise_for_key(text: str) -> str:
    """The text as a comparison sees it: NFKC, case-folded, the words only, one space apart.
    Re-wrapped paragraphs, curly vs straight quotes and punctuation spacing do not count."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()
    return _CJK_GAP.sub("", " ".join(_WORD.findall(text)))


def text_key(text: str) -> str:
    """Key of an article's normalised text."""
    return hashlib.sha256(normalise_for_key(text).encode("utf-8")).hexdigest()


class DedupePipeline:
    """Stamps ``url_key`` and ``text_key`` on each article for the store to enforce."""

    def process_item(self, item):
        adapter = ItemAdapter(item)
        adapter["url_key"] = url_key(adapter["canonical_url"])
        adapter["text_key"] = text_key(adapter["text"])
        return item
