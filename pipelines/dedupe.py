"""Dedupe: one article, whatever number of URLs and copies it was found under.

Exact: the same canonical URL (``wicnews.urls.url_key``) or the same normalised text (``text_key``) is
one article; the store's unique constraints decide, across runs and processes, with
``INSERT ... ON CONFLICT`` (the database is the arbiter).

Near: a copy that differs by a few lines (a syndication note, a dropped paragraph, another
headline in the body) has other keys. Its MinHash signature (one-permutation hashing with
rotation densification: one hash per shingle, not one per shingle and permutation) shares
LSH bands with the original's; the store looks candidates up by band and confirms with
the Jaccard similarity of the two texts' 4-token shingles (``WICNEWS_NEAR_DUP_THRESHOLD``).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from itemadapter import ItemAdapter

from wicnews.urls import url_key

_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "‟": '"'})
_WORD = re.compile(r"\w+")
_CJK = "\u3400-\u9fff\uf900-\ufaff"
# Chinese has no spaces between words: a line break inside a sentence must not count.
_CJK_GAP = re.compile(rf"(?<=[{_CJK}]) (?=[{_CJK}])")
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")

SHINGLE = 4            # tokens per shingle
SLOTS = 64             # MinHash signature length (one-permutation hashing bins)
ROWS = 4               # signature rows per LSH band: 16 bands, pairs from J ~ 0.5 become candidates
_EMPTY = 1 << 64


def normalise_for_key(text: str) -> str:
    """The text as a comparison sees it: NFKC, case-folded, the words only, one space apart.
    Re-wrapped paragraphs, curly vs straight quotes and punctuation spacing do not count."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()
    return _CJK_GAP.sub("", " ".join(_WORD.findall(text)))


def text_key(text: str) -> str:
    """Key of an article's normalised text."""
    return hashlib.sha256(normalise_for_key(text).encode("utf-8")).hexdigest()


def title_key(title: str | None) -> str | None:
    """Key of a normalised title (as ``normalise_for_key`` sees it), by which a full article
    finds the stub of the same story; None for titles too short to name a story."""
    words = normalise_for_key(title or "")
    return hashlib.sha256(words.encode("utf-8")).hexdigest() if len(words) >= 8 else None


def stub_text_key(url_key_value: str) -> str:
    """The text key of a stub (it has no text): unique per URL, never equal to a text's."""
    return hashlib.sha256(f"stub\x00{url_key_value}".encode()).hexdigest()


def shingles(text: str) -> set[int]:
    """64-bit hashes of the text's 4-token shingles; a token is a word, or one Chinese
    character (Chinese is not written with spaces)."""
    tokens = _TOKEN.findall(normalise_for_key(text))
    if len(tokens) < SHINGLE:
        tokens = tokens + [""] * (SHINGLE - len(tokens)) if tokens else []
    return {int.from_bytes(hashlib.blake2b("\x1f".join(tokens[i:i + SHINGLE]).encode("utf-8"), digest_size=8).digest(),
                           "big") for i in range(max(0, len(tokens) - SHINGLE + 1))}


def similarity(a: set[int], b: set[int]) -> float:
    """Jaccard similarity of two shingle sets."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def minhash(shingle_set: set[int]) -> list[int]:
    """MinHash signature by one-permutation hashing: each (already uniformly hashed) shingle
    falls in bin ``h % SLOTS``; a bin keeps its least ``h // SLOTS``. An empty bin borrows
    from the next non-empty one to its right, marked by the distance (rotation
    densification), so two texts agree on a bin with probability close to their Jaccard
    similarity."""
    if not shingle_set:
        return []
    bins = [_EMPTY] * SLOTS
    for h in shingle_set:
        slot, value = h % SLOTS, h // SLOTS
        bins[slot] = min(bins[slot], value)
    signature = []
    for i in range(SLOTS):
        for distance in range(SLOTS):
            value = bins[(i + distance) % SLOTS]
            if value != _EMPTY:
                signature.append(value + distance * _EMPTY)
                break
    return signature


def bands(text: str) -> list[str]:
    """LSH band keys of a text (``"<band>:<hash>"``); texts sharing one are candidates."""
    signature = minhash(shingles(text))
    keys = []
    for band in range(len(signature) // ROWS):
        rows = signature[band * ROWS:(band + 1) * ROWS]
        digest = hashlib.blake2b(b"".join(v.to_bytes(16, "big") for v in rows), digest_size=8).hexdigest()
        keys.append(f"{band:02d}:{digest}")
    return keys


class DedupePipeline:
    """Stamps ``url_key``, ``text_key`` and the LSH ``bands`` on each article; the store
    enforces them."""

    def process_item(self, item):
        adapter = ItemAdapter(item)
        adapter["url_key"] = url_key(adapter["canonical_url"])
        adapter["title_key"] = title_key(adapter.get("title"))
        if adapter.get("text_status") == "stub":  # no text: keyed by its URL, never near anything
            adapter["text_key"], adapter["bands"] = stub_text_key(adapter["url_key"]), []
            return item
        adapter["text_status"] = "full"
        if not adapter.get("text_key"):  # else computed already, in an extraction worker (same text)
            adapter["text_key"] = text_key(adapter["text"])
            adapter["bands"] = bands(adapter["text"])
        return item
