"""Relevance: is an article about the topic, does it only mention it, or neither? Pure functions.

``judge(title, text, topic)`` scores the topic's names by where they stand:

* each *spot* (the title, the lead, each body paragraph) counts once, with its best match:
  a strong name or edition weighs ``[weights] strong``, a weak one (``WIC``, ``Wuzhen``)
  ``weak`` and only when a context term stands within ``context_window`` characters and no
  negative rule (the US WIC nutrition programme, Wuzhen tourism, other conferences) cancels it;
* a spot is multiplied by its field's weight (``title``, ``lead`` = the first
  ``lead_paragraphs`` paragraphs, at most ``lead_chars`` characters, ``body``); body spots
  also by a length factor, sqrt(reference_words / words) clamped to [0.5, 1.5], so the same
  number of mentions counts more in a short article than in a long one (density).

With the bundled weights, a strong name in the title (4) or lead (3) is coverage (>= 3); one
passing strong mention deep in the body (1 x factor <= 1.5) is a mention; three or more body
paragraphs naming the conference in an average-length article are coverage.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass, field

from wicnews.matching import Pair
from wicnews.normalise import nfkc
from wicnews.topic import Topic, load_topic

LEVELS = ("coverage", "mention", "none")
FIELDS = ("title", "lead", "body")
_WORD = re.compile(r"[0-9A-Za-z\u00C0-\u024F]+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# A strong name used to describe a place, not as the subject: "Wuzhen, the water town that
# has hosted the World Internet Conference", "home of the ...", "作为世界互联网大会永久举办地".
_DESCRIPTOR_BEFORE = re.compile(
    r"\b(?:(?:that|which)\s+(?:has\s+|have\s+)?(?:(?:annually|long|since)\s+)?host(?:s|ed)"
    r"|(?:permanent\s+)?(?:home|venue|seat|host(?:\s+(?:city|town))?)\s+(?:of|to|for)"
    r"|(?:(?:days|weeks|months|hours|a\s+day|a\s+week|a\s+month|shortly|soon|just|the\s+day)\s+(?:after|before)"
    r"(?:\s+\w+){0,3}\s+(?:for|at|to))"
    r"|(?:days|weeks|months|hours|a\s+day|a\s+week|a\s+month|shortly|soon|just|the\s+day)\s+(?:after|before))"
    r"(?:\s+(?:the|every|each|all))?(?:\s+(?:annual|yearly))?\s+$", re.IGNORECASE)
_DESCRIPTOR_AFTER = re.compile(r"^\s*(?:的)?\s*(?:永久)?(?:举办地|舉辦地|会址|會址|所在地|举办城市|舉辦城市|东道主|東道主)")


@dataclass(frozen=True)
class Match:
    """Where one term was found: ``count`` times in ``field``, first at ``snippet``.
    ``counted`` is False for a weak match that did not count, ``reason`` says why;
    ``points`` is what it added to the score."""
    term: str
    kind: str            # strong | edition | weak
    field: str           # title | lead | body
    count: int
    snippet: str
    points: float = 0.0
    counted: bool = True
    reason: str | None = None

    def to_json(self) -> dict:
        out = {"term": self.term, "kind": self.kind, "field": self.field, "count": self.count,
               "snippet": self.snippet, "points": self.points, "counted": self.counted}
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class Relevance:
    """The verdict on one article. ``level``: ``coverage`` = the article is about the topic,
    ``mention`` = it names the topic in passing, ``none`` = it does not (or only in contexts a
    negative rule cancels)."""
    score: float
    level: str
    explanation: tuple[Match, ...] = ()
    entities: list[dict] = field(default_factory=list)

    @property
    def relevant(self) -> bool:
        """True when the article is coverage of the topic (the old yes/no verdict)."""
        return self.level == "coverage"

    @property
    def matched_terms(self) -> list[str]:
        """Labels of the terms that counted: strong names and editions first, then weak ones,
        each in profile order."""
        seen: list[str] = []
        for m in self.explanation:
            if m.counted and m.term not in seen:
                seen.append(m.term)
        return seen

    def to_json(self) -> dict:
        """``{"score", "level", "explanation": [...], "entities": [...]}``, JSON-safe."""
        return {"score": self.score, "level": self.level,
                "explanation": [m.to_json() for m in self.explanation],
                "entities": [dict(e) for e in self.entities]}


def normalise(text: str | None) -> str:
    """NFKC: full-width letters and digits become ASCII, compatibility forms are folded."""
    return nfkc(text or "")


def lead_end(text: str, topic: Topic) -> int:
    """Offset where the lead ends: after ``lead_paragraphs`` non-empty paragraphs, at most
    ``lead_chars`` characters."""
    end = len(text) if topic.lead_paragraphs else 0
    for seen, m in enumerate(re.finditer(r"[^\n]*\S[^\n]*", text), start=1):
        if seen == topic.lead_paragraphs:
            end = m.end()
            break
    return min(end, topic.lead_chars)


def length_factor(text: str, topic: Topic) -> float:
    """How much one body spot counts: more in short articles, less in long ones."""
    words = len(_WORD.findall(text)) + len(_CJK.findall(text)) / 2
    return min(1.5, max(0.5, math.sqrt(topic.reference_words / max(words, 1.0))))


def _snippet(s: str, start: int, end: int, width: int = 40) -> str:
    a, b = max(0, start - width), min(len(s), end + width)
    return ("…" if a else "") + " ".join(s[a:b].split()) + ("…" if b < len(s) else "")


@dataclass
class _Hit:
    term: str
    kind: str
    order: int
    field: str
    spot: tuple
    start: int
    snippet: str
    counted: bool = True
    reason: str | None = None
    points: float = 0.0
    descriptor: bool = False


def descriptor_spans(text: str, topic: Topic, found: list[list[re.Match]] | None = None) -> list[tuple[int, int]]:
    """Spans where a strong name describes a place rather than being the subject ("the town
    that has hosted the World Internet Conference", "home of the ...", "世界互联网大会永久举办地"):
    such a name is a passing mention, and it is no evidence against a negative rule.
    ``found``: each term's matches in ``text``, when known already."""
    if found is None:
        view = topic.compiled.view(text)
        found = [pattern.finditer(view) for _, pattern in topic.compiled.terms]
    spans = []
    for (term, _), matches in zip(topic.compiled.terms, found):
        if term.kind == "weak":
            continue
        for m in matches:
            before = _DESCRIPTOR_BEFORE.search(text[max(0, m.start() - 50):m.start()])
            after = _DESCRIPTOR_AFTER.match(text[m.end():m.end() + 12])
            if before or after:
                spans.append((m.start() - (len(before.group(0)) if before else 0),
                              m.end() + (after.end() if after else 0)))
    return spans


def _masked(text: str, spans: list[tuple[int, int]]) -> str:
    for a, b in spans:
        text = text[:a] + " " * (b - a) + text[b:]
    return text


def _fires(pattern, unless, region: str, masked: str | None = None) -> bool:
    return bool(pattern.search(region)) and not (unless and unless.search(region if masked is None else masked))


def _weak_verdict(label: str, window: str, doc: str, topic: Topic, memo: dict,
                  masked: tuple[str, str]) -> str | None:
    """Why a weak match in ``window`` does not count, or None when it counts. ``memo`` keeps
    the document-scope rules' outcomes for the article being judged; ``masked`` is the window
    and the document with descriptor phrases blanked, where ``unless`` terms are looked for."""
    c = topic.compiled
    for i, (rule, pattern, unless) in enumerate(c.negatives):
        if rule.cancels and label not in rule.cancels:
            continue
        if rule.scope == "document":
            if i not in memo:
                memo[i] = _fires(pattern, unless, doc, masked[1])
            fired = memo[i]
        else:
            fired = _fires(pattern, unless, window, masked[0])
        if fired:
            return f"negative rule: {rule.name}"
    other = c.others[label]
    if not ((c.context and c.context.search(window)) or (other and other.search(window))):
        return f"no context term within {topic.context_window} characters"
    return None


def _hits(title: str, text: str, topic: Topic, cut: int, pair: Pair) -> list[_Hit]:
    terms = topic.compiled.terms
    both = [pair.finditer(pattern) for _, pattern in terms]
    in_title, in_text = [t for t, _ in both], [x for _, x in both]
    if not any(in_title) and not any(in_text):
        return []
    w = topic.context_window
    breaks = [m.start() for m in re.finditer("\n", text)]
    doc = f"{title}\n{text}"
    spans = descriptor_spans(text, topic, in_text)
    title_spans = descriptor_spans(title, topic, in_title)
    mtitle, mtext = _masked(title, title_spans), _masked(text, spans)
    mdoc = f"{mtitle}\n{mtext}"
    hits: list[_Hit] = []
    memo: dict = {}
    for order, (term, _) in enumerate(terms):
        for name, s, found in (("title", title, in_title[order]), ("text", text, in_text[order])):
            for m in found:
                a, b = max(0, m.start() - w), m.end() + w
                if name == "title":
                    spot: tuple
                    fld, spot, window = "title", ("title",), f"{title}\n{text[:max(cut, w)]}"
                    mwindow = f"{mtitle}\n{mtext[:max(cut, w)]}"
                elif m.start() < cut:
                    fld, spot, window, mwindow = "lead", ("lead",), text[a:b], mtext[a:b]
                else:
                    fld, spot = "body", ("body", bisect.bisect(breaks, m.start()))
                    window, mwindow = text[a:b], mtext[a:b]
                hit = _Hit(term.label, term.kind, order, fld, spot, m.start(), _snippet(s, m.start(), m.end()))
                if term.kind == "weak":
                    hit.reason = _weak_verdict(term.label, window, doc, topic, memo, (mwindow, mdoc))
                    hit.counted = hit.reason is None
                elif any(x <= m.start() < y for x, y in (title_spans if name == "title" else spans)):
                    hit.descriptor, hit.reason = True, "describes a place: counts as a passing mention"
                hits.append(hit)
    return hits


def _score(hits: list[_Hit], text: str, topic: Topic) -> float:
    """Credits each spot's best counted hit with the spot's points; returns the total."""
    wt = topic.weights
    factor = length_factor(text, topic) if any(h.counted and h.field == "body" for h in hits) else 1.0
    best: dict[tuple, _Hit] = {}
    for h in sorted((h for h in hits if h.counted), key=lambda h: h.start):
        value = wt["weak"] if h.kind == "weak" else wt["strong"]
        h.points = value * wt["body" if h.descriptor else h.field] * (factor if h.field == "body" else 1.0)
        if h.spot not in best or h.points > best[h.spot].points:
            best[h.spot] = h
    for h in hits:
        if best.get(h.spot) is not h:
            h.points = 0.0
    return sum(h.points for h in best.values())


def _about(hits: list[_Hit], lead_only: bool) -> bool:
    """Whether the names stand as an article's subject: a strong name (not a descriptor) in
    the title, or in two or more spots (the lead and the body, several body paragraphs), or
    with another name in another spot, or in the lead beside another name (the conference
    "in Wuzhen"), or in the lead of a text that is all lead (a brief); or,
    with no strong name, both weak names (WIC and Wuzhen) counted in two or more spots. One
    strong mention in the lead of a story about something else, or WIC alone, is a mention."""
    strong = {h.spot for h in hits if h.counted and h.kind != "weak" and not h.descriptor}
    if ("title",) in strong or len(strong) >= 2:
        return True
    named = {h.spot for h in hits if h.counted and not h.descriptor}
    lead_terms = {h.term for h in hits if h.field == "lead" and not h.descriptor}
    if strong and (len(named) >= 2 or (("lead",) in strong and (lead_only or len(lead_terms) >= 2))):
        return True
    weak = [h for h in hits if h.counted and h.points > 0 and h.kind == "weak"]
    return not strong and len({h.term for h in weak}) >= 2 and len({h.spot for h in weak}) >= 2


def _explain(hits: list[_Hit]) -> tuple[Match, ...]:
    groups: dict[tuple, list[_Hit]] = {}
    for h in hits:
        groups.setdefault((h.term, h.field, h.counted, h.reason), []).append(h)
    rank = {f: i for i, f in enumerate(FIELDS)}

    def key(item):
        hs = item[1]
        return (not hs[0].counted, hs[0].kind == "weak", hs[0].order, rank[hs[0].field])

    out = []
    for (term, fld, counted, reason), hs in sorted(groups.items(), key=key):
        first = min(hs, key=lambda h: h.start)
        out.append(Match(term, first.kind, fld, len(hs), first.snippet,
                         round(sum(h.points for h in hs), 2), counted, reason))
    return tuple(out)


def find_entities(title: str | None, text: str | None, topic: Topic | None = None) -> list[dict]:
    """Organisations and people of the topic's gazetteer named in the article:
    ``[{"name", "kind", "count"}]``, most frequent first (then in gazetteer order)."""
    topic = topic or load_topic()
    title, text = normalise(title), normalise(text)
    return _entities(topic, topic.compiled.pair(title, text))


def _entities(topic: Topic, pair: Pair) -> list[dict]:
    found = []
    for i, (entity, pattern) in enumerate(topic.compiled.entities):
        in_title, in_text = pair.finditer(pattern)
        count = len(in_title) + len(in_text)
        if count:
            found.append((-count, i, {"name": entity.name, "kind": entity.kind, "count": count}))
    return [e for *_, e in sorted(found, key=lambda t: t[:2])]


def judge(title: str | None, text: str | None, topic: Topic | None = None) -> Relevance:
    """The verdict on an article (``topic`` defaults to the bundled WIC profile)."""
    topic = topic or load_topic()
    title, text = normalise(title), normalise(text)
    cut = lead_end(text, topic)
    pair = topic.compiled.pair(title, text)
    hits = _hits(title, text, topic, cut, pair)
    score = round(_score(hits, text, topic), 2)
    level = "coverage" if score >= topic.coverage else "mention" if score >= topic.mention else "none"
    if level == "coverage" and not _about(hits, not text[cut:].strip()):
        level = "mention"
    return Relevance(score, level, _explain(hits), _entities(topic, pair))
