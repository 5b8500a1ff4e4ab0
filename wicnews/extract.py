"""Article extraction: one pure function from response bytes to text and metadata.

``extract_article(body, url, headers)`` decodes the bytes (trusting the declared charset
only as far as the bytes agree), reads the metadata a news page declares (canonical link,
publication time, language) and lets trafilatura find the main text, title, authors, site
name, description, image and tags. It never touches the network and holds no state, so it
can move to a process pool unchanged.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from typing import Mapping
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import lxml.html
import trafilatura
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom, resolve_encoding

from wicnews.errors import PageError

CHINA_TZ = ZoneInfo("Asia/Shanghai")

# Content types that can hold an article page; anything else is rejected before parsing.
_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml")
# Leading bytes of common binary formats served with a wrong or missing Content-Type.
_BINARY_MAGIC = (b"%PDF", b"PK\x03\x04", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\x1f\x8b", b"RIFF", b"\x00\x00\x01\x00")

_DATE_META = (
    "article:published_time", "og:article:published_time", "og:published_time", "datepublished",
    "pubdate", "publishdate", "publish-date", "publish_date", "publication_date", "sailthru.date",
    "parsely-pub-date", "dc.date.issued", "dcterms.created", "dc.date", "date",
)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LETTER = re.compile(r"[^\W\d_]")


@dataclass
class Extracted:
    """What one page yields. Dates are timezone-aware UTC; lists are never None."""

    text: str
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    site_name: str | None = None
    language: str | None = None
    description: str | None = None
    canonical_url: str | None = None
    image: str | None = None
    tags: list[str] = field(default_factory=list)
    encoding: str = "utf-8"
    replaced_chars: int = 0
    is_amp: bool = False


# --- decoding ----------------------------------------------------------------------------

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

    Order: BOM, HTTP charset, ``<meta>`` charset, then UTF-8, GB18030 and a statistical
    guess. The first declared codec that decodes cleanly wins; a declared codec that
    decodes with only a few bad bytes is kept (with U+FFFD in their place) rather than
    swapped for a guess that would garble every other character. Raises
    ``PageError("encoding")`` when nothing decodes the page.
    """
    bom_codec, bom = read_bom(body)
    if bom_codec:
        text = body[len(bom):].decode(bom_codec, "replace")
        return text, bom_codec, text.count("\ufffd")
    declared = [c for c in (_codec(http_content_type_encoding(content_type or "")),
                            _codec(html_body_declared_encoding(body[:8192]))) if c]
    declared = list(dict.fromkeys(declared))
    for codec in declared:
        try:
            return body.decode(codec), codec, 0
        except UnicodeDecodeError:
            pass
    for codec in declared:
        text = body.decode(codec, "replace")
        bad = text.count("\ufffd")
        if bad <= max(2, max_replacement_ratio * len(text)):
            return text, codec, bad
    for codec in ("utf-8", "gb18030"):
        if codec in declared:
            continue
        try:
            return body.decode(codec), codec, 0
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(body[:200_000]).best()
    if best is not None and best.chaos < 0.1 and best.coherence > 0.2:
        codec = _codec(best.encoding) or best.encoding
        text = body.decode(codec, "replace")
        return text, codec, text.count("\ufffd")
    raise PageError("encoding", f"cannot decode the page (declared {declared or 'nothing'})")


# --- metadata the page declares ------------------------------------------------------------

def parse_datetime(value: str | None, default_tz: tzinfo = timezone.utc) -> datetime | None:
    """A date or date-time as written in pages and feeds -> aware UTC datetime, or None.
    Naive values are taken in ``default_tz``."""
    if not value:
        return None
    value = value.strip()
    dt = None
    candidate = value.replace("Z", "+00:00").replace("z", "+00:00")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*([+-]\d{2}:?\d{2})?", candidate):
        candidate = re.sub(r"\s+([+-])", r"\1", candidate)
        try:
            dt = datetime.fromisoformat(candidate)
        except ValueError:
            dt = None
    if dt is None:
        for fmt in ("%Y-%m-%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日"):
            try:
                dt = datetime.strptime(value, fmt)
                break
            except ValueError:
                continue
    if dt is None:
        try:
            dt = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=default_tz)
    if not (1990 <= dt.year <= 2100):
        return None
    return dt.astimezone(timezone.utc)


def _jsonld_objects(tree) -> list[dict]:
    found: list[dict] = []
    for node in tree.xpath('//script[@type="application/ld+json"]/text()'):
        try:
            data = json.loads(node)
        except ValueError:
            continue
        stack = [data]
        while stack:
            obj = stack.pop()
            if isinstance(obj, list):
                stack.extend(obj)
            elif isinstance(obj, dict):
                found.append(obj)
                stack.extend(v for k, v in obj.items() if k == "@graph")
    return found


def _declared_published(tree) -> str | None:
    for obj in _jsonld_objects(tree):
        if isinstance(obj.get("datePublished"), str):
            return obj["datePublished"]
    metas = {}
    for meta in tree.xpath("//meta[@content]"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        if key and key not in metas:
            metas[key] = meta.get("content")
    for key in _DATE_META:
        if metas.get(key):
            return metas[key]
    times = tree.xpath("//time[@datetime and (@pubdate or @itemprop='datePublished')]/@datetime") or tree.xpath("//article//time/@datetime")
    return times[0] if times else None


def _declared_canonical(tree, url: str) -> str | None:
    for xpath in ('//link[@rel="canonical"]/@href', '//meta[@property="og:url"]/@content'):
        hrefs = [h.strip() for h in tree.xpath(xpath) if h and h.strip()]
        if hrefs:
            return urljoin(url, hrefs[0])
    return None


def _declared_language(tree, headers: Mapping[str, str]) -> str | None:
    values = tree.xpath("/html/@lang | /html/@xml:lang")
    values += tree.xpath('//meta[translate(@http-equiv,"CONTENTLAGU","contentlagu")="content-language"]/@content')
    values += [headers.get("content-language") or ""]
    values += tree.xpath('//meta[@property="og:locale"]/@content')
    for value in values:
        tag = re.split(r"[-_,; ]", value.strip().lower())[0]
        if re.fullmatch(r"[a-z]{2,3}", tag):
            return tag
    return None


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language; Chinese script decides at once."""
    sample = text[:3000]
    letters = len(_LETTER.findall(sample))
    if not letters:
        return None
    if len(_CJK.findall(sample)) / letters > 0.3:
        return "zh"
    import py3langid

    return py3langid.classify(sample)[0]


_CJK_NAMES = re.compile(r"[\u3400-\u9fff·]{2,5}(?:\s+[\u3400-\u9fff·]{2,5})+")


def _split_names(value: str | None) -> list[str]:
    """trafilatura joins authors with "; "; Chinese bylines separate names with spaces."""
    if not value:
        return []
    names = []
    for name in (n.strip() for n in value.split(";")):
        names.extend(name.split() if _CJK_NAMES.fullmatch(name) else [name] if name else [])
    return names


# --- the one entry point -------------------------------------------------------------------

def extract_article(
    body: bytes,
    url: str,
    headers: Mapping[str, str] | None = None,
    *,
    default_tz: tzinfo | None = None,
    min_text_chars: int = 200,
    max_replacement_ratio: float = 0.01,
) -> Extracted:
    """Text and metadata of the article page ``body`` fetched from ``url``.

    ``headers`` is a lower-case-keyed mapping of response headers (content-type,
    content-language). Naive publication times are read in ``default_tz`` (the source's
    zone; for Chinese pages China time; else UTC). Raises ``PageError`` with kind
    ``empty_body``, ``not_html``, ``encoding``, ``unparsable`` or ``no_text``.
    """
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    if not body or not body.strip():
        raise PageError("empty_body", "empty response body")
    ctype = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if (ctype and not ctype.startswith(_HTML_TYPES)) or body.lstrip()[:8].startswith(_BINARY_MAGIC):
        raise PageError("not_html", f"not an HTML page ({ctype or 'binary content'})")
    html, codec, replaced = decode_html(body, headers.get("content-type"), max_replacement_ratio=max_replacement_ratio)

    try:
        tree = lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise PageError("unparsable", f"cannot parse HTML: {exc}") from exc
    canonical = _declared_canonical(tree, url)
    is_amp = tree.get("amp") is not None or tree.get("\u26a1") is not None
    published_raw = _declared_published(tree)
    declared_lang = _declared_language(tree, headers)

    doc = trafilatura.bare_extraction(
        tree, url=url, with_metadata=True, include_comments=False, favor_precision=True,
        date_extraction_params={"original_date": True, "extensive_search": False},
    )
    text = (doc.text or "") if doc is not None else ""
    if len(text.strip()) < min_text_chars:
        raise PageError("no_text", f"no article text found ({len(text.strip())} characters)")

    detected = detect_language(text)
    language = detected if detected == "zh" else (declared_lang or detected)
    tz = default_tz or (CHINA_TZ if language == "zh" else timezone.utc)
    published = parse_datetime(published_raw, tz) or parse_datetime(doc.date, tz)
    tags = [t.strip() for raw in (doc.tags or []) + (doc.categories or []) for t in re.split(r"[,;，、；]", raw or "") if t.strip()]
    if doc.title and text.startswith(doc.title + "\n"):  # the headline is metadata, not body
        text = text[len(doc.title) + 1:]
    return Extracted(
        text=text,
        title=doc.title,
        authors=_split_names(doc.author),
        published_at=published,
        site_name=doc.sitename or doc.hostname,
        language=language,
        description=doc.description,
        canonical_url=canonical,
        image=doc.image,
        tags=list(dict.fromkeys(tags)),
        encoding=codec,
        replaced_chars=replaced,
        is_amp=is_amp,
    )
