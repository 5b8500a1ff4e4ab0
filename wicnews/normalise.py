"""Unicode forms of an article's text shared by the pure steps that compare it.

``nfkc``: the text as relevance (``wicnews.relevance.normalise``) and the dedupe keys
(``wicnews.pipelines.dedupe.normalise_for_key``) see it, full-width letters and digits made
ASCII and compatibility forms folded. The item pipelines ask for the same title and text one
after the other: the last few results are kept.
"""

from __future__ import annotations

import functools
import unicodedata


@functools.lru_cache(maxsize=8)
def nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``."""
    return unicodedata.normalize("NFKC", text)
