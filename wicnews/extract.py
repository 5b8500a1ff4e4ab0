"""Article extraction: one pure function from response bytes to text and metadata.

``extract_article(body, url, headers)`` decodes the bytes (``wicnews.decode``), reads the
metadata a news page declares (canonical link, language), dates the page from every
candidate (``wicnews.dating``), lets trafilatura find the main text, and settles the
headline (``wicnews.titles``) and the authors (``wicnews.authors``). It never touches the network and holds no state, so it
can move to a process pool unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import tzinfo
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html

from wicnews import authors as people
from wicnews.body import page_parts, settle_body
from wicnews.dates import guess_timezone
from wicnews.dating import date_page, page_candidates
from wicnews.decode import check_text, decode_html
from wicnews.errors import ErrorKind, PageError
from wicnews.maintext import lazy_htmldate, main_text
from wicnews.page import EXTRACTOR_VERSION, Extracted
from wicnews.titles import best_title, site_keys, title_candidates
from wicnews.urls import is_http_url, registrable_domain, same_publisher

__all__ = ["EXTRACTOR_VERSION", "Extracted", "decode_html", "detect_language", "extract_article", "split_names"]
split_names = people.split_names

# Content types that can hold an article page; anything else is rejected before parsing.
_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml")
# Leading bytes of common binary formats served with a wrong or missing Content-Type.
_BINARY_MAGIC = (b"%PDF", b"PK\x03\x04", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\x1f\x8b", b"RIFF", b"\x00\x00\x01\x00")

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
# a script body wrapped for old browsers: "//<![CDATA[ ... //]]>", "<!-- ... -->"
_JSON_WRAPPER = re.compile(r"^\s*(?://\s*)?(?:<!\[CDATA\[|<!--)|(?://\s*)?(?:\]\]>|-->)\s*$")
_LETTER = re.compile(r"[^\W\d_]")
_EDITOR_LINE = re.compile(r"^[(（\[【]?\s*(?:责任编辑|责编|编辑|校对|审核|来源)\s*[:：].{0,40}[)）\]】]?$")


# --- metadata the page declares ------------------------------------------------------------

def _jsonld_objects(tree) -> list[dict]:
    """Every JSON-LD object of the page (``@graph`` members included), in document order."""
    found: list[dict] = []

    def walk(obj: Any) -> None:
        if isinstance(obj, list):
            for item in obj:
                walk(item)
        elif isinstance(obj, dict):
            found.append(obj)
            walk(obj.get("@graph"))

    for node in tree.xpath('//script[@type="application/ld+json"]/text()'):
        try:  # strict=False: raw line breaks inside strings, as many CMSs write them
            walk(json.loads(_JSON_WRAPPER.sub("", node), strict=False))
        except ValueError:
            continue
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


def script_language(text: str) -> str | None:
    """"ja", "ko" or "zh" when East Asian script dominates ``text``: kana make it Japanese,
    hangul Korean, Han characters alone Chinese; else None."""
    sample = text[:3000]
    letters = len(_LETTER.findall(sample))
    if not letters:
        return None
    kana, hangul, han = (len(p.findall(sample)) for p in (_KANA, _HANGUL, _HAN))
    if (kana + hangul + han) / letters <= 0.3:
        return None
    if kana >= max(5, 0.05 * (kana + han)):
        return "ja"
    if hangul > han:
        return "ko"
    return "zh"


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language; East Asian script decides at once."""
    sample = text[:3000]
    if not _LETTER.search(sample):
        return None
    script = script_language(sample)
    if script:
        return script
    import py3langid

    return py3langid.classify(sample)[0]


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
    zone), else in ``guess_timezone`` (see ``wicnews.dating`` for the rules). A canonical URL
    on another registrable domain is trusted only when the page names that site as its origin
    (``_declared_origins``) or ``syndication`` (registrable domain of a publisher -> domains
    whose canonical links its pages may carry) says so; otherwise the page stands for itself
    and the claim is kept in ``canonical_claim``. Raises
    ``PageError`` with kind ``empty_body``, ``not_html``, ``encoding``, ``unparsable`` or
    ``no_text``; a ``no_text`` error carries the page's metadata (``exc.extracted``).
    """
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    if not body or not body.strip():
        raise PageError(ErrorKind.EMPTY_BODY, "empty response body")
    ctype = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if (ctype and not ctype.startswith(_HTML_TYPES)) or body.lstrip()[:8].startswith(_BINARY_MAGIC):
        raise PageError(ErrorKind.NOT_HTML, f"not an HTML page ({ctype or 'binary content'})")
    html, codec, replaced = decode_html(body, headers.get("content-type"), max_replacement_ratio=max_replacement_ratio)
    html = check_text(html)

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
    declared_lang = _declared_language(tree, headers)
    # read before trafilatura prunes the tree
    jsonld = _jsonld_objects(tree)
    date_candidates = page_candidates(tree, jsonld, url)
    titles = title_candidates(tree, jsonld, None)
    declared_authors = [people.jsonld_people(jsonld), _meta_authors(tree)]
    marked_authors = people.page_bylines(tree)
    org_names = people.jsonld_publishers(jsonld) | set(tree.xpath('//meta[@property="og:site_name"]/@content'))
    parts = page_parts(tree, html, url, jsonld)

    host = urlsplit(url).hostname or ""

    def authors_declared(site_name: str | None) -> bool:
        """Whether the page's declared authors (trusted before trafilatura's byline search) name
        people, judged against the organisations the final choice below knows."""
        orgs = org_names | {site_name or "", host, host.removeprefix("www.")}
        return all(people.people(declared_authors, orgs, split_cjk=cjk) for cjk in (True, False))

    doc = main_text(tree, url, authors_declared)
    text = settle_body((doc.text or "") if doc is not None else "", parts)
    title = best_title(titles + [("trafilatura", doc.title if doc is not None else None)],
                       site_keys(url, org_names | {doc.sitename or ""} if doc is not None else org_names))
    language = _language(title or "", text, declared_lang)
    dating = date_page(date_candidates, lazy_htmldate(tree, doc.url) if doc is not None else None,
                       default_tz or guess_timezone(url, language), html=html)
    cn_authors, editors, origin = people.chinese_credits(text) if language == "zh" else ([], [], None)
    text = _strip_edges(text, doc.title if doc is not None else None, title)
    org_names |= {doc.sitename} if doc is not None and doc.sitename else set()
    org_names |= {host, host.removeprefix("www.")}
    found_authors = people.people(
        [*declared_authors, doc.author if doc is not None else None, marked_authors, "、".join(cn_authors)],
        org_names, split_cjk=language == "zh")
    tags = [t.strip() for raw in ((doc.tags or []) + (doc.categories or []) if doc is not None else [])
            for t in re.split(r"[,;，、；]", raw or "") if t.strip()]
    page = Extracted(
        text=text,
        title=title,
        authors=found_authors,
        published_at=dating.published_at,
        published_precision=dating.published_precision,
        published_offset=dating.published_offset,
        published_source=dating.published_source,
        modified_at=dating.modified_at,
        site_name=(doc.sitename if doc is not None else None) or (urlsplit(url).hostname or "").removeprefix("www.") or None,
        language=language,
        description=doc.description if doc is not None else None,
        canonical_url=canonical,
        image=doc.image if doc is not None else None,
        tags=list(dict.fromkeys(tags)),
        encoding=codec,
        replaced_chars=replaced,
        is_amp=is_amp,
        canonical_claim=claim,
        editors=editors,
        origin=origin,
    )
    if len(text.strip()) < min_text_chars:  # refused, but with what was read (a stub keeps its date)
        raise PageError(ErrorKind.NO_TEXT, f"no article text found ({len(text.strip())} characters)", extracted=page)
    return page


def _language(title: str, text: str, declared: str | None) -> str | None:
    """The script decides Chinese, Japanese and Korean (a Japanese page declared ``zh`` is
    Japanese); otherwise the page's declaration, else a statistical guess."""
    script = script_language(title + "\n" + text)
    if script:
        return script
    if declared in ("zh", "ja", "ko"):  # declared East Asian, written in another script
        declared = None
    return declared or detect_language(text)


def _strip_edges(text: str, *titles: str | None) -> str:
    """The body without the headline at its head and credit lines ("(责编：赵喆)") at its tail."""
    for title in titles:
        if title and text.startswith(title + "\n"):  # the headline is metadata, not body
            text = text[len(title) + 1:]
            break
    lines = text.rstrip().split("\n")
    while len(lines) > 1 and _EDITOR_LINE.match(lines[-1].strip()):
        lines.pop()
    return "\n".join(lines)


def _meta_authors(tree) -> str | None:
    values = tree.xpath('//meta[@name="author" or @name="Author" or @property="article:author"]/@content')
    values = [v for v in values if v.strip() and "://" not in v]
    if not values:
        values = [people.inverted(v) for v in tree.xpath('//meta[@name="citation_author" or @name="dc.creator"]/@content')]
    return "; ".join(v for v in values if v.strip()) or None
