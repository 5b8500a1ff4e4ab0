"""Lines that are page furniture, not article text: cross-links, share and subscribe prompts,
bylines, credits and comment counters that extractors keep at the edges of a body.

``clean_body(text)`` drops, anywhere in the text, short lines that only point elsewhere
("Related: …", "READ MORE: …", "Also on rt.com …", "DON'T MISS", teaser links tagged
"[VIDEO]"), and at the head or tail of the text the lines that frame an article (a lone date
or "By …" byline at the head; share/subscribe/follow prompts, "comments", copyright and
photo credits at the tail). A line longer than ``_SHORT`` characters is always kept.
"""

from __future__ import annotations

import re

_SHORT = 220

# Lines that point to another story, wherever they stand.
_POINTER = re.compile(
    r"^\s*(?:related(?: articles?| stories| coverage)?\s*[:：|-]|read (?:more|also|next)\b|also read\b|see more\s*[:：]|"
    r"more\s*[:：]|recommended\s*[:：]|also on [\w.-]+\.[a-z]{2,}\b|don['’]?t miss\b|"
    r"(?:watch|listen)\s*[:：]|leia (?:também|mais)\b|lesen sie (?:auch|mehr)\b|lire aussi\b|mehr zum thema\b)",
    re.IGNORECASE)
_TEASER_TAG = re.compile(r"\w.{10,}\s\[(?:[A-Z]{3,}|video|pictures|photos|poll)\]\s*\|?\s*$")
# Lines that frame an article: only dropped at its head or tail.
_TAIL = re.compile(
    r"^\s*(?:\d*\s*comments?|tell us what you think\b.*|like this story\b.*|share (?:this|on)\b.*|"
    r"(?:please )?follow (?:us|him|her|them|me)\b.*|(?:sign up|subscribe)\b.*|click here\b.*|"
    r"get the latest\b.*|have a tip\b.*|email [\w .'-]{2,40} at \S+@\S+.*|"
    r"(?:copyright|©|\(c\))\s.*|.*\ball rights reserved\b.*|(?:photos?|images?|pictures?)\s*(?:[:©]|by\b|credit).*|"
    r"updated (?:at|on)\b.*)\s*$", re.IGNORECASE)
_HEAD = re.compile(
    r"^\s*(?:by\s+[\w.'’ -]{2,60}|(?:posted|published|updated)(?: on| by)?\s*[:：]?\s.{0,60}|"
    r"[\w-]+,\s+\d{1,2}\s+de\s+\w+\s+de\s+\d{4}.{0,12}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}(?:\s+\d{1,2}:\d{2})?)\s*$",
    re.IGNORECASE)


def _pointer(line: str) -> bool:
    return len(line) <= _SHORT and bool(_POINTER.match(line) or _TEASER_TAG.search(line))


def clean_body(text: str) -> str:
    """``text`` without the furniture lines described in the module docstring."""
    lines = [line for line in text.split("\n") if not _pointer(line.strip())]
    while len(lines) > 1 and (not lines[-1].strip() or (len(lines[-1]) <= _SHORT and _TAIL.match(lines[-1]))):
        lines.pop()
    while len(lines) > 1 and (not lines[0].strip() or (len(lines[0]) <= _SHORT // 2 and _HEAD.match(lines[0]))):
        lines.pop(0)
    return "\n".join(lines)
