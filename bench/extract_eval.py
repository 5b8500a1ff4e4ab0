"""Extraction quality gate on the article-extraction benchmark (AEB).

Scores ``wicnews.extract.extract_article`` (the exact function the crawler uses) on the real
pages in ``../shared/eval/aeb`` (or ``$WICNEWS_EVAL_DIR``) with the benchmark's metric:
``\\w+`` tokens, 4-token shingles as multisets, per-document precision/recall averaged over
documents, F1 of the means. Prints the figures and fails (exit 1) when F1, precision or
recall falls below the floors in ``bench/floors.toml``. The floors only move up.
Evaluation data is read in place, never copied into the repository.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import sys
import time
import tomllib
from collections import Counter
from pathlib import Path

from wicnews.errors import PageError
from wicnews.extract import extract_article

HERE = Path(__file__).parent
TOKEN = re.compile(r"\w+")


def shingles(text: str, n: int = 4) -> Counter:
    tokens = TOKEN.findall(text or "")
    return Counter(tuple(tokens[i:i + n]) for i in range(max(0, len(tokens) - n + 1)))


def score(truth: str, predicted: str) -> tuple[float | None, float | None]:
    """Per-document (precision, recall); None where the benchmark skips the document."""
    t, p = shingles(truth), shingles(predicted)
    tp = sum((t & p).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    if tp + fp + fn == 0:
        return 1.0, 1.0
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    return precision, recall


def main() -> int:
    root = Path(os.environ.get("WICNEWS_EVAL_DIR") or HERE.parent.parent / "shared" / "eval") / "aeb"
    if not (root / "ground-truth.json").exists():
        print(f"extract_eval: no benchmark at {root}; skipped")
        return 0
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    precisions, recalls, errors = [], [], Counter()
    started = time.perf_counter()
    for doc_id, expected in sorted(truth.items()):
        body = gzip.decompress((root / "html" / f"{doc_id}.html.gz").read_bytes())
        try:
            text = extract_article(body, expected["url"], {"content-type": "text/html; charset=utf-8"}).text
        except PageError as exc:
            errors[exc.kind] += 1
            text = ""
        p, r = score(expected["articleBody"], text)
        if p is not None:
            precisions.append(p)
        if r is not None:
            recalls.append(r)
    elapsed = time.perf_counter() - started
    precision = sum(precisions) / len(precisions)
    recall = sum(recalls) / len(recalls)
    f1 = 2 * precision * recall / (precision + recall)
    print(f"AEB: {len(truth)} pages  F1 {f1:.3f}  precision {precision:.3f}  recall {recall:.3f}  "
          f"{len(truth) / elapsed:.1f} pages/s (one core, metadata included)  errors {dict(errors) or 0}")
    floors = tomllib.loads((HERE / "floors.toml").read_text())["aeb"]
    failed = [f"{name} {value:.3f} < floor {floors[name]}" for name, value in
              (("f1", f1), ("precision", precision), ("recall", recall)) if value < floors[name]]
    for line in failed:
        print(f"FAIL: {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
