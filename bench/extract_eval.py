"""Extraction quality gate on the article-extraction benchmark (AEB).

Scores ``wicnews.extract.extract_article`` (the exact function the crawler uses) on the real
pages of the evaluation directory's ``aeb/`` with the benchmark's metric: ``\\w+`` tokens,
4-token shingles as multisets, per-document precision/recall averaged over documents, F1 of
the means. Prints the figures and fails (exit 1) when F1, precision or recall falls below the
floors in ``bench/floors.toml``. The floors only move up.

The evaluation directory is ``$WICNEWS_EVAL_DIR`` when set, else the first of
``<repo>/../shared/eval`` (CI places ``shared/`` beside the clone) and
``<repo>/../../shared/eval`` (a git worktree one level further down) that exists.
Without it the gate is skipped locally (exit 0) and fails in CI (``$CI`` set, exit 1).

The corpus is pinned: ``corpus_sha256`` in floors.toml is the SHA-256 of the sorted file list
and file contents of ``aeb/`` (``python bench/extract_eval.py --digest`` prints it). Another
corpus fails the gate before any scoring: floors measured on one corpus say nothing about
another. Evaluation data is read in place, never copied into the repository.
"""

from __future__ import annotations

import gzip
import hashlib
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


REPO = HERE.parent


def eval_candidates() -> list[Path]:
    """Where the evaluation directory is looked for, in order."""
    if os.environ.get("WICNEWS_EVAL_DIR"):
        return [Path(os.environ["WICNEWS_EVAL_DIR"]).expanduser().resolve()]
    return [REPO.parent / "shared" / "eval", REPO.parent.parent / "shared" / "eval"]


def aeb_dir() -> Path | None:
    """The benchmark's ``aeb/`` folder, or None when no candidate holds it."""
    for candidate in eval_candidates():
        if (candidate / "aeb" / "ground-truth.json").is_file():
            return candidate / "aeb"
    return None


def missing_message() -> str:
    return ("extraction benchmark not found: no aeb/ground-truth.json under "
            + " or ".join(str(c) for c in eval_candidates()) + " (set WICNEWS_EVAL_DIR)")


def corpus_digest(root: Path) -> tuple[str, int]:
    """SHA-256 over the sorted relative paths and contents of every file under ``root``, and
    the number of files."""
    files = sorted((p for p in root.rglob("*") if p.is_file()), key=lambda p: p.relative_to(root).as_posix())
    total = hashlib.sha256()
    for path in files:
        total.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0")
        total.update(hashlib.sha256(path.read_bytes()).hexdigest().encode("ascii") + b"\n")
    return total.hexdigest(), len(files)


def load_floors() -> dict:
    return tomllib.loads((HERE / "floors.toml").read_text(encoding="utf-8"))["aeb"]


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--digest", action="store_true", help="print the corpus digest (floors.toml's corpus_sha256) and exit")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    root = aeb_dir()
    if root is None:
        if os.environ.get("CI"):
            print(f"FAIL: {missing_message()}; the quality gate must run in CI")
            return 1
        print(f"extract_eval: {missing_message()}; skipped")
        return 0
    digest, count = corpus_digest(root)
    if args.digest:
        print(f"{digest}  {count} files under {root}")
        return 0
    floors = load_floors()
    if digest != floors["corpus_sha256"]:
        print(f"FAIL: the benchmark corpus at {root} has drifted: its {count} files hash to {digest}, "
              f"bench/floors.toml pins {floors['corpus_sha256']}. The floors were measured on the pinned corpus: "
              "restore it, or (if the new corpus is intended) re-measure and update corpus_sha256 and the floors together.")
        return 1
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
    failed = [f"{name} {value:.3f} < floor {floors[name]}" for name, value in
              (("f1", f1), ("precision", precision), ("recall", recall)) if value < floors[name]]
    for line in failed:
        print(f"FAIL: {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
