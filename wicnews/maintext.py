"""trafilatura's main text and metadata of a parsed page, at the least cost.

``main_text(tree, url)`` returns a trafilatura ``Document`` with the text and the metadata
wicnews uses (title, author, site name, description, image, categories, tags), read as
``trafilatura.metadata.extract_metadata`` reads them, except for two things nobody here uses
unconditionally:

- the publication date: ``wicnews.dating`` reads the page's own candidates first, and
  htmldate's extensive search (``htmldate_verdict``) is asked only when the page declares no
  usable date (``wicnews.dating.date_page`` calls it lazily);
- the license, which wicnews does not store.

The text comes from trafilatura's fast pass (its own extractor, no readability/jusText
comparison). The full pass, with that comparison, runs only when the fast text holds less
than ``FULL_PASS_SHARE`` of the text of the page's ``<p>`` elements: the page has more
article text than the fast pass found, which is when the comparison can change the outcome.
On the 181 AEB pages this keeps the benchmark's F1 (0.971) and runs the full pass on about
one page in five; on the 258 fundus pages, the same body F1 as the full pass everywhere.

trafilatura copies a tree it is given, so ``tree`` is left as it was.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from html import unescape
from typing import Any

import trafilatura
from trafilatura.metadata import (
    META_URL,
    Document,
    examine_meta,
    extract_author,
    extract_catstags,
    extract_domain,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.utils import line_processing

FULL_PASS_SHARE = 0.7
_OPTIONS: dict[str, Any] = {"include_comments": False, "favor_precision": True}


def main_text(tree, url: str, authors_known: Callable[[str | None], bool] | None = None) -> Any:
    """The page's ``Document`` (text and metadata, no date), or None when trafilatura finds no text.
    ``authors_known`` (see ``metadata``) can spare the search for a byline in the page's body."""
    doc: Any = trafilatura.bare_extraction(tree, url=url, fast=True, **_OPTIONS)
    paragraphs = sum(len(p.text_content()) for p in tree.iter("p"))
    if doc is None or len(doc.text or "") < FULL_PASS_SHARE * paragraphs:
        full: Any = trafilatura.bare_extraction(tree, url=url, **_OPTIONS)
        doc = full if full is not None else doc
    if doc is None:
        return None
    meta = metadata(tree, url, authors_known)
    for name in ("title", "author", "url", "hostname", "sitename", "description", "image", "categories", "tags"):
        setattr(doc, name, getattr(meta, name))
    return doc


def metadata(tree, url: str, authors_known: Callable[[str | None], bool] | None = None) -> Any:
    """``trafilatura.metadata.extract_metadata`` without the date and the license.

    The search for an author in the page's body (``extract_author``: a copy of the tree and
    dozens of XPath expressions, the dearest part) is skipped when ``authors_known(site_name)``,
    asked with the site name as the returned document will hold it, says the caller has the
    authors already from what the page declares (which it trusts before this search)."""
    meta = examine_meta(tree)
    if meta.author and " " not in meta.author:
        meta.author = None
    with contextlib.suppress(Exception):  # trafilatura's own guard: its JSON-LD reader has bugs
        meta = extract_meta_json(tree, meta)
    if not meta.title:
        meta.title = extract_title(tree)
    if not meta.url:
        meta.url = extract_url(tree, url)
    if meta.url:
        meta.hostname = extract_domain(meta.url, fast=True)
    if not meta.sitename:
        meta.sitename = extract_sitename(tree)
    if meta.sitename:
        meta.sitename = meta.sitename.lstrip("@")
        if meta.sitename and "." not in meta.sitename and not meta.sitename[0].isupper():
            meta.sitename = meta.sitename.title()
    elif meta.url:
        match = META_URL.match(meta.url)
        if match:
            meta.sitename = match[1]
    if not meta.author and (authors_known is None or not authors_known(_trimmed(meta.sitename))):
        meta.author = extract_author(tree)
    if not meta.categories:
        meta.categories = extract_catstags("category", tree)
    if not meta.tags:
        meta.tags = extract_catstags("tag", tree)
    meta.clean_and_trim()
    return meta


def _trimmed(value: str | None) -> str | None:
    """A metadata value as ``Document.clean_and_trim`` leaves it (cut, entities decoded, spaces
    and control characters tidied): what the caller compares with is what it will get."""
    if value is None:
        return None
    return line_processing(unescape(value[:9999] + "…" if len(value) > 10000 else value))


def htmldate_verdict(tree, url: str | None) -> str | None:
    """htmldate's publication date of the page (``YYYY-MM-DD``), asked as trafilatura asks it for
    wicnews: original date first, extensive search on."""
    from htmldate import find_date

    return find_date(tree, url=url, original_date=True, extensive_search=True)


def lazy_htmldate(tree, url: str | None) -> functools.partial:
    """``htmldate_verdict`` bound to the page, to be called only if needed."""
    return functools.partial(htmldate_verdict, tree, url)


__all__ = ["FULL_PASS_SHARE", "Document", "htmldate_verdict", "lazy_htmldate", "main_text", "metadata"]
