"""The extraction quality gate: the real AEB pages scored against bench/floors.toml, on the
pinned corpus. Without the data the gate is skipped locally and fails in CI (``$CI`` set)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys

import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
try:
    import extract_eval
finally:
    sys.path.pop(0)


@pytest.mark.e2e
def test_extraction_meets_the_floors():
    root = extract_eval.aeb_dir()
    if root is None:
        if os.environ.get("CI"):
            pytest.fail(f"{extract_eval.missing_message()}: the quality gate must run in CI")
        pytest.skip(extract_eval.missing_message())
    env = {**os.environ, "WICNEWS_EVAL_DIR": str(root.parent)}
    result = subprocess.run([sys.executable, str(REPO / "bench" / "extract_eval.py")], capture_output=True, text=True,
                            env=env, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("AEB: 181 pages")


def test_the_eval_directory_setting_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("WICNEWS_EVAL_DIR", str(tmp_path))
    assert extract_eval.eval_candidates() == [tmp_path.resolve()]
    assert extract_eval.aeb_dir() is None  # set but empty: no silent fallback to another place
    (tmp_path / "aeb").mkdir()
    (tmp_path / "aeb" / "ground-truth.json").write_text("{}")
    assert extract_eval.aeb_dir() == tmp_path.resolve() / "aeb"
    monkeypatch.delenv("WICNEWS_EVAL_DIR")
    assert extract_eval.eval_candidates() == [REPO.parent / "shared" / "eval", REPO.parent.parent / "shared" / "eval"]


def test_missing_data_fails_in_ci_and_is_skipped_locally(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("WICNEWS_EVAL_DIR", str(tmp_path / "nowhere"))
    monkeypatch.delenv("CI", raising=False)
    assert extract_eval.main([]) == 0
    assert "skipped" in capsys.readouterr().out
    monkeypatch.setenv("CI", "true")
    assert extract_eval.main([]) == 1
    assert capsys.readouterr().out.startswith("FAIL: extraction benchmark not found")


def fake_corpus(root):
    (root / "aeb" / "html").mkdir(parents=True)
    (root / "aeb" / "ground-truth.json").write_text(json.dumps({"a": {"articleBody": "x", "url": "http://e/a"}}))
    (root / "aeb" / "html" / "a.html.gz").write_bytes(gzip.compress(b"<html><body><p>x</p></body></html>", mtime=0))
    return root / "aeb"


def test_the_corpus_digest_covers_names_and_contents(tmp_path):
    aeb = fake_corpus(tmp_path)
    digest, count = extract_eval.corpus_digest(aeb)
    assert count == 2 and extract_eval.corpus_digest(aeb) == (digest, 2)
    (aeb / "html" / "a.html.gz").rename(aeb / "html" / "b.html.gz")
    renamed = extract_eval.corpus_digest(aeb)[0]
    assert renamed != digest
    (aeb / "html" / "b.html.gz").write_bytes(b"changed")
    assert extract_eval.corpus_digest(aeb)[0] not in {digest, renamed}
    (aeb / "html" / "b.html.gz").rename(aeb / "html" / "a.html.gz")
    (aeb / "html" / "a.html.gz").write_bytes(gzip.compress(b"<html><body><p>x</p></body></html>", mtime=0))
    assert extract_eval.corpus_digest(aeb)[0] == digest
    (aeb / "extra.txt").write_text("")
    assert extract_eval.corpus_digest(aeb) != (digest, 2)


def test_a_drifted_corpus_fails_before_scoring(monkeypatch, tmp_path, capsys):
    fake_corpus(tmp_path)
    monkeypatch.setenv("WICNEWS_EVAL_DIR", str(tmp_path))
    assert extract_eval.main([]) == 1
    out = capsys.readouterr().out
    assert out.startswith("FAIL: the benchmark corpus at") and "has drifted" in out
    assert extract_eval.load_floors()["corpus_sha256"] in out


def test_metric_matches_the_benchmark_definition():
    score = extract_eval.score
    assert score("a b c d e", "a b c d e") == (1.0, 1.0)
    assert score("a b c d e", "") == (None, 0.0)        # no prediction: skipped in precision
    assert score("", "") == (1.0, 1.0)                  # nothing to find, nothing found
    precision, recall = score("a b c d e f", "a b c d x y")  # shingles: 3 true, 3 predicted, 1 shared
    assert (round(precision, 3), round(recall, 3)) == (0.333, 0.333)
