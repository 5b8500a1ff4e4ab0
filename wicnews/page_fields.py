"""The fields of an article that come from its page, and what the normaliser does with each.

``PAGE_ROLES`` maps each such column of ``articles`` (``wicnews.models.Article``), in
declaration order, to its role: "url", "text" (paragraphs), "line" (one line of text),
"lines" (a list of them) or "value" (left as it is). The item carries these fields, the
store writes them, a copy's original takes them over; the other columns are the database's
own (ids, keys, times). ``wicnews.models`` marks its page columns with ``info=page()`` and checks at
import that they are exactly these, in this order.

It imports nothing: the extraction workers build and normalise items from it without loading
SQLAlchemy (``wicnews.pool``).
"""

from __future__ import annotations

PAGE_ROLES: dict[str, str] = {
    "url": "url",
    "canonical_url": "url",
    "title": "line",
    "authors": "lines",
    "published_at": "value",
    "published_offset": "value",
    "published_source": "value",
    "modified_at": "value",
    "site_name": "line",
    "language": "value",
    "description": "line",
    "image": "value",
    "tags": "lines",
    "editors": "lines",
    "origin": "line",
    "extractor_version": "value",
    "text": "text",
    "text_status": "value",
    "relevant": "value",
    "matched_terms": "value",
    "relevance_level": "value",
    "relevance": "value",
    "source": "value",
}
