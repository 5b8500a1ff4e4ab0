"""Every fixture article page extracts exactly to its golden record. When extraction changes
on purpose: ``python scripts/regen_golden.py``, then review ``git diff tests/fixtures/expected``."""

from __future__ import annotations

import json

import pytest
from golden import PAGES, expected_path, golden_record


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.rsplit("/", 1)[-1])
def test_page_matches_its_golden_record(path):
    expected = json.loads(expected_path(path).read_text(encoding="utf-8"))
    assert golden_record(path) == expected
