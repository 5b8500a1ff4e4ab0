"""How a fetched page's bytes are compressed for ``raw_pages`` (``wicnews.db.raw``).

Light on purpose: the extraction workers compress each page (``wicnews.articles.crawled_page``)
without loading SQLAlchemy.
"""

from __future__ import annotations

import functools
import gzip
from typing import Any


@functools.cache
def _zstd() -> Any:
    """The standard library's zstd module (3.14+), or None (looked for once, not on every page)."""
    try:
        from compression import zstd  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return zstd


def compress(body: bytes) -> tuple[str, bytes]:
    """``(compression, data)``: zstd when the standard library has it (3.14+), else gzip."""
    zstd = _zstd()
    if zstd is not None:
        return "zstd", zstd.compress(body)
    return "gzip", gzip.compress(body, compresslevel=3)


def decompress(compression: str, data: bytes) -> bytes:
    if compression == "zstd":
        from compression import zstd

        return zstd.decompress(data)
    return gzip.decompress(data)
