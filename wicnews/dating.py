"""When an article was published (and modified): every candidate the page offers, reconciled.

Candidates (``source`` names, in trust order):

- ``jsonld``: ``datePublished`` / ``dateModified`` of the page's JSON-LD;
- ``meta``: ``article:published_time`` and the other publication meta tags, ``article:modified_time``;
- ``time``: ``<time datetime>`` marked as the publication time, or inside ``<article>``;
- ``title``: a date standing as a segment of the ``<title>`` or ``og:title``
  ("Headline | DW | 28.04.2023");
- ``htmldate``: htmldate's verdict with its extensive search (original date); a first-of-month
  verdict with no evidence of that day (htmldate's reading of a bare year or month) is dropped,
  and a full URL date ranks above it;
- ``text``: a date-time written in the page near the headline ("2005年03月21日 11:21",
  "2022.01.20 16:31", "2022-01-20 16:31:05", "26.04.2024, 14:07 Uhr", "Nov 10, 2022 10:05am");
  one preceded by "Updated", "Aktualisiert", "更新" ... is a modification time;
- ``url``: a date in the URL path (``/2022/11/09/``, ``/20221109/``).

The feed's or sitemap's time (``feed``) joins later, in ``articles.item_from_page``.

Rules:

1. A candidate outside [1995-01-01, now + 1 day] is discarded.
2. The winner is the first declared candidate (JSON-LD, meta, ``<time>``, title) that states its
   zone; else the first declared one with a clock time (read in the page's zone: the
   source's, else ``guess_timezone``); else the first candidate in trust order.
3. A bare date is refined by a candidate with a clock time on the same calendar day (the
   page's own wall clock): "2024-04-25" from the meta tags and "25.04.2024 14:07" in the text
   give 14:07 local.
4. A clock time read without a zone yields to a zone-stated candidate that shows the same
   wall-clock time in another offset (the page wrote local time; the instant is known).
5. ``modified_at`` is the first modification candidate not earlier than the publication.
6. The offset the winner stated, or of the zone it was read in, is kept in minutes
   (``published_offset``), so a day can be grouped as the publisher wrote it. A winner
   written in UTC takes the offset of another candidate stating the same instant in local
   time ("08:21Z" in JSON-LD, "04:21-04:00" in ``<time>``): UTC is how software serialises,
   the local offset is where the publisher is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from wicnews.dates import ParsedTime, parse_time

EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)
DECLARED = ("jsonld", "meta", "time", "title")

_PUBLISHED_META = (
    "article:published_time", "og:article:published_time", "og:published_time", "datepublished",
    "pubdate", "publishdate", "publish-date", "publish_date", "publication_date", "sailthru.date",
    "parsely-pub-date", "dc.date.issued", "dcterms.created", "dc.date", "date", "publishdate",
    "article.published", "cxenseparse:recs:publishtime",
)
_MODIFIED_META = ("article:modified_time", "og:updated_time", "datemodified", "dcterms.modified",
                  "last-modified", "article.updated", "lastmod")

_MONTHS = {m: i + 1 for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}
_MON = r"(?P<mon>jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_CLOCK = r"(?P<h>\d{1,2})[:：](?P<mi>\d{2})(?:[:：](?P<s>\d{1,2}))?(?:\s*(?P<ampm>[ap]\.?m\.?))?"
_BETWEEN = r"\s*[,|·•]?\s*"  # what stands between a written date and its clock time
_TEXT_TIMES = [
    re.compile(rf"(?P<y>(?:19|20)\d\d)\s*年\s*(?P<m>\d{{1,2}})\s*月\s*(?P<d>\d{{1,2}})\s*日\s*(?:[^\d\n]{{0,4}}?{_CLOCK})?",
               re.IGNORECASE),
    re.compile(rf"(?<![\d.])(?P<y>(?:19|20)\d\d)[-./](?P<m>\d{{1,2}})[-./](?P<d>\d{{1,2}})(?![\d])(?:(?:\s+|T|{_BETWEEN})"
               rf"{_CLOCK})?", re.IGNORECASE),
    re.compile(rf"(?<![\d.])(?P<d>\d{{1,2}})\.\s?(?P<m>\d{{1,2}})\.\s?(?P<y>(?:19|20)\d\d)(?:{_BETWEEN}(?:um\s*|à\s*|kl\.?\s*|-\s*)?"
               rf"{_CLOCK})?", re.IGNORECASE),
    # a two-digit year only with a clock time after it: "Do 25.04.24 | 14:07 Uhr"
    re.compile(rf"(?<![\d.])(?P<d>\d{{1,2}})\.(?P<m>\d{{1,2}})\.(?P<yy>\d\d)(?![\d.]){_BETWEEN}(?:um\s*)?{_CLOCK}",
               re.IGNORECASE),
    re.compile(rf"\b{_MON}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>(?:19|20)\d\d)(?:{_BETWEEN}(?:at\s*|-\s*|/\s*)?{_CLOCK})?",
               re.IGNORECASE),
    re.compile(rf"\b(?P<d>\d{{1,2}})\.?\s+{_MON}\s+(?P<y>(?:19|20)\d\d)(?:{_BETWEEN}(?:at\s*|-\s*|/\s*)?{_CLOCK})?",
               re.IGNORECASE),
]
_UPDATED = re.compile(r"(?:updated?|aktualisiert|actualizado|mis à jour|aggiornato|更新|修改|最后更新|zuletzt)\W{0,3}"
                      r"(?:\w+\W{1,3}){0,2}$", re.IGNORECASE)
_TITLE_SEPARATOR = re.compile(r"\s+[|\-–—·]\s+|\s*[｜|]\s*")
_DATE_ONLY = re.compile(r"[\d\s./,\-年月日]*\d[\d\s./,\-年月日]*")
_URL_DATE = re.compile(r"/((?:19|20)\d\d)[/-]?(0[1-9]|1[0-2])[/-]?(0[1-9]|[12]\d|3[01])(?:/|[^\d])")


@dataclass(frozen=True)
class Candidate:
    source: str
    time: ParsedTime
    modified: bool = False


@dataclass(frozen=True)
class Dating:
    """The reconciled dates of a page: UTC instants, the offset the winner was written in,
    its precision ("zone", "local" or "date") and which candidate won."""

    published_at: datetime | None = None
    published_offset: int | None = None
    published_precision: str | None = None
    published_source: str | None = None
    modified_at: datetime | None = None


def _written(match: re.Match) -> ParsedTime | None:
    g = match.groupdict()
    try:
        month = _MONTHS[g["mon"].lower()[:3]] if g.get("mon") else int(g["m"])
        day = datetime(int(g["y"]) if g.get("y") else 2000 + int(g["yy"]), month, int(g["d"]))
    except (ValueError, KeyError):
        return None
    if g.get("h") is None:
        return ParsedTime(day, "date")
    hour = int(g["h"])
    ampm = (g.get("ampm") or "").replace(".", "").lower()
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    try:
        return ParsedTime(day.replace(hour=hour, minute=int(g["mi"]), second=int(g["s"] or 0)), "local")
    except ValueError:
        return ParsedTime(day, "date")


def text_times(text: str, limit: int = 8) -> list[tuple[ParsedTime, bool]]:
    """Dates and date-times written in ``text``, in order, with whether each is a modification
    time ("Updated ..."). At one position the most precise reading wins."""
    found: list[tuple[int, ParsedTime, bool]] = []
    for pattern in _TEXT_TIMES:
        for match in pattern.finditer(text):
            parsed = _written(match)
            if parsed is not None:
                updated = bool(_UPDATED.search(text[max(0, match.start() - 40):match.start()]))
                found.append((match.start(), parsed, updated))
    found.sort(key=lambda item: (item[0], item[1].precision != "local"))
    out: list[tuple[ParsedTime, bool]] = []
    last = -1
    for start, parsed, updated in found:
        if start != last:
            out.append((parsed, updated))
            last = start
    return out[:limit]


def url_date(url: str) -> ParsedTime | None:
    match = _URL_DATE.search(url)
    if not match:
        return None
    try:
        return ParsedTime(datetime(int(match[1]), int(match[2]), int(match[3])), "date")
    except ValueError:
        return None


def _meta_key(name: str) -> str:
    """A meta name as compared: lower case without punctuation, so the spellings pages use
    ("article:published_time", "article:published:time", "publish-date") meet."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _metas(tree) -> dict[str, str]:
    metas: dict[str, str] = {}
    for meta in tree.xpath("//meta[@content]"):
        key = _meta_key(meta.get("property") or meta.get("name") or meta.get("itemprop") or meta.get("http-equiv") or "")
        if key and key not in metas and (meta.get("content") or "").strip():
            metas[key] = meta.get("content")
    return metas


def declared_candidates(tree, jsonld: list[dict]) -> list[Candidate]:
    """Candidates the markup declares: JSON-LD, meta tags, ``<time>``."""
    out: list[tuple[str, str, bool]] = []
    for obj in jsonld:
        for key, modified in (("datePublished", False), ("dateCreated", False), ("dateModified", True)):
            if isinstance(obj.get(key), str):
                out.append(("jsonld", obj[key], modified))
    metas = _metas(tree)
    published = dict.fromkeys(_meta_key(key) for key in _PUBLISHED_META)
    out += [("meta", metas[key], False) for key in published if key in metas]
    out += [("meta", metas[key], True) for key in dict.fromkeys(map(_meta_key, _MODIFIED_META)) if key in metas]
    out += [("time", v, False) for v in tree.xpath("//time[@datetime and (@pubdate or @itemprop='datePublished')]/@datetime")]
    out += [("time", v, True) for v in tree.xpath("//time[@datetime and @itemprop='dateModified']/@datetime")]
    out += [("time", v, False) for v in tree.xpath("(//article//time/@datetime)[1]")]
    parsed = [(source, parse_time(value), modified) for source, value, modified in out]
    return [Candidate(source, p, modified) for source, p, modified in parsed if p is not None]


def title_date(tree) -> ParsedTime | None:
    """A date standing alone as a segment of the page's ``<title>`` or ``og:title`` after
    the headline ("Ukrainische Gegenoffensive | DW | 28.04.2023"): the publisher's own label."""
    values = tree.xpath("//title/text()")[:1] + tree.xpath('//meta[@property="og:title"]/@content')[:1]
    for value in values:
        for segment in _TITLE_SEPARATOR.split(value.strip())[1:]:
            if _DATE_ONLY.fullmatch(re.sub(_MON, "", segment, flags=re.IGNORECASE)):
                found = text_times(segment, limit=1)
                if found:
                    return found[0][0]
    return None


def _headline_element(tree):
    """Where the headline stands: the first ``<h1>``; without one, the first ``<h2>``/``<h3>``
    holding the ``og:title`` or ``<title>`` headline; else None (the start of the body)."""
    h1 = tree.xpath("//body//h1")
    if h1:
        return h1[0]
    keys = {_squash(v) for v in tree.xpath('//meta[@property="og:title"]/@content | //title/text()')}
    keys |= {_squash(_TITLE_SEPARATOR.split(v.strip())[0]) for v in tree.xpath("//title/text()")}
    keys = {k for k in keys if len(k) >= 12}
    for heading in tree.xpath("//body//h2 | //body//h3"):
        key = _squash(heading.text_content())
        if len(key) >= 12 and any(k in key or key in k for k in keys):
            return heading
    return None


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def page_text_near_headline(tree, limit: int = 4000) -> str:
    """The page's visible text from its headline on (``_headline_element``; else from the
    start of the body)."""
    body = tree.find("body")
    if body is None:
        return ""
    chunks: list[str] = []
    start = _headline_element(tree)
    size = 0
    for element in body.iter() if start is None else _onwards(start, body):
        if element.tag in ("script", "style", "noscript", "template") or not isinstance(element.tag, str):
            continue
        for piece in (element.text, element.tail):
            if piece and piece.strip():
                chunks.append(piece.strip())
                size += len(piece)
        if size > limit:
            break
    return "\n".join(chunks)[:limit]


def _onwards(start, top):
    """``top.iter()`` from ``start`` on (``start`` inside ``top``), without walking what precedes it."""
    yield from start.iter()
    node = start
    while node is not top and node is not None:
        for sibling in node.itersiblings():
            yield from sibling.iter()
        node = node.getparent()


def _in_range(p: ParsedTime, tz: tzinfo, now: datetime) -> bool:
    instant = p.instant(tz)
    return EARLIEST <= instant <= now + timedelta(days=1)


def reconcile(candidates: list[Candidate], tz: tzinfo, now: datetime | None = None) -> Dating:
    """The publication and modification times from ``candidates`` (in trust order), by the
    module's rules; naive values are read in ``tz``."""
    now = now or datetime.now(UTC)
    usable = [c for c in candidates if _in_range(c.time, tz, now)]
    published = [c for c in usable if not c.modified]
    if not published:
        return Dating(modified_at=_modified(usable, None, tz))
    declared = [c for c in published if c.source in DECLARED]
    winner = (next((c for c in declared if c.time.precision == "zone"), None)
              or next((c for c in declared if c.time.precision == "local"), None)
              or published[0])
    if winner.time.precision == "date":
        day = winner.time.value.date()
        refined = next((c for c in published if c.time.precision != "date"
                        and (c.time.value.date() == day)), None)
        if refined is not None:
            winner = refined
    elif winner.time.precision == "local":
        wall = winner.time.value
        stated = next((c for c in usable if c.time.precision == "zone"
                       and c.time.value.replace(tzinfo=None) == wall), None)
        if stated is not None:
            winner = Candidate(winner.source, stated.time)
    instant = winner.time.instant(tz)
    if winner.time.precision == "zone":
        offset = winner.time.value.utcoffset()
    else:
        offset = winner.time.value.replace(tzinfo=tz).utcoffset()
    if winner.time.precision == "zone" and not offset:
        offset = next((c.time.value.utcoffset() for c in published if c.time.precision == "zone"
                       and c.time.value.utcoffset() and c.time.instant() == instant), offset)
    minutes = int(offset.total_seconds() // 60) if offset is not None else None
    return Dating(instant, minutes, winner.time.precision, winner.source, _modified(usable, instant, tz))


def _modified(usable: list[Candidate], published: datetime | None, tz: tzinfo) -> datetime | None:
    for c in usable:
        if c.modified:
            when = c.time.instant(tz)
            if published is None or when >= published:
                return when
    return None


def page_candidates(tree, jsonld: list[dict], url: str) -> list[Candidate]:
    """Every candidate a parsed page offers but htmldate's (read it before the tree is pruned)."""
    candidates = declared_candidates(tree, jsonld)
    labelled = title_date(tree)
    if labelled is not None:
        candidates.append(Candidate("title", labelled))
    for p, updated in text_times(page_text_near_headline(tree)):
        candidates.append(Candidate("text", p, updated))
    from_url = url_date(url)
    if from_url is not None:
        candidates.append(Candidate("url", from_url))
    return candidates


def _day_written(html: str, day: datetime) -> bool:
    """Whether ``html`` writes the full date ``day`` somewhere (markup included):
    "2024-01-01", "2024/1/1", "20240101", "2024年1月1日", "1.1.2024", "January 1, 2024"."""
    y, m, d = day.year, day.month, day.day
    mon = datetime(2000, m, 1).strftime("%b")
    return bool(re.search(
        rf"(?<!\d){y}\s*[-./年]\s*0?{m}\s*[-./月]\s*0?{d}(?!\d)|(?<!\d){y}{m:02d}{d:02d}(?!\d)"
        rf"|(?<!\d)0?{d}\s*[./-]\s*0?{m}\s*[./-]\s*{y}(?!\d)"
        rf"|\b{mon}[a-z]*\.?\s+0?{d}(?:st|nd|rd|th)?,?\s+{y}\b|(?<!\d)0?{d}\.?\s+{mon}[a-z]*\.?,?\s+{y}\b",
        html, re.IGNORECASE))


def date_page(candidates: list[Candidate], htmldate_value: str | Callable[[], str | None] | None, tz: tzinfo,
              now: datetime | None = None, html: str | None = None) -> Dating:
    """``page_candidates`` with htmldate's verdict put after the declared ones, reconciled.

    htmldate turns a year alone into 1 January and a month alone into its first day: a verdict
    on the first of a month that no candidate shares and the page (``html``) never writes is
    such a guess, and is dropped (a wrong date is worse than none). A full date in the URL
    ranks above htmldate's verdict.

    ``htmldate_value`` may be a function giving the verdict: it is called only when no
    declared candidate is a usable publication time, the one case where the verdict can win
    (it comes after the declared candidates and, a bare date, never refines one)."""
    now = now or datetime.now(UTC)
    if callable(htmldate_value):
        declared = any(c.source in DECLARED and not c.modified and _in_range(c.time, tz, now) for c in candidates)
        htmldate_value = None if declared else htmldate_value()
    parsed = parse_time(htmldate_value)
    if parsed is not None and parsed.precision == "date" and parsed.value.day == 1 and html is not None:
        day = parsed.value.date()
        if not any(c.time.value.date() == day for c in candidates) and not _day_written(html, parsed.value):
            parsed = None
    if parsed is not None:
        at = sum(1 for c in candidates if c.source in DECLARED)
        if any(c.source == "url" for c in candidates):
            at = next(i for i, c in enumerate(candidates) if c.source == "url") + 1
        candidates = [*candidates[:at], Candidate("htmldate", parsed), *candidates[at:]]
    return reconcile(candidates, tz, now)
