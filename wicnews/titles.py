"""The headline of an article page, without site names, sections or separators.

Rules:

1. Candidates: JSON-LD ``headline``, ``og:title``, ``twitter:title``, the ``<h1>`` elements,
   ``<title>``, and trafilatura's title; each is unescaped, whitespace-collapsed, and freed
   of soft hyphens, zero-width characters and UTF-8 read as Latin-1 ("fÃ¼r" -> "für").
2. Each is cleaned: segments split off by a separator (`` | ``, `` - ``, `` – ``, `` — ``,
   `` · ``, `` * ``, ``｜``, ``ㅣ``, a final ``：``) are dropped from either end while they
   name the site (``og:site_name``, the JSON-LD publisher, the host's labels), are a date, or
   are a short section word sitting next to the site name ("… - National | Global").
3. The headline is the cleaned ``og:title``: the publisher's own choice of the article's title
   for sharing, without the kicker the page's ``<h1>`` or JSON-LD often prepend. Without a
   usable ``og:title``, the cleaned value most candidates agree on; ties go to the first in
   the order above, an ``<h1>`` counting only when another candidate agrees with it (pages put
   kickers, teasers and site logos in ``<h1>``).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import Counter
from urllib.parse import urlsplit

_SEPARATORS = re.compile(r"\s+[|\-–—·*»:]\s+|\s*[｜ㅣ|]\s*|\s*[：]\s*(?=[^：]{1,20}$)|(?<=[^\s\d])-(?=[^\s\-]{1,12}ㅣ)")
_INVISIBLE = re.compile(r"[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_DATE = re.compile(r"^\s*\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\s*$")
_BYLINE_WORDS = {"by", "von", "par", "por", "door"}
_NAME_JOINS = {"and", "und", "et", "y", "en", "&", "von", "van", "de", "der", "den", "da", "di", "du", "la", "le"}
_MOJIBAKE = re.compile(r"[ÃÂÅÄ][\u0080-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]")


def _key(text: str) -> str:
    text = text.casefold().replace("ß", "ss")
    text = unicodedata.normalize("NFKD", re.sub("([aou])\u0308", r"\1e", unicodedata.normalize("NFD", text)))
    return re.sub(r"[\W_]+", "", "".join(c for c in text if not unicodedata.combining(c)))


def tidy(text: str | None) -> str:
    """A title as a reader sees it: entities decoded, invisible characters gone, one line."""
    if not text:
        return ""
    text = html.unescape(html.unescape(text))
    if _MOJIBAKE.search(text):
        for codec in ("cp1252", "latin-1"):
            try:
                text = text.encode(codec).decode("utf-8")
                break
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue
    return re.sub(r"\s+", " ", _INVISIBLE.sub("", text)).strip()


def site_keys(url: str, names: set[str]) -> set[str]:
    """Comparable forms of the site's names: declared names and the host's labels."""
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    keys = {_key(n) for n in names if n and len(n.split()) <= 6}  # a "site name" that is a headline is not one
    keys |= {_key(host), _key(host.split(".")[0])}
    labels = host.split(".")
    keys |= {_key(".".join(labels[i:])) for i in range(len(labels) - 1)}
    return {k for k in keys if len(k) >= 2}


def _is_site(segment: str, keys: set[str]) -> bool:
    key = _key(segment)
    if not key:
        return True
    if _DATE.match(segment) or _is_byline(segment):
        return True
    short = len(segment.split()) <= 5
    return key in keys or any(len(k) >= 3 and (k in key or (key in k and len(key) >= 3)) and short for k in keys)


def _names_the_site(value: str, keys: set[str]) -> bool:
    key = _key(value)
    return not key or key in keys or any(len(key) >= 3 and key in k for k in keys)


def _is_byline(segment: str) -> bool:
    """"By Jane Doe", "Von Anna Muster und Max Beispiel": a role word, then only names (a
    headline such as "Von München bis Aachen: …" is not a byline)."""
    words = segment.replace(",", " ").split()
    if len(words) < 2 or len(words) > 8 or words[0].casefold() not in _BYLINE_WORDS:
        return False
    names = [w for w in words[1:] if w.casefold() not in _NAME_JOINS]
    return bool(names) and all(w[:1].isupper() and not w.endswith(":") for w in names)


def clean_title(title: str | None, keys: set[str]) -> str:
    """``title`` without the site name, sections and dates it is decorated with."""
    title = tidy(title)
    if not title:
        return ""
    parts = _SEPARATORS.split(title)
    seps = _SEPARATORS.findall(title)
    if len(parts) == 1:
        return title
    # drop site segments from the end, then a short section word left beside them
    dropped = False
    while len(parts) > 1 and _is_site(parts[-1], keys):
        parts.pop()
        seps.pop()
        dropped = True
    if dropped and len(parts) > 1 and len(parts[-1].split()) <= 2 and seps[-1].strip() in ("-", "|", "–", "—", "ㅣ", "-"):
        parts.pop()
        seps.pop()
    while len(parts) > 1 and _is_site(parts[0], keys):
        parts.pop(0)
        seps.pop(0)
    out = parts[0]
    for sep, part in zip(seps, parts[1:], strict=True):
        out += sep + part
    return out.strip()


def best_title(candidates: list[tuple[str, str | None]], keys: set[str]) -> str | None:
    """The headline from ``(kind, value)`` candidates in trust order (see the module rules)."""
    cleaned = [(kind, clean_title(value, keys)) for kind, value in candidates]
    # a whole candidate is dropped only when it IS the site's name (or a part of it), not when
    # it merely contains it: "Robots host story" on robots.example.com is a headline
    cleaned = [(kind, value) for kind, value in cleaned if value and not _names_the_site(value, keys)]
    if not cleaned:
        return None
    declared = next((value for kind, value in cleaned if kind == "og"), None)
    if declared:
        return declared
    votes = Counter(_key(value) for kind, value in cleaned)
    best_value, best_votes = None, 0
    for kind, value in cleaned:
        n = votes[_key(value)]
        if kind == "h1" and n < 2:
            continue
        if n > best_votes:
            best_value, best_votes = value, n
    if best_value is None:
        best_value = next((value for kind, value in cleaned if kind != "h1"), cleaned[0][1])
    return best_value


def title_candidates(tree, jsonld: list[dict], fallback: str | None) -> list[tuple[str, str | None]]:
    """``(kind, value)`` title candidates of a parsed page, in trust order."""
    def meta(*names: str) -> str | None:
        for name in names:
            values = tree.xpath(f'//meta[@property="{name}" or @name="{name}"]/@content')
            if values and values[0].strip():
                return values[0]
        return None

    found: list[tuple[str, str | None]] = []
    for obj in jsonld:
        if isinstance(obj.get("headline"), str):
            found.append(("jsonld", obj["headline"]))
            break
    found.append(("og", meta("og:title")))
    found.append(("twitter", meta("twitter:title")))
    for h1 in tree.xpath("//h1")[:3]:
        found.append(("h1", h1.text_content()))
    titles = tree.xpath("//title")
    found.append(("title", titles[0].text_content() if titles else None))
    found.append(("trafilatura", fallback))
    return [(k, v) for k, v in found if v and v.strip()]
