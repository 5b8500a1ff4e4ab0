"""CSV for spreadsheets: UTF-8 with a byte-order mark (so Excel reads Chinese right), one row
an article, lists joined with `` | ``, and text cells that a spreadsheet would take for a
formula (``=``, ``+``, ``-``, ``@``) prefixed with an apostrophe."""

from __future__ import annotations

import csv
from typing import TextIO

COLUMNS = ("id", "published_at", "first_seen_at", "language", "site_name", "title", "canonical_url", "authors",
           "matched_terms", "tags", "relevant", "source", "description", "also_at", "snippet")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str | int:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value
    if isinstance(value, list):
        value = " | ".join(str(v) for v in value)
    value = str(value)
    return "'" + value if value.startswith(_FORMULA) else value


def articles(rows: list[dict], out: TextIO) -> None:
    columns = [c for c in COLUMNS if c != "snippet" or any("snippet" in r for r in rows)]
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
