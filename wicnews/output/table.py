"""Tables for the terminal, aligned in terminal cells (a Chinese character takes two)."""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import TextIO

from wicnews.db.placements import outlets

# Control characters in stored strings (a feed's ESC sequences) would drive the terminal;
# bidirectional overrides and isolates (a page's U+202E) would reorder what it shows.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Characters a terminal draws in no cell of their own (besides combining marks).
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")


def printable(text: str) -> str:
    """``text`` with control characters and bidirectional controls shown as escapes
    (``\\x1b``, ``\\u202e``), never sent raw."""
    if text.isprintable():  # none of them in it (they are all unprintable)
        return text
    return _CONTROLS.sub(lambda m: m[0].encode("unicode_escape").decode("ascii"), text)


@functools.lru_cache(maxsize=4096)
def _cells(ch: str) -> int:
    if ch in _ZERO_WIDTH or unicodedata.category(ch) in ("Mn", "Me"):  # combining marks sit on the character before
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


# Blocks whose every character is wide (CJK ideographs, extension A, Hangul syllables):
# counted at once; ``tests/test_output.py`` checks them against ``unicodedata``.
WIDE_BLOCKS = "\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3"
_WIDE = re.compile(f"[{WIDE_BLOCKS}]+")
_ASCII = re.compile("[\x00-\x7f]+")


def cells(text: str) -> int:
    """The terminal cells ``text`` takes (a Chinese character two)."""
    if text.isascii():
        return len(text)
    rest = _WIDE.sub("", text)
    wide = len(text) - len(rest)
    if rest.isascii():
        return 2 * wide + len(rest)
    other = _ASCII.sub("", rest)
    return 2 * wide + len(rest) - len(other) + sum(map(_cells, other))


def fit(text: str | None, width: int) -> str:
    """``text`` cut and padded to ``width`` terminal cells."""
    text = printable(text or "-")
    if text.isascii():
        if len(text) <= width:
            return text + " " * (width - len(text))
        return text[:max(0, width - 1)] + "…"
    used = cells(text)
    if used <= width:
        return text + " " * (width - used)
    room = max(0, width - 1)  # the ellipsis takes one cell
    out = text[:room]  # a character takes at most two cells
    used = cells(out)
    while used > room:  # drop from the end at least what the excess needs (two cells a character at most)
        out = out[:len(out) - max(1, (used - room) // 2)]
        used = cells(out)
    if len(out) == room:  # characters of no width (combining marks) left room for more
        for ch in text[room:]:
            if used + cells(ch) > room:
                break
            out += ch
            used += cells(ch)
    return out + "…" + " " * (room - used)


# What ``articles`` reads of an article and of each placement (``wicnews new`` reads no more
# from the database); ``also_at`` and a search's ``snippet`` come with every row.
ARTICLE_FIELDS = ("id", "published_at", "relevance_level", "relevant", "language", "site_name", "title",
                  "canonical_url", "relevance", "matched_terms")
PLACEMENT_FIELDS = ("url", "site_name", "fetched")


def articles(rows: list[dict], out: TextIO) -> None:
    """Two or three lines an article: id, time, language, site and title; URL and copies;
    the matched terms. Reads only ``ARTICLE_FIELDS`` and ``PLACEMENT_FIELDS``."""
    if not rows:
        print("no articles", file=out)
        return
    lines = [f"{'ID':<6} {'PUBLISHED (UTC)':<16}  {'LNG':<3} {fit('SITE', 26)}  TITLE / URL / MATCHED TERMS"]
    add = lines.append
    for row in rows:
        published = (row["published_at"] or "")[:16].replace("T", " ") or "date unknown    "
        level = row.get("relevance_level") or ("coverage" if row["relevant"] else "none")
        flag = _FLAGS.get(level, "  [not relevant]")
        add(f"#{row['id']:<5} {published}  {printable(row['language'] or '--'):<3} {fit(row['site_name'], 26)}  "
            f"{fit(row['title'], 90).rstrip()}{flag}")
        others = len(row["also_at"])
        copies = f"  (+{others} other URL{'s' if others != 1 else ''})" if others else ""
        if (n := outlets(row.get("placements") or [])) > 1:
            copies += f"  [{n} outlets]"
        add(f"       {printable(row['canonical_url'])}{copies}")
        if row.get("snippet"):
            add(f"       {printable(row['snippet'])}")
        why = printable(relevance_summary(row.get("relevance")) or ", ".join(row["matched_terms"]))
        if why:
            add(f"       {level} · {why}")
    lines.append("")
    out.write("\n".join(lines))


_FLAGS = {"coverage": "", "mention": "  [mention]"}


def relevance_summary(verdict: dict | None) -> str:
    """``score 7.5: World Internet Conference ×3 (title, lead), Wuzhen ×1 (body)``."""
    if not verdict:
        return ""
    counted: dict[str, tuple[int, list[str]]] = {}
    for match in verdict.get("explanation", []):
        if match.get("counted"):
            count, fields = counted.get(match["term"], (0, []))
            counted[match["term"]] = (count + match.get("count", 1), [*fields, match["field"]])
    terms = ", ".join(f"{term} ×{count} ({', '.join(dict.fromkeys(fields))})" for term, (count, fields) in counted.items())
    return f"score {verdict.get('score', 0):g}" + (f": {terms}" if terms else "")


def explain_lines(verdict: dict) -> list[str]:
    """What ``wicnews explain`` prints: the verdict, then each match (counted or not, and why)."""
    lines = [f"    {verdict.get('level', 'none')} (score {verdict.get('score', 0):g})"]
    for match in verdict.get("explanation", []):
        mark = f"+{match.get('points', 0):g}" if match.get("counted") else f"not counted: {match.get('reason', '')}"
        lines.append(f"    - {match['term']} in the {match['field']}, {match.get('count', 1)}× [{mark}]: "
                     f"“{printable(match.get('snippet', ''))}”")
    if not verdict.get("explanation"):
        lines.append("    - no term of the topic profile appears")
    entities = ", ".join(f"{e['name']} ×{e.get('count', 1)}" for e in verdict.get("entities", []))
    if entities:
        lines.append(f"    entities: {entities}")
    return lines


def article_detail(row: dict, out: TextIO) -> None:
    """``wicnews show``: the article, its placements (one a line) and its revisions with
    what changed; the latest text in full."""
    print(f"#{row['id']}  {printable(row['title'] or '(no title)')}", file=out)
    published = (row["published_at"] or "date unknown")[:16].replace("T", " ")
    print(f"{printable(row['site_name'] or '-')} · {published} UTC · {printable(row['language'] or '--')} · "
          f"{'relevant' if row['relevant'] else 'not relevant'} · first seen {row['first_seen_at'][:16].replace('T', ' ')}",
          file=out)
    print(printable(row["canonical_url"]), file=out)
    placements = row["placements"]
    print(f"\nPLACEMENTS ({len(placements)}, {outlets(placements)} outlet{'s' if outlets(placements) != 1 else ''})",
          file=out)
    for p in placements:
        when = (p["published_at"] or "")[:16].replace("T", " ") or ("not fetched" if not p["fetched"] else "-")
        print(f"  {p['kind']:<8} {fit(p['site_name'], 24)}  {when:<16}  {fit(p['title'], 60).rstrip()}", file=out)
        print(f"           {printable(p['url'])}", file=out)
    print(f"\nREVISIONS ({len(row['revisions'])})", file=out)
    for r in row["revisions"]:
        print(f"  {r['number']:>3}  {r['fetched_at'][:16].replace('T', ' ')}  {fit(r['title'], 60).rstrip()}  "
              f"({printable(r['summary'])})", file=out)
    print("\n" + "\n".join(printable(line) for line in row["text"].split("\n")), file=out)


def run_line(run: dict) -> str:
    """One line saying how a run ended and what it counted."""
    counts = run["error_counts"]
    errors = ", ".join(f"{k} {v}" for k, v in counts.items() if not k.startswith("skipped_"))
    skipped = ", ".join(f"{k.removeprefix('skipped_')} {v}" for k, v in counts.items() if k.startswith("skipped_"))
    return (f"run #{run['id']} {run['status']}: {run['pages_fetched']} pages fetched, {run['articles_new']} new articles, "
            f"{run['duplicates']} duplicates, {run['not_relevant']} not relevant, "
            + (f"{run['revised']} revised, " if run.get("revised") else "") + f"{run['errors']} errors"
            + (f" ({errors})" if errors else "") + (f"; skipped: {skipped}" if skipped else ""))


COUNTS = ("pages_fetched", "articles_new", "duplicates", "not_relevant", "errors")


def cycle_line(cycle_id: str, workers: list[dict]) -> str:
    """One line summing the runs of a distributed cycle (its workers)."""
    totals = {k: sum(w[k] or 0 for w in workers) for k in COUNTS}
    statuses = sorted({w["status"] for w in workers})
    return (f"cycle {cycle_id} ({len(workers)} workers, {'/'.join(statuses)}): {totals['pages_fetched']} pages fetched, "
            f"{totals['articles_new']} new articles, {totals['duplicates']} duplicates, "
            f"{totals['not_relevant']} not relevant, {totals['errors']} errors")


def runs(rows: list[dict], out: TextIO) -> None:
    """A line per run; the runs of one distributed cycle under a line that sums them."""
    cycles: dict[str, list[dict]] = {}
    for run in rows:
        if run.get("cycle_id"):
            cycles.setdefault(run["cycle_id"], []).append(run)
    for run in rows:
        started = (run["started_at"] or "")[:19].replace("T", " ")
        workers = cycles.get(run.get("cycle_id") or "")
        if not workers:
            print(f"{started}  {run_line(run)}", file=out)
        elif run is workers[0]:
            print(f"{started}  {cycle_line(run['cycle_id'], workers)}", file=out)
            for worker in workers:
                print(f"{'':21}  - {run_line(worker)}", file=out)
    if not rows:
        print("no runs", file=out)


def _when(value: str | None) -> str:
    return (value or "-")[:16].replace("T", " ")


def sources(rows: list[dict], out: TextIO) -> None:
    """One line a source: health first (failures, last success), then its URL."""
    if not rows:
        print("no sources polled yet", file=out)
        return
    print(f"{'SOURCE':<40} {'FAILS':>5} {'LAST SUCCESS':<16}  {'LAST NEW':<16}  {'PER POLL':>8}  "
          f"{'NEXT POLL':<16}  LAST ERROR", file=out)
    for row in rows:
        per_poll = "-" if row["articles_per_poll"] is None else f"{row['articles_per_poll']:.2f}"
        error = f"{row['last_error_kind']} at {_when(row['last_error_at'])}" if row["last_error_kind"] else "-"
        print(f"{fit(row['name'], 40)} {row['consecutive_failures']:>5} {_when(row['last_success_at']):<16}  "
              f"{_when(row['last_new_article_at']):<16}  {per_poll:>8}  {_when(row['next_poll_at']):<16}  {error}",
              file=out)
        print(f"  {row['kind']} {row['url']}", file=out)
