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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
import trafilatura
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

from wicnews.dates import guess_timezone, published_time
from wicnews.errors import ErrorKind, PageError
from wicnews.urls import is_http_url, registrable_domain, same_publisher

# Content types that can hold an article page; anything else is rejected before parsing.
_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml")
# Leading bytes of common binary formats served with a wrong or missing Content-Type.
_BINARY_MAGIC = (b"%PDF", b"PK\x03\x04", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\x1f\x8b", b"RIFF", b"\x00\x00\x01\x00")

_DATE_META = (
    "article:published_time", "og:article:published_time", "og:published_time", "datepublished",
    "pubdate", "publishdate", "publish-date", "publish_date", "publication_date", "sailthru.date",
    "parsely-pub-date", "dc.date.issued", "dcterms.created", "dc.date", "date",
)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Control characters (C0 but tab and line breaks, DEL, C1): never text. Vertical tab and
# form feed become spaces; the others are dropped before parsing.
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_CONTROL_SPACES = re.compile(r"[\x0b\x0c]")
# Above this share of control and replacement characters, a body is not text (``encoding``).
MAX_CONTROL_RATIO = 0.2
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
    canonical_claim: str | None = None  # a canonical URL on another site, not trusted (see extract_article)
    published_precision: str | None = None  # "zone" (an instant), "local" (no zone given) or "date" (day only)


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


def _single_byte(codec: str) -> bool:
    """True for a codec that maps every byte to a character (latin-1, cp1252, koi8-r...):
    any bytes decode in it, so a clean decode is no evidence."""
    if codec.replace("_", "-") in ("utf-8", "utf-8-sig"):
        return False
    return len(bytes(range(0x80, 0x100)).decode(codec, "replace")) == 128


def strip_controls(text: str) -> str:
    """``text`` without control characters (vertical tab and form feed become spaces)."""
    return CONTROL_CHARS.sub("", _CONTROL_SPACES.sub(" ", text))


def decode_html(body: bytes, content_type: str | None = None, *, max_replacement_ratio: float = 0.01) -> tuple[str, str, int]:
    """Decode a page: ``(text, codec, replaced_chars)``.

    Order: BOM, HTTP charset, ``<meta>`` charset, then UTF-8, then a statistical guess
    (charset_normalizer: GB18030, Big5, Shift_JIS, ...). The first declared codec that
    decodes cleanly wins, except that the bytes decide over a single-byte declaration
    (iso-8859-1 decodes anything): a clean multi-byte decode (a declared GB18030, or
    UTF-8) of a non-ASCII body comes first; a declared codec that decodes with only a few bad bytes is kept
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


# --- metadata the page declares ------------------------------------------------------------

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


def _declared_published(tree) -> list[str]:
    """Publication times the page declares, most trusted first: JSON-LD, meta tags, <time>."""
    found = [obj["datePublished"] for obj in _jsonld_objects(tree) if isinstance(obj.get("datePublished"), str)]
    metas: dict[str, str] = {}
    for meta in tree.xpath("//meta[@content]"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        if key and key not in metas:
            metas[key] = meta.get("content")
    found += [metas[key] for key in _DATE_META if metas.get(key)]
    found += tree.xpath("//time[@datetime and (@pubdate or @itemprop='datePublished')]/@datetime")
    found += tree.xpath("//article//time/@datetime")
    return found


def _declared_canonical(tree, url: str) -> str | None:
    for xpath in ('//link[@rel="canonical"]/@href', '//meta[@property="og:url"]/@content'):
        hrefs = [h.strip() for h in tree.xpath(xpath) if h and h.strip()]
        if hrefs:
            return urljoin(url, hrefs[0])
    return None


def _declared_origins(tree, url: str) -> list[str]:
    """Where the page says its text was first published: ``<meta name="syndication-source">``,
    ``<meta name="original-source">``, ``<link rel="original-source">``, JSON-LD ``isBasedOn``."""
    found = tree.xpath('//meta[@name="syndication-source" or @name="original-source"]/@content')
    found += tree.xpath('//link[@rel="original-source"]/@href')
    found += [o["isBasedOn"] for o in _jsonld_objects(tree) if isinstance(o.get("isBasedOn"), str)]
    return [urljoin(url, u.strip()) for u in found if u and u.strip()]


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
_ROLE = re.compile(r"^(?:by|本报记者|记者|编辑|责编|责任编辑|作者|通讯员|实习生|撰文|文)\s*[:：]?\s*", re.IGNORECASE)
_EDITOR_LINE = re.compile(r"^[(（\[【]?\s*(?:责任编辑|责编|编辑|校对|审核|来源)\s*[:：].{0,40}[)）\]】]?$")


def split_names(value: str | None) -> list[str]:
    """Author names from a byline or metadata value: "A; B", "A and B", "A, B" (full names),
    "王喆、李堃", "记者 王喆 李堃"; role words such as "By" and "记者" dropped."""
    if not value:
        return []
    names: list[str] = []
    value = re.sub(r"\S+://\S*", " ", value)
    for part in re.split(r"[;；、，|/&]|\s+and\s+|\s+和\s+", value):
        part = _ROLE.sub("", part.strip()).strip()
        if not part:
            continue
        if "," in part and all(len(p.split()) >= 2 for p in part.split(",")):
            names.extend(p.strip() for p in part.split(","))  # "Ben Jiang, Coco Feng", not "Jiang, Ben"
        elif _CJK_NAMES.fullmatch(part):
            names.extend(part.split())
        else:
            names.append(part)
    return list(dict.fromkeys(n for n in names if n))


def _declared_authors(tree) -> str | None:
    """Authors from JSON-LD and <meta name=author>, for pages trafilatura finds none on."""
    for obj in _jsonld_objects(tree):
        author = obj.get("author")
        people = author if isinstance(author, list) else [author]
        names = [n for n in (p.get("name") if isinstance(p, dict) else p for p in people)
                 if isinstance(n, str) and n.strip()]
        if names:
            return "; ".join(names)
    values = tree.xpath('//meta[@name="author" or @name="Author" or @property="article:author"]/@content')
    values = [v for v in values if v.strip() and "://" not in v]
    return "; ".join(values) or None


# --- the one entry point -------------------------------------------------------------------

def extract_article(
    body: bytes,
    url: str,
    headers: Mapping[str, str] | None = None,
    *,
    default_tz: tzinfo | None = None,
    min_text_chars: int = 200,
    max_replacement_ratio: float = 0.01,
    syndication: Mapping[str, Iterable[str]] | None = None,
) -> Extracted:
    """Text and metadata of the article page ``body`` fetched from ``url``.

    ``headers`` is a lower-case-keyed mapping of response headers (content-type,
    content-language). Naive publication times are read in ``default_tz`` (the source's
    zone), else in ``guess_timezone``; a time that states its zone wins over a naive one.
    A canonical URL on another registrable domain is trusted only when the page names that
    site as its origin (``_declared_origins``) or ``syndication`` (registrable domain of a
    publisher -> domains whose canonical links its pages may carry) says so; otherwise the
    page stands for itself and the claim is kept in ``canonical_claim``. Raises ``PageError`` with kind
    ``empty_body``, ``not_html``, ``encoding``, ``unparsable`` or ``no_text``.
    """
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    if not body or not body.strip():
        raise PageError(ErrorKind.EMPTY_BODY, "empty response body")
    ctype = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if (ctype and not ctype.startswith(_HTML_TYPES)) or body.lstrip()[:8].startswith(_BINARY_MAGIC):
        raise PageError(ErrorKind.NOT_HTML, f"not an HTML page ({ctype or 'binary content'})")
    html, codec, replaced = decode_html(body, headers.get("content-type"), max_replacement_ratio=max_replacement_ratio)
    junk = len(CONTROL_CHARS.findall(html)) + html.count("\ufffd")
    if junk > MAX_CONTROL_RATIO * len(html):
        raise PageError(ErrorKind.ENCODING, f"not text: {junk} of {len(html)} characters are control or replacement characters")
    html = strip_controls(html)

    html = _XML_DECLARATION.sub("", html, count=1)  # lxml refuses str input that declares an encoding
    try:
        tree = lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise PageError(ErrorKind.UNPARSABLE, f"cannot parse HTML: {exc}") from exc
    canonical, claim = _declared_canonical(tree, url), None
    if canonical and is_http_url(canonical):
        related = _declared_origins(tree, url) + list((syndication or {}).get(registrable_domain(urlsplit(url).hostname), ()))
        if not same_publisher(url, canonical, related):
            canonical, claim = None, canonical
    is_amp = tree.get("amp") is not None or tree.get("\u26a1") is not None
    published_values = _declared_published(tree)
    declared_lang = _declared_language(tree, headers)
    declared_authors = _declared_authors(tree)  # read before trafilatura prunes the tree

    doc: Any = trafilatura.bare_extraction(
        tree, url=url, with_metadata=True, include_comments=False, favor_precision=True,
        date_extraction_params={"original_date": True, "extensive_search": False},
    )
    text = (doc.text or "") if doc is not None else ""
    if len(text.strip()) < min_text_chars:
        raise PageError(ErrorKind.NO_TEXT, f"no article text found ({len(text.strip())} characters)")

    detected = detect_language(text)
    language = detected if detected == "zh" else (declared_lang or detected)
    published, precision = published_time(published_values + [doc.date or ""],
                                           default_tz or guess_timezone(url, language))
    tags = [t.strip() for raw in (doc.tags or []) + (doc.categories or [])
            for t in re.split(r"[,;，、；]", raw or "") if t.strip()]
    if doc.title and text.startswith(doc.title + "\n"):  # the headline is metadata, not body
        text = text[len(doc.title) + 1:]
    lines = text.rstrip().split("\n")
    while len(lines) > 1 and _EDITOR_LINE.match(lines[-1].strip()):  # "(责编：赵喆、孙婧)" is not body
        lines.pop()
    text = "\n".join(lines)
    return Extracted(
        text=text,
        title=doc.title,
        authors=split_names(doc.author) or split_names(declared_authors),
        published_at=published,
        published_precision=precision,
        site_name=doc.sitename or doc.hostname or (urlsplit(url).hostname or "").removeprefix("www.") or None,
        language=language,
        description=doc.description,
        canonical_url=canonical,
        image=doc.image,
        tags=list(dict.fromkeys(tags)),
        encoding=codec,
        replaced_chars=replaced,
        is_amp=is_amp,
        canonical_claim=claim,
    )
