"""The article body: trafilatura's precise text, checked against what the page itself gives.

``settle_body(precise, page)`` starts from trafilatura's precise pass and, in this order:

1. **Too little text** (under ``SHORT_TEXT`` characters, e.g. a reprint notice): trafilatura
   again with ``favor_recall``; its text wins when it is at least three times longer.
2. **A body container** (exactly one ``itemprop=articleBody`` element, else exactly one
   ``<article>``) whose own precise extraction is at least ``LONGER`` times longer and covers
   ``COVER_CONTAINER`` of the text found so far: the page's markup found paragraphs the
   whole-page pass dropped.
3. **JSON-LD ``articleBody``** (markup stripped) at least ``LONGER`` times longer and covering
   ``COVER_JSONLD`` of the text so far: the publisher's own full text, when the page shows
   only part of it.
4. Furniture lines at the edges and cross-links inside are dropped (``wicnews.boilerplate``).

Every candidate must contain what was already found, so a longer but different text (a
teaser, another story) never replaces the article.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from wicnews.boilerplate import clean_body

SHORT_TEXT = 300
LONGER = 1.15
COVER_CONTAINER = 0.9
COVER_JSONLD = 0.8


@dataclass
class PageParts:
    """What the body check reads from the page before trafilatura runs."""

    html: str
    url: str
    container: str | None = None  # serialised body container, when the page has exactly one
    jsonld_bodies: list[str] = field(default_factory=list)


def page_parts(tree, html: str, url: str, jsonld: list[dict]) -> PageParts:
    """The page's body container and JSON-LD bodies (read before trafilatura prunes ``tree``)."""
    import lxml.html

    container = None
    for xpath in ('//*[@itemprop="articleBody"]', "//article"):
        found = tree.xpath(xpath)
        if found:
            if len(found) == 1:
                container = lxml.html.tostring(found[0], encoding="unicode")
            break
    bodies = [obj["articleBody"] for obj in jsonld if isinstance(obj.get("articleBody"), str)]
    return PageParts(html=html, url=url, container=container, jsonld_bodies=bodies)


def _shingles(text: str) -> Counter:
    import re

    tokens = re.findall(r"\w+", text)
    return Counter(zip(tokens, tokens[1:], tokens[2:], tokens[3:], strict=False))


def covers(candidate: str, found: str) -> float:
    """Share of ``found``'s 4-word shingles that ``candidate`` also holds (1.0 for no shingles)."""
    have = _shingles(found)
    total = sum(have.values())
    return sum((have & _shingles(candidate)).values()) / total if total else 1.0


def _trafilatura(html: str, url: str, **flags) -> str:
    import trafilatura

    return trafilatura.extract(html, url=url, include_comments=False, **flags) or ""


def _plain(body: str) -> str:
    """A JSON-LD body as text (some publishers put HTML in it)."""
    if "<" not in body or not body.strip():
        return body.strip()
    import lxml.html

    try:
        tree = lxml.html.fragment_fromstring(body, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return body.strip()
    for br in tree.iter("br", "p", "div", "li", "h2", "h3"):
        br.tail = "\n" + (br.tail or "")
    return "\n".join(line.strip() for line in tree.text_content().split("\n") if line.strip())


def settle_body(precise: str, parts: PageParts) -> str:
    """The body text of the page (see the module rules)."""
    text = precise
    if len(text.strip()) < SHORT_TEXT:
        recall = _trafilatura(parts.html, parts.url, favor_recall=True)
        if len(recall) >= 3 * max(1, len(text.strip())):
            text = recall
    if parts.container:
        # cheap test first: the container's raw text must be longer before extracting it
        import lxml.html

        raw = lxml.html.fromstring(parts.container).text_content()
        if len(raw) >= LONGER * len(text):
            inner = _trafilatura(f"<html><body>{parts.container}</body></html>", parts.url, favor_precision=True)
            if len(inner) >= LONGER * len(text) and covers(inner, text) >= COVER_CONTAINER:
                text = inner
    for body in parts.jsonld_bodies:
        plain = _plain(body)
        if len(plain) >= LONGER * len(text) and covers(plain, text) >= COVER_JSONLD:
            text = plain
    return clean_body(text)
