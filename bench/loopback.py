"""What the crawl benchmarks share: loopback sites of saved or generated pages, the fixture
server, the memory of a process tree, and where the evaluation data lives.

    aeb_site(root)            the 181 real pages of ``$WICNEWS_EVAL_DIR/aeb`` (none when absent)
    synthetic_site(root, n)   n distinct articles: a real page's template, text from real articles
    serve(root)               the fixture server on 127.0.0.1:0 (a context manager giving the base URL)
    TreeMemory(pid)           samples the RSS and PSS of a process and its descendants
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEED_PAGE = REPO / "tests/fixtures/site/scmp/news/china/science/article/3199102/" \
    "world-internet-conference-tilts-towards-business-tech-tycoons-stay-away-wuzhen.html"
WORDS = ["internet", "data", "digital", "economy", "summit", "delegates", "platform", "security", "cloud", "industry",
         "policy", "forum", "investment", "network", "governance", "cooperation", "standards", "market", "research"]


def eval_dir() -> Path | None:
    """``$WICNEWS_EVAL_DIR``, else ``../shared/eval`` beside the repository (or one level up,
    from a worktree), when it holds the AEB pages."""
    if os.environ.get("WICNEWS_EVAL_DIR"):
        candidates = [Path(os.environ["WICNEWS_EVAL_DIR"]).expanduser()]
    else:
        candidates = [REPO.parent / "shared" / "eval", REPO.parent.parent / "shared" / "eval"]
    return next((c.resolve() for c in candidates if (c / "aeb" / "ground-truth.json").is_file()), None)


def write_feed(root: Path, paths: list[str]) -> None:
    items = "".join(f"<item><title>page {i}</title><link>{{{{BASE}}}}{p}</link></item>" for i, p in enumerate(paths))
    (root / "feed.rss").write_text(f'<?xml version="1.0"?><rss version="2.0"><channel><title>bench</title>{items}'
                                   "</channel></rss>", encoding="utf-8")
    (root / "robots.txt").write_text("User-agent: *\nDisallow:\n")


def aeb_site(root: Path) -> dict[str, Path]:
    """The AEB pages as ``/aeb/<id>.html`` (decompressed) and a feed listing them: ``{path: file}``."""
    source = eval_dir()
    if source is None:
        return {}
    pages = {}
    (root / "aeb").mkdir(parents=True, exist_ok=True)
    for page in sorted((source / "aeb" / "html").glob("*.html.gz")):
        path = f"/aeb/{page.name.removesuffix('.gz')}"
        target = root / path.lstrip("/")
        target.write_bytes(gzip.decompress(page.read_bytes()))
        pages[path] = target
    write_feed(root, list(pages))
    return pages


def real_sentences() -> list[str]:
    """Sentences of the AEB gold bodies (real text), or generated ones without the data."""
    source = eval_dir()
    if source is None:
        rng = random.Random(0)
        return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 24))).capitalize() + "." for _ in range(5000)]
    gold = json.loads((source / "aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    sentences = []
    for record in gold.values():
        sentences += [s.strip() for s in re.split(r"(?<=[.!?])\s+", record["articleBody"]) if 40 <= len(s.strip()) <= 400]
    return sentences


def synthetic_site(root: Path, pages: int) -> dict[str, Path]:
    """``pages`` distinct articles (a real news page's template; 6 to 14 paragraphs of real
    sentences drawn at random) under ``/s/<n>.html``, and a feed listing them."""
    template = SEED_PAGE.read_text(encoding="utf-8")
    start, end = template.index("<p>"), template.rindex("</p>") + 4
    sentences = real_sentences()
    out = {}
    (root / "s").mkdir(parents=True, exist_ok=True)
    for i in range(pages):
        rng = random.Random(i)
        body = "".join("<p>" + " ".join(rng.choice(sentences) for _ in range(rng.randint(2, 5))) + "</p>"
                       for _ in range(rng.randint(6, 14)))
        path = f"/s/{i}.html"
        html = (template[:start] + body + template[end:]).replace(SEED_PAGE.name, f"{i}.html").replace(
            "/scmp/news/china/science/article/3199102/", "/s/")
        target = root / path.lstrip("/")
        target.write_text(html, encoding="utf-8")
        out[path] = target
    write_feed(root, list(out))
    return out


@contextlib.contextmanager
def serve(root: Path) -> Iterator[str]:
    """The fixture server over ``root``: yields its base URL; stopped on exit."""
    server = subprocess.Popen([sys.executable, "-m", "wicnews.fixture_server", str(root), "--port", "0"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        yield server.stdout.readline().strip()
    finally:
        server.terminate()
        server.wait()
        if server.stdout:
            server.stdout.close()


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def _kb(path: str, field: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_memory(pid: int) -> tuple[int, int, int]:
    """(RSS of ``pid``, summed RSS, summed PSS of ``pid`` and its descendants), in kB."""
    tree, pids, todo = _children(), [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo += tree.get(p, [])
    rss = [_kb(f"/proc/{p}/status", "VmRSS") for p in pids]
    pss = [_kb(f"/proc/{p}/smaps_rollup", "Pss") for p in pids]
    return rss[0], sum(rss), sum(pss)


class TreeMemory:
    """Peak memory of a process tree, sampled every ``interval`` seconds in a thread."""

    def __init__(self, pid: int, interval: float = 0.2):
        self.pid, self.interval = pid, interval
        self.peak_main = self.peak_rss = self.peak_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            main, rss, pss = tree_memory(self.pid)
            self.peak_main, self.peak_rss, self.peak_pss = (max(self.peak_main, main), max(self.peak_rss, rss),
                                                            max(self.peak_pss, pss))
            time.sleep(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
