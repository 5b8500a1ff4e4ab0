"""Dedupe: one article, whatever number of URLs and copies it was found under.

Exact: the same canonical URL (``wicnews.urls.url_key``) or the same normalised text (``text_key``) is
one article; the store's unique constraints decide, across runs and processes, with
``INSERT ... ON CONFLICT`` (the database is the arbiter).

Near: a copy that differs by a few lines (a syndication note, a dropped paragraph, another
headline in the body, another site template) has other keys. Its MinHash signature
(one-permutation hashing with rotation densification: one hash per shingle, not one per
shingle and permutation) shares LSH bands with the original's: 32 bands of 2 rows, so that
texts from a Jaccard similarity of about 0.3 become candidates. The store looks candidates
up by band and confirms with ``resemblance`` (``WICNEWS_NEAR_DUP_THRESHOLD``): the Jaccard
similarity of the two texts' 4-token shingles, or, for a copy that dropped paragraphs or
gained credit and template lines, their containment, when the paragraphs say it is a copy
(see ``resemblance``). Two stories sharing one boilerplate paragraph, two reports of one
event and an update of a story stay apart.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import itertools
import operator
import re
import struct
from collections.abc import Iterable, MutableMapping
from typing import Any

from wicnews.normalise import nfkc
from wicnews.urls import url_key

_QUOTE_PAIRS = (("‘", "'"), ("’", "'"), ("‚", "'"), ("‛", "'"), ("“", '"'), ("”", '"'), ("„", '"'), ("‟", '"'))
_WORD = re.compile(r"\w+")
_CJK = "\u3400-\u9fff\uf900-\ufaff"
# Chinese has no spaces between words: a line break inside a sentence must not count.
_CJK_GAP = re.compile(rf"(?<=[{_CJK}]) (?=[{_CJK}])")
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")
_CJK_CHAR = re.compile(rf"[{_CJK}]")

SHINGLE = 4            # tokens per shingle
SLOTS = 64             # MinHash signature length (one-permutation hashing bins)
ROWS = 2               # signature rows per LSH band: 32 bands, pairs from J ~ 0.3 become candidates
PARAGRAPH_WORDS = 20   # a substantial paragraph (a Chinese character counts half a word)
FOUND = 0.8            # a paragraph is found in a text holding this share of its shingles
COPY_PARAGRAPHS = 0.6  # a copy: this share of one text's substantial paragraphs found in the other
COPY_CONTAINMENT = 0.5  # ... and this share of the smaller shingle set in the larger
_EMPTY = 1 << 64


def normalise_for_key(text: str) -> str:
    """The text as a comparison sees it: NFKC, case-folded, the words only, one space apart.
    Re-wrapped paragraphs, curly vs straight quotes and punctuation spacing do not count."""
    text = nfkc(text)
    if not text.isascii():
        for curly, straight in _QUOTE_PAIRS:  # str.translate(_QUOTES), without its slow per-character lookups
            if curly in text:
                text = text.replace(curly, straight)
    words = " ".join(_WORD.findall(text.casefold()))
    return words if words.isascii() else _CJK_GAP.sub("", words)


def text_key(text: str) -> str:
    """Key of an article's normalised text."""
    return _sha256(normalise_for_key(text))


def _sha256(words: str) -> str:
    return hashlib.sha256(words.encode("utf-8")).hexdigest()


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
    return set(_hashes(normalise_for_key(text)))


def _hashes(words: str) -> tuple[int, ...]:
    """The ``shingles`` of a normalised text, in its order (a repeated shingle repeats): each
    shingle's tokens joined by ``\\x1f``, hashed by BLAKE2b (8 bytes, big-endian). Stored in
    the database through the bands: the same for ever."""
    if words.isascii() or not _CJK_CHAR.search(words):  # the tokens are the words, one space apart
        tokens = words.encode("utf-8").split(b" ") if words else []
    else:  # a token never holds \x1f: split the encoded join, so that all are encoded at once
        found = _TOKEN.findall(words)
        tokens = "\x1f".join(found).encode("utf-8").split(b"\x1f") if found else []
    if len(tokens) < SHINGLE:
        tokens = tokens + [b""] * (SHINGLE - len(tokens)) if tokens else []
    return _blake64(list(map(b"\x1f".join, zip(*(tokens[i:] for i in range(SHINGLE))))))


_BLAKE = hashlib.blake2b(digest_size=8)
_COPY, _UPDATE, _DIGEST = type(_BLAKE).copy, type(_BLAKE).update, type(_BLAKE).digest


def _blake64(data: list[bytes]) -> tuple[int, ...]:
    """``int.from_bytes(blake2b(d, digest_size=8).digest(), "big")`` of each of ``data``,
    each step mapped over all of them at once."""
    hashers = list(map(_COPY, itertools.repeat(_BLAKE, len(data))))
    collections.deque(map(_UPDATE, hashers, data), maxlen=0)
    return struct.unpack(f">{len(hashers)}Q", b"".join(map(_DIGEST, hashers)))


def similarity(a: set[int], b: set[int]) -> float:
    """Jaccard similarity of two shingle sets."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


class Fingerprint:
    """What ``resemblance`` compares: the text's 4-token shingles and, when needed, those of
    each of its substantial lines (paragraphs of at least ``PARAGRAPH_WORDS`` words; short
    lines are credits, headlines, share buttons and other template lines). The shingles are
    hashed with Python's ``hash`` (fast, but per process): they are compared, never stored."""

    def __init__(self, text: str):
        self._lines = [_TOKEN.findall(normalise_for_key(line)) for line in text.splitlines()]
        self.shingles = _fast_shingles([token for line in self._lines for token in line])

    @functools.cached_property
    def paragraphs(self) -> tuple[frozenset[int], ...]:
        return tuple(_fast_shingles(tokens) for tokens in self._lines
                     if len(tokens) - sum(1 for t in tokens if _CJK_CHAR.match(t)) / 2 >= PARAGRAPH_WORDS)


def _fast_shingles(tokens: list[str]) -> frozenset[int]:
    if 0 < len(tokens) < SHINGLE:
        tokens = tokens + [""] * (SHINGLE - len(tokens))
    return frozenset(map(hash, zip(*(tokens[i:] for i in range(SHINGLE)))))


def fingerprint(text: str) -> Fingerprint:
    """The ``Fingerprint`` of a text."""
    return Fingerprint(text)


def _found(paragraphs: tuple[frozenset[int], ...], other: frozenset[int]) -> int:
    return sum(1 for p in paragraphs if p and len(p & other) >= FOUND * len(p))


def resemblance(a: Fingerprint, b: Fingerprint) -> float:
    """How much two texts are one article, from 0 to 1 (a near-duplicate from
    ``WICNEWS_NEAR_DUP_THRESHOLD``, 0.75): their Jaccard similarity; or, when one text is a
    copy of the other that dropped paragraphs or gained lines (at least two, and at least
    ``COPY_PARAGRAPHS``, of one text's substantial paragraphs found in the other, and the
    containment ``|A & B| / min(|A|, |B|)`` at least ``COPY_CONTAINMENT``), ``(1 +
    containment) / 2``, which is at least 0.75. Counting paragraphs, not words, keeps two
    stories sharing one long boilerplate paragraph apart; an update that rewrote most
    paragraphs stays apart too."""
    if not a.shingles or not b.shingles:
        return 0.0
    common = len(a.shingles & b.shingles)
    jaccard = common / (len(a.shingles) + len(b.shingles) - common)
    containment = common / min(len(a.shingles), len(b.shingles))
    if containment < COPY_CONTAINMENT:
        return jaccard
    for mine, other in ((a.paragraphs, b.shingles), (b.paragraphs, a.shingles)):
        found = _found(mine, other)
        if found >= 2 and found >= COPY_PARAGRAPHS * len(mine):
            return max(jaccard, (1 + containment) / 2)
    return jaccard


def minhash(shingle_set: Iterable[int]) -> list[int]:
    """MinHash signature by one-permutation hashing: each (already uniformly hashed) shingle
    falls in bin ``h % SLOTS``; a bin keeps its least ``h // SLOTS``. An empty bin borrows
    from the next non-empty one to its right, marked by the distance (rotation
    densification), so two texts agree on a bin with probability close to their Jaccard
    similarity."""
    ordered = sorted(shingle_set, reverse=True)  # the least hash of a bin is written last
    if not ordered:
        return []
    least = dict(zip(map(operator.mod, ordered, itertools.repeat(SLOTS)), ordered))
    if len(least) == SLOTS:
        return [least[i] // SLOTS for i in range(SLOTS)]
    signature = []
    for i in range(SLOTS):
        for distance in range(SLOTS):
            h = least.get((i + distance) % SLOTS)
            if h is not None:
                signature.append(h // SLOTS + distance * _EMPTY)
                break
    return signature


def bands(text: str) -> list[str]:
    """LSH band keys of a text (``"<band>:<hash>"``); texts sharing one are candidates."""
    return _bands(_hashes(normalise_for_key(text)))


def _bands(hashes: Iterable[int]) -> list[str]:
    signature = minhash(hashes)
    keys = []
    for band in range(len(signature) // ROWS):
        rows = signature[band * ROWS:(band + 1) * ROWS]
        digest = hashlib.blake2b(b"".join(v.to_bytes(16, "big") for v in rows), digest_size=8).hexdigest()
        keys.append(f"{band:02d}:{digest}")
    return keys


def text_keys(text: str) -> tuple[str, list[str]]:
    """``(text_key(text), bands(text))``, the text normalised once."""
    words = normalise_for_key(text)
    return _sha256(words), _bands(_hashes(words))


def key_fields(fields: MutableMapping[str, Any]) -> None:
    """Stamp an item's ``url_key``, ``title_key``, ``text_key`` and ``bands`` in place (an
    ``ItemAdapter``, or ``vars(item)``); the text's keys are kept when an extraction worker
    made them already (the same text)."""
    fields["url_key"] = url_key(fields["canonical_url"])
    fields["title_key"] = title_key(fields.get("title"))
    if fields.get("text_status") == "stub":  # no text: keyed by its URL, never near anything
        fields["text_key"], fields["bands"] = stub_text_key(fields["url_key"]), []
        return
    fields["text_status"] = "full"
    if not fields.get("text_key"):
        fields["text_key"], fields["bands"] = text_keys(fields["text"])


class DedupePipeline:
    """Stamps ``url_key``, ``text_key`` and the LSH ``bands`` on each article; the store
    enforces them."""

    def process_item(self, item):
        from itemadapter import ItemAdapter  # imports Scrapy: not at module level (the extraction workers)

        key_fields(ItemAdapter(item))
        return item
