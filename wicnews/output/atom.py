"""An Atom 1.0 feed (RFC 4287) of articles, so that analysts can subscribe: written with the
standard library's ElementTree (escaping is its job); characters XML 1.0 cannot carry are
dropped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from typing import TextIO

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
SUMMARY_CHARS = 600


def _clean(value: object) -> str:
    return _NOT_XML.sub("", str(value))


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", {k: _clean(v) for k, v in attrs.items()})
    if text is not None:
        element.text = _clean(text)
    return element


def _summary(row: dict) -> str:
    if row.get("snippet"):
        return row["snippet"]
    if row.get("description"):
        return row["description"]
    body = " ".join((row.get("text") or "").split())
    return body[:SUMMARY_CHARS] + ("…" if len(body) > SUMMARY_CHARS else "")


def feed(rows: list[dict], title: str = "wicnews: World Internet Conference coverage",
         feed_id: str = "urn:wicnews:coverage", now: datetime | None = None) -> ET.Element:
    root = ET.Element(f"{{{ATOM}}}feed")
    _sub(root, "title", title)
    _sub(root, "id", feed_id)
    times = [r.get("first_seen_at") or "" for r in rows]
    _sub(root, "updated", max(times) if any(times) else (now or datetime.now(timezone.utc)).isoformat())
    author = _sub(root, "author")
    _sub(author, "name", "wicnews")
    _sub(root, "generator", "wicnews")
    for row in rows:
        entry = _sub(root, "entry")
        if row.get("language"):
            entry.set(XML_LANG, _clean(row["language"]))
        _sub(entry, "title", row.get("title") or row["canonical_url"])
        _sub(entry, "id", row["canonical_url"])
        _sub(entry, "link", rel="alternate", href=row["canonical_url"])
        for url in row.get("also_at") or ():
            _sub(entry, "link", rel="related", href=url)
        _sub(entry, "updated", row.get("first_seen_at") or row.get("published_at"))
        if row.get("published_at"):
            _sub(entry, "published", row["published_at"])
        for name in row.get("authors") or ():
            _sub(_sub(entry, "author"), "name", name)
        for term in dict.fromkeys([*(row.get("matched_terms") or ()), *(row.get("tags") or ())]):
            if str(term).strip():
                _sub(entry, "category", term=str(term))
        if row.get("site_name"):
            _sub(_sub(entry, "source"), "title", row["site_name"])
        _sub(entry, "summary", _summary(row), type="text")
    return root


def articles(rows: list[dict], out: TextIO) -> None:
    ET.register_namespace("", ATOM)
    tree = ET.ElementTree(feed(rows))
    ET.indent(tree)
    out.write('<?xml version="1.0" encoding="utf-8"?>\n')
    tree.write(out, encoding="unicode", xml_declaration=False)
    out.write("\n")
