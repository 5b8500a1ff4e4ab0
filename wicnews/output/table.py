"""Tables for the terminal, aligned in terminal cells (a Chinese character takes two)."""

from __future__ import annotations

import unicodedata
from typing import TextIO


def _cells(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def fit(text: str | None, width: int) -> str:
    """``text`` cut and padded to ``width`` terminal cells."""
    text, out, used = text or "-", [], 0
    if sum(map(_cells, text)) > width:
        width -= 1
        for ch in text:
            if used + _cells(ch) > width:
                break
            out.append(ch)
            used += _cells(ch)
        return "".join(out) + "…" + " " * (width - used)
    return text + " " * (width - sum(map(_cells, text)))


def articles(rows: list[dict], out: TextIO) -> None:
    """Two or three lines an article: id, time, language, site and title; URL and copies;
    the matched terms."""
    if not rows:
        print("no articles", file=out)
        return
    print(f"{'ID':<6} {'PUBLISHED (UTC)':<16}  {'LNG':<3} {fit('SITE', 26)}  TITLE / URL / MATCHED TERMS", file=out)
    for row in rows:
        published = (row["published_at"] or "")[:16].replace("T", " ") or "date unknown    "
        flag = "" if row["relevant"] else "  [not relevant]"
        print(f"#{row['id']:<5} {published}  {row['language'] or '--':<3} {fit(row['site_name'], 26)}  "
              f"{fit(row['title'], 90).rstrip()}{flag}", file=out)
        terms = ", ".join(row["matched_terms"])
        others = len(row["also_at"])
        copies = f"  (+{others} other URL{'s' if others != 1 else ''})" if others else ""
        print(f"       {row['canonical_url']}{copies}" + (f"\n       matched: {terms}" if terms else ""), file=out)
        if row.get("snippet"):
            print(f"       {row['snippet']}", file=out)


def run_line(run: dict) -> str:
    """One line saying how a run ended and what it counted."""
    counts = run["error_counts"]
    errors = ", ".join(f"{k} {v}" for k, v in counts.items() if not k.startswith("skipped_"))
    skipped = ", ".join(f"{k.removeprefix('skipped_')} {v}" for k, v in counts.items() if k.startswith("skipped_"))
    return (f"run #{run['id']} {run['status']}: {run['pages_fetched']} pages fetched, {run['articles_new']} new articles, "
            f"{run['duplicates']} duplicates, {run['not_relevant']} not relevant, {run['errors']} errors"
            + (f" ({errors})" if errors else "") + (f"; skipped: {skipped}" if skipped else ""))


def runs(rows: list[dict], out: TextIO) -> None:
    for run in rows:
        print(f"{(run['started_at'] or '')[:19].replace('T', ' ')}  {run_line(run)}", file=out)
    if not rows:
        print("no runs", file=out)
