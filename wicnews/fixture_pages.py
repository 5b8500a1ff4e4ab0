"""What the fixture server sends besides the files: content types, the 404 page, and a
generated page of any size (for size-limit tests)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

CHUNK = 64 * 1024

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".rdf": "application/rdf+xml",
    ".gz": "application/gzip",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".md": "text/markdown; charset=utf-8",
    ".json": "application/json",
    ".css": "text/css",
    ".js": "application/javascript",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"

_FILLER_HEAD = (
    b"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    b"<title>Huge page</title></head><body>\n"
)
_FILLER_UNIT = b"<p>filler</p>\n"
_FILLER_TAIL = b"</body></html>\n"


def content_type(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix.lower(), DEFAULT_CONTENT_TYPE)


def not_found_body() -> bytes:
    return (
        "<!DOCTYPE html><html><head><title>404 Not Found</title></head>"
        "<body><h1>404 Not Found</h1><p>No such page.</p></body></html>\n"
    ).encode("ascii")


def filler_chunks(size: int) -> Iterator[bytes]:
    """Yield an HTML page of exactly ``size`` bytes (at least head + tail) in chunks."""
    room = max(0, size - len(_FILLER_HEAD) - len(_FILLER_TAIL))
    units, pad = divmod(room, len(_FILLER_UNIT))
    yield _FILLER_HEAD
    per_chunk = max(1, CHUNK // len(_FILLER_UNIT))
    while units > 0:
        n = min(units, per_chunk)
        yield _FILLER_UNIT * n
        units -= n
    if pad:
        yield b" " * pad
    yield _FILLER_TAIL


def filler_length(size: int) -> int:
    return max(size, len(_FILLER_HEAD) + len(_FILLER_TAIL))
