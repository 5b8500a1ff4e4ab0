"""Relevance figures on the labelled cases in ``tests/relevance_cases/*.toml``.

Scores ``wicnews.relevance.judge`` (the function the pipeline uses) against each case's
expected level and prints: precision and recall of ``coverage``, accuracy of ``mention``
vs ``none`` on the cases that are not coverage, overall accuracy, and every miss.
``tests/test_relevance_eval.py`` runs the same evaluation and fails below its pinned floors.

    python bench/relevance_eval.py [--topic FILE] [CASES_DIR]
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections import Counter
from pathlib import Path

from wicnews.relevance import judge
from wicnews.topic import Topic, load_topic

CASES = Path(__file__).resolve().parent.parent / "tests" / "relevance_cases"


def load_cases(directory: Path = CASES) -> list[dict]:
    """Every ``[[case]]`` of every ``*.toml`` in ``directory``, with its file's stem as ``category``."""
    cases = []
    for path in sorted(directory.glob("*.toml")):
        for case in tomllib.loads(path.read_text(encoding="utf-8"))["case"]:
            cases.append({**case, "text": case["text"].strip(), "category": path.stem})
    return cases


def evaluate(cases: list[dict], topic: Topic | None = None) -> dict:
    """Figures of ``judge`` on ``cases``: counts, precision/recall of coverage, mention-vs-none
    accuracy, overall accuracy, and the misses as ``(id, expected, got, score)``."""
    tp = fp = fn = 0
    rest_ok = rest = ok = 0
    misses = []
    for case in cases:
        got = judge(case["title"], case["text"], topic)
        want = case["level"]
        tp += want == "coverage" and got.level == "coverage"
        fp += want != "coverage" and got.level == "coverage"
        fn += want == "coverage" and got.level != "coverage"
        if want != "coverage":
            rest += 1
            rest_ok += got.level == want
        ok += got.level == want
        if got.level != want:
            misses.append((case["id"], want, got.level, got.score))
    return {
        "cases": len(cases),
        "by_category": dict(Counter(c["category"] for c in cases)),
        "by_level": dict(Counter(c["level"] for c in cases)),
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "mention_none_accuracy": rest_ok / rest if rest else 1.0,
        "accuracy": ok / len(cases) if cases else 1.0,
        "misses": misses,
    }


def report(figures: dict) -> str:
    lines = [f"relevance: {figures['cases']} cases "
             + ", ".join(f"{k} {v}" for k, v in sorted(figures["by_level"].items())),
             "  categories: " + ", ".join(f"{k} {v}" for k, v in sorted(figures["by_category"].items())),
             f"  coverage precision {figures['precision']:.3f}  recall {figures['recall']:.3f}",
             f"  mention-vs-none accuracy {figures['mention_none_accuracy']:.3f}  overall accuracy {figures['accuracy']:.3f}"]
    lines += [f"  miss: {i} expected {w}, got {g} (score {s})" for i, w, g, s in figures["misses"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="?", type=Path, default=CASES)
    parser.add_argument("--topic", help="topic profile (default: the bundled WIC profile)")
    args = parser.parse_args(argv)
    print(report(evaluate(load_cases(args.cases), load_topic(args.topic))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
