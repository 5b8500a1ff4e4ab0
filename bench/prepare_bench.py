"""Cost of the pure steps between extraction and the store, on the 181 real AEB pages.

Extracts each page of ``$WICNEWS_EVAL_DIR/aeb`` (default ``../shared/eval``) once, not timed,
then times the three item pipelines a crawled article goes through before the store
(``NormalisePipeline``, ``RelevancePipeline`` with the bundled topic, ``DedupePipeline``: text
key, title key, LSH bands), each article one after the other, ``--repeat`` times; prints the
best total of each step, CPU time of this process and wall time, beside the goal. Also the
start-up cost of the bundled topic (``load_topic`` in a fresh process, CPU time, without and
with the imports it needs).

    python bench/prepare_bench.py [--repeat 5]

Goals: the three steps together <= 0.3 s for the 181 pages (the crawl as fast as bare
trafilatura, ~20 ms a page, leaves them a small fraction); the topic <= 50 ms at start-up.
The patterns of a topic compile on first use: the first pass (not counted) pays for those
the pages need. Exit status 1 when a goal is missed (figures from a quiet machine only).
"""

from __future__ import annotations

import argparse
import copy
import gzip
import subprocess
import sys
import time

from loopback import eval_dir

from wicnews.articles import item_from_page
from wicnews.errors import PageError
from wicnews.extract import extract_article
from wicnews.pipelines.dedupe import DedupePipeline
from wicnews.pipelines.normalise import NormalisePipeline
from wicnews.pipelines.relevance import RelevancePipeline
from wicnews.topic import load_topic

STEPS_GOAL_S = 0.3
TOPIC_GOAL_MS = 50.0
# in a fresh process: the CPU time of importing wicnews.topic and loading the topic, and of the load alone
_LOAD = ("import time; c = time.process_time(); from wicnews.topic import load_topic; import wicnews.config; "
         "i = time.process_time(); load_topic(); e = time.process_time(); print(e - c, e - i)")


def articles() -> list:
    root = eval_dir()
    if root is None:
        return []
    items = []
    for path in sorted((root / "aeb" / "html").glob("*.html.gz")):
        url = f"https://example.org/{path.name.removesuffix('.html.gz')}"
        try:
            items.append(item_from_page(extract_article(gzip.decompress(path.read_bytes()), url, {}), url))
        except PageError:
            continue
    return items


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    items = articles()
    if not items:
        print("aeb: evaluation data not found (set WICNEWS_EVAL_DIR): skipped")
        return 0
    steps = {"normalise": NormalisePipeline(), "relevance": RelevancePipeline(topic=load_topic()),
             "dedupe": DedupePipeline()}
    best = {name: (float("inf"), float("inf")) for name in steps}
    for run in range(args.repeat + 1):
        batch, spent = [copy.deepcopy(item) for item in items], {name: [0.0, 0.0] for name in steps}
        for item in batch:
            for name, step in steps.items():
                t, c = time.perf_counter(), time.process_time()
                step.process_item(item)
                spent[name][0] += time.process_time() - c
                spent[name][1] += time.perf_counter() - t
        if run:  # the first pass compiles the patterns the pages need
            best = {name: (min(best[name][0], cpu), min(best[name][1], wall)) for name, (cpu, wall) in spent.items()}
    for name, (cpu, wall) in best.items():
        print(f"{name:<10} {cpu:6.3f} s CPU ({cpu / len(items) * 1000:5.2f} ms a page), {wall:6.3f} s wall")
    cpu, wall = sum(c for c, _ in best.values()), sum(w for _, w in best.values())
    ok = cpu <= STEPS_GOAL_S
    print(f"together   {cpu:6.3f} s CPU, {wall:6.3f} s wall for {len(items)} pages (goal {STEPS_GOAL_S} s) "
          f"{'ok' if ok else 'MISSED'}")
    loads = [subprocess.run([sys.executable, "-c", _LOAD], capture_output=True, text=True, check=True).stdout.split()
             for _ in range(3)]
    with_imports, load_cpu = min(float(w) for w, _ in loads) * 1000, min(float(c) for _, c in loads) * 1000
    print(f"topic      {load_cpu:6.1f} ms CPU to load and compile at start-up ({with_imports:.1f} ms with the imports "
          f"of wicnews.topic and wicnews.config) (goal {TOPIC_GOAL_MS:.0f} ms) {'ok' if load_cpu <= TOPIC_GOAL_MS else 'MISSED'}")
    return 0 if ok and load_cpu <= TOPIC_GOAL_MS else 1


if __name__ == "__main__":
    sys.exit(main())
