"""Output formats: each is one writer, chosen by ``--format``.

``ARTICLE_FORMATS``, ``RUN_FORMATS`` and ``SOURCE_FORMATS`` map a format name to ``writer(rows, out)``; rows are
the JSON-ready dicts of ``wicnews.db.queries``. A new format is one function and one entry.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TextIO

from wicnews.output import atom, csvfmt, table

Writer = Callable[[list[dict], TextIO], None]


def write_json(rows: list[dict], out: TextIO) -> None:
    """One JSON array, non-ASCII text as is."""
    json.dump(rows, out, ensure_ascii=False, indent=2)
    out.write("\n")


def write_jsonl(rows: list[dict], out: TextIO) -> None:
    """One JSON object a line (JSON Lines), non-ASCII text as is."""
    out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


ARTICLE_FORMATS: dict[str, Writer] = {"table": table.articles, "json": write_json, "jsonl": write_jsonl,
                                      "csv": csvfmt.articles, "atom": atom.articles}
# What a format shows of an article and of each of its placements, when not everything:
# (article fields, placement fields), read from the database and nothing more.
ARTICLE_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "table": (table.ARTICLE_FIELDS, table.PLACEMENT_FIELDS)}
RUN_FORMATS: dict[str, Writer] = {"table": table.runs, "json": write_json}
SOURCE_FORMATS: dict[str, Writer] = {"table": table.sources, "json": write_json}
