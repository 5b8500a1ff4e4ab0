"""``wicnews report``: a self-contained page whose chart a real headless Chromium draws."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from wicnews.db import engine as db
from wicnews.db.articles import store_article
from wicnews.pipelines.dedupe import text_key
from wicnews.report import BAR_COLOR
from wicnews.urls import url_key

DAY0 = datetime(2022, 11, 8, 9, 0, tzinfo=timezone.utc)
# (day offset, site, language, number of other URLs): 3 days with articles, one without
ARTICLES = [(0, "Xinhua", "zh", 0), (0, "Reuters", "en", 2), (0, "Xinhua", "zh", 0), (1, "SCMP", "en", 5),
            (3, "Reuters", "en", 0), (3, "Xinhua", "zh", 1), (3, "CGTN", "en", 0), (3, "SCMP", "en", 0)]


def chromium() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium must be installed in CI (.ci/run installs it)")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    return path


def seed(url: str) -> None:
    engine = db.open_database(url)
    try:
        for i, (offset, site, lang, copies) in enumerate(ARTICLES):
            body = f"Story {i} from {site}: the World Internet Conference in Wuzhen <b>&amp;</b> " * 6
            link = f"http://{site.lower()}.test/{i}"
            others = {url_key(f"{link}/copy{j}"): f"{link}/copy{j}" for j in range(copies)}
            with Session(engine) as s, s.begin():
                store_article(s, {
                    "url": link, "canonical_url": link, "url_key": url_key(link), "text_key": text_key(body),
                    "title": f"Story {i} <script>alert(1)</script> 乌镇", "authors": [],
                    "published_at": DAY0 + timedelta(days=offset, hours=i), "site_name": site, "language": lang,
                    "description": None, "image": None, "tags": [], "text": body, "relevant": True,
                    "relevance_level": "coverage",
                    "matched_terms": ["Wuzhen"], "source": "t", "first_seen_at": datetime.now(timezone.utc),
                    "run_id": None}, others)
    finally:
        engine.dispose()


def bar_runs(png: Path) -> list[int]:
    """The widths of the runs of bar-coloured pixels along a line just above the chart's base."""
    from PIL import Image

    image = Image.open(png).convert("RGB")
    target = tuple(int(BAR_COLOR[i:i + 2], 16) for i in (1, 3, 5))
    width, height = image.size
    pixels = image.load()

    def is_bar(x: int, y: int) -> bool:
        return all(abs(a - b) <= 12 for a, b in zip(pixels[x, y], target, strict=True))

    rows = [y for y in range(height) if any(is_bar(x, y) for x in range(0, width, 2))]
    if not rows:
        return []
    y = max(rows) - 3
    runs, current = [], 0
    for x in range(width):
        if is_bar(x, y):
            current += 1
        elif current:
            runs.append(current)
            current = 0
    return runs + ([current] if current else [])


def test_report_renders_in_headless_chromium(wicnews, sqlite_url, tmp_path):
    browser = chromium()
    seed(sqlite_url)
    out = tmp_path / "report.html"
    result = wicnews("report", "--out", str(out), "--db", sqlite_url, check=True)
    assert "8 articles" in result.stdout
    page = out.read_text(encoding="utf-8")
    # self-contained: no scripts, styles, images or fonts fetched from anywhere
    assert "<script" not in page and "<link" not in page and "<img" not in page and "url(" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "乌镇" in page
    assert page.count('class="bar"') == 3  # the days with articles; the empty days have no bar
    assert "Most republished" in page and page.index("Story 3") < page.index("Story 1 ")  # 5 copies before 2
    shot = tmp_path / "report.png"
    proc = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                           "--disable-component-update", "--disable-sync", "--no-first-run",
                           f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1200,900",
                           out.as_uri()], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0 and shot.exists(), proc.stderr[-2000:]
    runs = bar_runs(shot)
    assert len(runs) == 3 and all(r >= 10 for r in runs), runs  # three bars drawn, each visibly wide


def test_report_of_an_empty_period_and_mistakes(wicnews, sqlite_url, tmp_path):
    seed(sqlite_url)
    out = tmp_path / "empty.html"
    wicnews("report", "--out", str(out), "--since", "2099-01-01", "--db", sqlite_url, check=True)
    assert "No coverage in this period." in out.read_text(encoding="utf-8")
    bad = wicnews("report", "--out", str(tmp_path / "no" / "dir" / "r.html"), "--db", sqlite_url)
    assert bad.returncode == 2 and "cannot write" in bad.stderr and "Traceback" not in bad.stderr
    missing = wicnews("report", "--out", str(out), "--db", f"sqlite:///{tmp_path / 'none.db'}")
    assert missing.returncode == 3 and not (tmp_path / "none.db").exists()
