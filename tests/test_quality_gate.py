"""The extraction quality gate: the real AEB pages scored against bench/floors.toml."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import REPO

EVAL = REPO.parent / "shared" / "eval" / "aeb" / "ground-truth.json"


@pytest.mark.skipif(not EVAL.exists(), reason="benchmark data (../shared/eval) not present")
def test_extraction_meets_the_floors():
    result = subprocess.run([sys.executable, str(REPO / "bench" / "extract_eval.py")], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("AEB: 181 pages")


def test_metric_matches_the_benchmark_definition():
    sys.path.insert(0, str(REPO / "bench"))
    try:
        from extract_eval import score
    finally:
        sys.path.pop(0)
    assert score("a b c d e", "a b c d e") == (1.0, 1.0)
    assert score("a b c d e", "") == (None, 0.0)        # no prediction: skipped in precision
    assert score("", "") == (1.0, 1.0)                  # nothing to find, nothing found
    precision, recall = score("a b c d e f", "a b c d x y")  # shingles: 3 true, 3 predicted, 1 shared
    assert (round(precision, 3), round(recall, 3)) == (0.333, 0.333)
