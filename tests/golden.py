"""Golden extraction records: what ``extract_article`` gives for each article page of the
fixture site, kept as JSON beside the fixtures (``scripts/regen_golden.py`` rewrites them)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path

from conftest import FIXTURES, read_site

from wicnews.extract import extract_article

BASE = "http://127.0.0.1:8000"
EXPECTED_DIR = FIXTURES / "expected"
PAGES = [
    "/scmp/news/china/science/article/3199102/world-internet-conference-tilts-towards-business-tech-tycoons-stay-away-wuzhen.html",
    "/scmp/amp/news/china/science/article/3199102/world-internet-conference-tilts-towards-business-tech-tycoons-stay-away-wuzhen.html",
    "/wire/2022/11/11/china-internet-conference-business-focus.html",
    "/digest/stories/wic-2022-business-focus.html",
    "/mirror/2022/11/12/wuzhen-summit-business-turn.html",
    "/scmp/sport/football/article/3199150/hong-kong-football-league-season-resumes.html",
    "/zj/2022/11/09/wic2022-opening.html",
    "/bad/slightly-broken.html",
]
HEADERS = {"/zj/2022/11/09/wic2022-opening.html": {"content-type": "text/html; charset=gb2312"}}


def golden_record(path: str) -> dict:
    """Every field of the extractor's result (``Extracted``), JSON-ready; the text a list of lines."""
    page = extract_article(read_site(path, BASE), BASE + path, HEADERS.get(path, {"content-type": "text/html"}))
    record = {}
    for field in dataclasses.fields(page):
        value = getattr(page, field.name)
        record[field.name] = value.isoformat() if isinstance(value, datetime) else value
    record["text"] = page.text.split("\n")
    return record


def expected_path(path: str) -> Path:
    """``<site>[-amp]-<page>.json``: the first path segment names the fixture site."""
    site = path.strip("/").split("/")[0] + ("-amp" if "/amp/" in path else "")
    return EXPECTED_DIR / f"{site}-{Path(path).stem}.json"
