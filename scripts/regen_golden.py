"""Regenerate the golden extraction files: tests/fixtures/expected/<page>.json.

Run it when extraction changes on purpose, then read the diff before committing:

    python scripts/regen_golden.py && git diff tests/fixtures/expected
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from golden import EXPECTED_DIR, PAGES, expected_path, golden_record  # noqa: E402


def main() -> int:
    EXPECTED_DIR.mkdir(parents=True, exist_ok=True)
    for path in PAGES:
        target = expected_path(path)
        target.write_text(json.dumps(golden_record(path), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {target.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
