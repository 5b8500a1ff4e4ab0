"""Search and consumer reads on a database of N generated articles (English and Chinese).

Stores N articles through the real write path (``store_article``: triggers fill the search
indexes and the commit sequence), then times ``search`` for an English word, a Chinese
phrase, a two-character Chinese term and a term found nowhere, and a consumer's first read,
each beside its limit.

    python bench/search_bench.py [--articles 2000] [--db URL]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.orm import Session

from wicnews.db import consumers
from wicnews.db.articles import store_article
from wicnews.db.engine import open_database
from wicnews.db.queries import Filters, search
from wicnews.pipelines.dedupe import text_key
from wicnews.urls import url_key

EN = ["internet", "data", "digital", "economy", "summit", "delegates", "platform", "security", "cloud", "industry",
      "policy", "forum", "investment", "network", "governance", "cooperation", "standards", "market", "talent"]
ZH = ["互联网", "数字经济", "峰会", "代表", "平台", "安全", "合作", "治理", "标准", "市场", "人才", "浙江", "桐乡"]
LIMITS = {"search English word": 0.5, "search Chinese phrase": 0.5, "search 2-character Chinese": 2.0,
          "search no match": 0.5, "consumer first read (limit 100)": 0.5}


def body(rng: random.Random, i: int) -> tuple[str, str, str]:
    if i % 2:
        return "en", f"Report {i}", " ".join(rng.choice(EN) for _ in range(400))
    return "zh", f"报道 {i}", "".join(rng.choice(ZH) for _ in range(400)) + ("乌镇峰会开幕" if i % 50 == 0 else "")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--db")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="wicnews-search-bench-")
    url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
    engine = open_database(url)
    rng = random.Random(7)
    started = time.perf_counter()
    with Session(engine) as s, s.begin():
        for i in range(args.articles):
            lang, title, text = body(rng, i)
            if i == 17:
                text += " Alibaba"
            link = f"http://bench.test/{i}"
            store_article(s, {"url": link, "canonical_url": link, "url_key": url_key(link), "text_key": text_key(text),
                              "title": title, "authors": [], "published_at": None, "site_name": "Bench",
                              "language": lang, "description": None, "image": None, "tags": [], "text": text,
                              "relevant": True, "matched_terms": ["WIC"], "source": "bench",
                              "first_seen_at": datetime.now(timezone.utc), "run_id": None}, {})
    stored = time.perf_counter() - started
    print(f"{engine.dialect.name}: stored {args.articles} articles in {stored:.1f} s "
          f"({args.articles / stored:.0f}/s, search indexes and sequence by triggers)")
    reader = open_database(url, read_only=True, must_exist=True, auto_upgrade=False)
    cases = {"search English word": lambda: search(reader, "Alibaba", Filters(include_all=True)),
             "search Chinese phrase": lambda: search(reader, "乌镇峰会", Filters(limit=20)),
             "search 2-character Chinese": lambda: search(reader, "乌镇", Filters(limit=20)),
             "search no match": lambda: search(reader, "zzzqqq", Filters()),
             "consumer first read (limit 100)": lambda: consumers.pending(reader, "bench", Filters(limit=100))}
    failed = False
    for name, run in cases.items():
        run()  # warm
        t0 = time.perf_counter()
        result = run()
        elapsed = time.perf_counter() - t0
        n = len(result.rows) if hasattr(result, "rows") else len(result)
        ok = elapsed <= LIMITS[name]
        failed |= not ok
        print(f"  {name:34s} {elapsed * 1000:8.1f} ms  (limit {LIMITS[name] * 1000:.0f} ms) {n:5d} results  "
              f"{'ok' if ok else 'OVER'}")
    reader.dispose()
    engine.dispose()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
