"""Charset decoding of fetched pages: the declared charset, trusted only as far as the bytes agree.

Chinese pages often declare gb2312 but send GBK/GB18030 bytes: those codecs widen to
gb18030. Pure functions; no network.
"""

from __future__ import annotations

import codecs
import re

from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

from wicnews.errors import ErrorKind, PageError

# Control characters (C0 but tab and line breaks, DEL, C1): never text. Vertical tab and
# form feed become spaces; the others are dropped before parsing.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_CONTROL_SPACES = re.compile(r"[\x0b\x0c]")
_ANY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Above this share of control and replacement characters, a body is not text (``encoding``).
MAX_CONTROL_RATIO = 0.2


def _single_byte(codec: str) -> bool:
    """True for a codec that maps every byte to a character (latin-1, cp1252, koi8-r...):
    any bytes decode in it, so a clean decode is no evidence."""
    if codec.replace("_", "-") in ("utf-8", "utf-8-sig"):
        return False
    return len(bytes(range(0x80, 0x100)).decode(codec, "replace")) == 128


def strip_controls(text: str) -> str:
    """``text`` without control characters (vertical tab and form feed become spaces)."""
    return CONTROL_CHARS.sub("", _CONTROL_SPACES.sub(" ", text))


def check_text(html: str) -> str:
    """A decoded page as text: ``PageError(ENCODING)`` when it is mostly control or
    replacement characters, else the text without control characters."""
    if _ANY_CONTROL.search(html) is None and "\ufffd" not in html:  # the common case: one scan
        return html
    junk = len(CONTROL_CHARS.findall(html)) + html.count("\ufffd")
    if junk > MAX_CONTROL_RATIO * len(html):
        raise PageError(ErrorKind.ENCODING, f"not text: {junk} of {len(html)} characters are control or replacement characters")
    return strip_controls(html)


def _codec(name: str | None) -> str | None:
    """Python codec for a declared charset; gb2312/gbk widen to gb18030 (their superset,
    which is what Chinese sites that declare them really send)."""
    if not name:
        return None
    resolved = resolve_encoding(name.strip().strip("\"'"))
    try:
        return codecs.lookup(resolved).name if resolved else None
    except LookupError:
        return None


def decode_html(body: bytes, content_type: str | None = None, *, max_replacement_ratio: float = 0.01) -> tuple[str, str, int]:
    """Decode a page: ``(text, codec, replaced_chars)``.

    Order: BOM, HTTP charset, ``<meta>`` charset, then UTF-8, then a statistical guess
    (charset_normalizer: GB18030, Big5, Shift_JIS, ...). The first declared codec that
    decodes cleanly wins, except that the bytes decide over a single-byte declaration
    (iso-8859-1 decodes anything): a clean multi-byte decode (a declared GB18030, or UTF-8)
    of a non-ASCII body comes first; a declared codec that decodes with only a few bad bytes is kept
    (with U+FFFD in their place) rather than swapped for a guess that would garble every
    other character. Whatever the path, more than ``max_replacement_ratio`` replaced
    characters raise ``PageError(ErrorKind.ENCODING)``, as does a page nothing decodes.
    """
    def accept(text: str, codec: str) -> tuple[str, str, int] | None:
        bad = text.count("\ufffd")
        return (text, codec, bad) if bad <= max(2, max_replacement_ratio * len(text)) else None

    bom_codec, bom = read_bom(body)
    if bom_codec:
        declared, body = [bom_codec], body[len(bom or b""):]
    else:
        declared = list(dict.fromkeys(c for c in (_codec(http_content_type_encoding(content_type or "")),
                                                  _codec(html_body_declared_encoding(body[:8192]))) if c))
    candidates = declared if bom_codec else list(dict.fromkeys(declared + ["utf-8"]))
    if not body.isascii():  # stable sort: multi-byte codecs first, each group in declared order
        candidates.sort(key=_single_byte)
    for codec in candidates:  # strictly first: a clean decode is the answer
        try:
            return body.decode(codec), codec, 0
        except UnicodeDecodeError:
            pass
    for codec in declared:  # what the page declares, with a few bad bytes replaced
        result = accept(body.decode(codec, "replace"), codec)
        if result:
            return result
    if not bom_codec:
        from charset_normalizer import from_bytes

        best = from_bytes(body[:200_000]).best()
        if best is not None and best.chaos < 0.1:
            codec = _codec(best.encoding) or best.encoding
            result = accept(body.decode(codec, "replace"), codec)
            if result:
                return result
    raise PageError(ErrorKind.ENCODING, f"cannot decode the page (declared {', '.join(declared) or 'nothing'})")
