"""Relevance: does an article cover the World Internet Conference?

A topic profile is data: *strong* terms (one is enough) and *weak* terms (two distinct ones
are needed, e.g. "Wuzhen" and "WIC", since "WIC" alone is also a US nutrition programme).
Each term maps every spelling to one canonical label, which is what ``matched_terms`` lists.
Every article is stored with its verdict; nothing is thrown away here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from itemadapter import ItemAdapter


@dataclass(frozen=True)
class Term:
    label: str
    patterns: tuple[str, ...]   # regular expressions; English ones match case-insensitively
    case_sensitive: bool = False


@dataclass(frozen=True)
class Topic:
    name: str
    strong: tuple[Term, ...]
    weak: tuple[Term, ...]
    min_weak: int = 2


WIC_TOPIC = Topic(
    name="wic",
    strong=(
        Term("World Internet Conference", (r"\bworld\s+internet\s+conference\b", r"\bworld\s+internet\s+conf\.")),
        Term("Wuzhen Summit", (r"\bwuzhen\s+summit\b", r"\bwuzhen\s+internet\s+(?:summit|conference|forum)\b")),
        Term("世界互联网大会", (r"世界互联网大会", r"世界互联网大會", r"世界互聯網大會")),
        Term("乌镇峰会", (r"乌镇峰会", r"烏鎮峰會")),
        Term("Light of Internet Expo", (r"\blight\s+of\s+(?:the\s+)?internet\s+expo\b", r"互联网之光博览会")),
    ),
    weak=(
        Term("Wuzhen", (r"\bwuzhen\b", r"乌镇", r"烏鎮")),
        Term("WIC", (r"\bWIC\b",), case_sensitive=True),
        Term("shared future in cyberspace", (r"\bcommunity\s+with\s+a\s+shared\s+future\s+in\s+cyberspace\b", r"网络空间命运共同体")),
        Term("Cyberspace Administration of China", (r"\bcyberspace\s+administration\s+of\s+china\b", r"国家网信办", r"国家互联网信息办公室")),
    ),
)

_COMPILED: dict[Term, re.Pattern] = {}


def _regex(term: Term) -> re.Pattern:
    if term not in _COMPILED:
        flags = 0 if term.case_sensitive else re.IGNORECASE
        _COMPILED[term] = re.compile("|".join(f"(?:{p})" for p in term.patterns), flags)
    return _COMPILED[term]


def judge(title: str | None, text: str | None, topic: Topic = WIC_TOPIC) -> tuple[bool, list[str]]:
    """``(relevant, matched_terms)`` for an article. Relevant when a strong term appears,
    or at least ``topic.min_weak`` distinct weak terms do. Terms are listed strong first,
    in profile order."""
    haystack = f"{title or ''}\n{text or ''}"
    strong = [t.label for t in topic.strong if _regex(t).search(haystack)]
    weak = [t.label for t in topic.weak if _regex(t).search(haystack)]
    relevant = bool(strong) or len(weak) >= topic.min_weak
    return relevant, strong + weak


class RelevancePipeline:
    """Sets ``relevant`` and ``matched_terms``; counts ``wicnews/not_relevant``."""

    def __init__(self, stats=None, topic: Topic = WIC_TOPIC):
        self.stats = stats
        self.topic = topic

    @classmethod
    def from_crawler(cls, crawler):
        return cls(stats=crawler.stats)

    def process_item(self, item):
        adapter = ItemAdapter(item)
        adapter["relevant"], adapter["matched_terms"] = judge(adapter.get("title"), adapter.get("text"), self.topic)
        if not adapter["relevant"] and self.stats is not None:
            self.stats.inc_value("wicnews/not_relevant")
        return item
