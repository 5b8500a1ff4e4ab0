"""Metadata evaluation on the fundus gold pages (titles, authors, publication dates).

Scores ``wicnews.extract.extract_article`` (the function the crawler uses) on the real news
pages in ``../shared/eval/fundus`` (or ``$WICNEWS_EVAL_DIR``): 258 pages from publishers in 43
countries, each with its publisher's gold title, authors and publication time. Metrics, as
``../shared/eval/README.md`` defines them: title exact after NFKC and whitespace collapse;
author sets exact after case-folding; the publication day read in the gold's own offset;
the minute likewise (a gold written without an offset is the publisher's wall clock,
compared with the extracted time in the offset the page stated or was read in). Prints each
figure beside its goal (exit 1 when one is missed); ``-v`` lists the misses.
Evaluation data is read in place, never copied into the repository.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import sys
import time
import unicodedata
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from wicnews.errors import PageError
from wicnews.extract import extract_article

HERE = Path(__file__).parent
GOALS = {"titles": 0.85, "authors": 0.85, "day": 0.985, "minute": 0.97}


def norm(text: str | None) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text or "")).strip()


def pages(root: Path):
    """``(path, url, gold)`` for every page: a publisher's gold versions pair with its pages in date order."""
    for country in sorted(p for p in root.iterdir() if p.is_dir()):
        meta = json.loads((country / "meta.info").read_text(encoding="utf-8"))
        for gold_file in sorted(country.glob("*.json")):
            gold = json.loads(gold_file.read_text(encoding="utf-8"))
            files = sorted(country.glob(f"{gold_file.stem}_*.html.gz"),
                           key=lambda p: p.name.removeprefix(gold_file.stem + "_"))
            files = [f for f in files if re.fullmatch(r"\d{4}_\d{2}_\d{2}\.html\.gz", f.name[len(gold_file.stem) + 1:])]
            for path, key in zip(files, sorted(gold), strict=False):
                yield path, meta.get(path.name, {}).get("url", ""), gold[key]


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="list the misses")
    verbose = parser.parse_args(argv).verbose
    root = Path(os.environ.get("WICNEWS_EVAL_DIR") or HERE.parent.parent / "shared" / "eval") / "fundus" / "test_data"
    if not root.is_dir():
        print(f"metadata_eval: no gold pages at {root}; skipped")
        return 0
    hits: Counter = Counter()
    counted: Counter = Counter()
    sources: Counter = Counter()
    started = time.perf_counter()
    n = 0
    for path, url, gold in pages(root):
        n += 1
        try:
            page = extract_article(gzip.decompress(path.read_bytes()), url, {"content-type": "text/html"})
        except PageError as exc:
            page = getattr(exc, "extracted", None)  # a refused page may still carry its metadata
        title = page.title if page else None
        authors = page.authors if page else []
        when = page.published_at if page else None
        sources[getattr(page, "published_source", None) or "none"] += 1
        if "title" in gold:
            counted["titles"] += 1
            ok = norm(title) == norm(gold["title"])
            hits["titles"] += ok
            if verbose and not ok:
                print(f"TITLE  {path.name}: {title!r} != {gold['title']!r}")
        if "authors" in gold:
            counted["authors"] += 1
            ok = {norm(a).casefold() for a in authors} == {norm(a).casefold() for a in gold["authors"]}
            hits["authors"] += ok
            if verbose and not ok:
                print(f"AUTHOR {path.name}: {authors!r} != {gold['authors']!r}")
        if gold.get("publishing_date"):
            expected = datetime.fromisoformat(gold["publishing_date"])
            counted["day"] += 1
            counted["minute"] += 1
            # a gold without an offset is the publisher's wall clock: compare in the offset the page was read in
            offset = getattr(page, "published_offset", None)
            zone = expected.tzinfo or (timezone(timedelta(minutes=offset)) if offset is not None else UTC)
            local = when.astimezone(zone) if when else None
            day_ok = local is not None and local.date() == expected.date()
            minute_ok = local is not None and local.replace(second=0, microsecond=0, tzinfo=None) == \
                expected.replace(second=0, microsecond=0, tzinfo=None)
            hits["day"] += day_ok
            hits["minute"] += minute_ok
            if verbose and not minute_ok:
                print(f"DATE   {path.name}: {local} ({getattr(page, 'published_source', None)}) != {expected}")
    elapsed = time.perf_counter() - started
    print(f"fundus: {n} pages, {n / elapsed:.1f} pages/s")
    missed = []
    for name, goal in GOALS.items():
        share = hits[name] / counted[name] if counted[name] else 0.0
        mark = "ok" if share >= goal else "BELOW GOAL"
        if share < goal:
            missed.append(name)
        print(f"  {name:8} {share:6.1%}  ({hits[name]}/{counted[name]})  goal >= {goal:.1%}  {mark}")
    print("  date sources: " + ", ".join(f"{k} {v}" for k, v in sources.most_common()))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
