"""What the crawl benchmarks share: loopback sites of saved or generated pages, the fixture
server, the memory of a process tree, and where the evaluation data lives.

    aeb_site(root)            the 181 real pages of ``$WICNEWS_EVAL_DIR/aeb`` (none when absent)
    synthetic_site(root, n)   n distinct articles: a real page's template, text from real articles
    serve(root)               a keep-alive file server on 127.0.0.1:0 (``serve_files``, run as this script),
                              or the fixture server: a context manager giving the base URL
    TreeMemory(pid)           samples the RSS and PSS of a process and its descendants (and their CPU time)
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


FEED_ENTRIES = 1000  # a crawl reads at most 2000 entries of one feed (wicnews.feeds.MAX_FEED_ENTRIES)


def feed_names(pages: int) -> list[str]:
    """The feeds listing ``pages`` pages: ``feed.rss``, then ``feed-2.rss``, ... (``FEED_ENTRIES`` each)."""
    return ["feed.rss" if n == 0 else f"feed-{n + 1}.rss" for n in range(max(1, -(-pages // FEED_ENTRIES)))]


def write_feed(root: Path, paths: list[str]) -> None:
    for n, name in enumerate(feed_names(len(paths))):
        items = "".join(f"<item><title>page {i}</title><link>{{{{BASE}}}}{p}</link></item>"
                        for i, p in enumerate(paths) if i // FEED_ENTRIES == n)
        (root / name).write_text(f'<?xml version="1.0"?><rss version="2.0"><channel><title>bench</title>{items}'
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
def serve(root: Path, fixture_server: bool = False) -> Iterator[str]:
    """A loopback server over ``root``: yields its base URL; stopped on exit. By default the
    lean keep-alive server of this module (``serve_files``), as a news site's server keeps
    connections open; ``fixture_server``: the tests' fixture server (a connection and a
    thread per request, an ETag hashed per page: a load on the same cores as the crawl)."""
    command = ([sys.executable, "-m", "wicnews.fixture_server", str(root), "--port", "0"] if fixture_server
               else [sys.executable, __file__, str(root)])
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
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


def _descendants(pid: int) -> list[int]:
    tree, pids, todo = _children(), [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo += tree.get(p, [])
    return pids


def tree_memory(pid: int) -> tuple[int, int, int]:
    """(RSS of ``pid``, summed RSS, summed PSS of ``pid`` and its descendants), in kB."""
    pids = _descendants(pid)
    rss = [_kb(f"/proc/{p}/status", "VmRSS") for p in pids]
    pss = [_kb(f"/proc/{p}/smaps_rollup", "Pss") for p in pids]
    return rss[0], sum(rss), sum(pss)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class TreeMemory:
    """Peak memory of a process tree, sampled every ``interval`` seconds in a thread, and the
    CPU time its other processes (the extraction workers) used, as last seen."""

    def __init__(self, pid: int, interval: float = 0.2):
        self.pid, self.interval = pid, interval
        self.peak_main = self.peak_rss = self.peak_pss = 0
        self.cpu: dict[int, float] = {}  # pid -> CPU seconds, the crawl process itself left out
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            main, rss, pss = tree_memory(self.pid)
            self.peak_main, self.peak_rss, self.peak_pss = (max(self.peak_main, main), max(self.peak_rss, rss),
                                                            max(self.peak_pss, pss))
            for p in _descendants(self.pid)[1:]:
                self.cpu[p] = max(self.cpu.get(p, 0.0), cpu_seconds(p))
            time.sleep(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def serve_files(root: Path) -> None:
    """Serve the files under ``root`` on 127.0.0.1 (a free port, its base URL printed) over
    HTTP/1.1 with keep-alive, ``{{BASE}}`` in them replaced by the base URL: one thread, asyncio."""
    import asyncio
    from urllib.parse import unquote, urlsplit

    from wicnews.fixture_pages import content_type

    root = root.resolve()
    base = b""

    def page(target: bytes) -> tuple[bytes, bytes]:
        path = unquote(urlsplit(target.decode("latin-1")).path)
        file = (root / path.lstrip("/")).resolve()
        if root not in file.parents or not file.is_file():
            return b"404 Not Found", b"text/html"
        return file.read_bytes().replace(b"{{BASE}}", base), content_type(file).encode("latin-1")

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while request := await reader.readline():
                headers = []
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    headers.append(line.lower())
                method, target, version = request.split()
                body, kind = page(target)
                status = b"200 OK" if not body.startswith(b"404 ") else b"404 Not Found"
                close = version == b"HTTP/1.0" or b"connection: close\r\n" in headers
                writer.write(b"HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: %s\r\n\r\n"
                             % (status, kind, len(body), b"close" if close else b"keep-alive"))
                if method != b"HEAD":
                    writer.write(body)
                await writer.drain()
                if close:
                    break
        except (ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        nonlocal base
        server = await asyncio.start_server(client, "127.0.0.1", 0, backlog=256)
        base = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}".encode()
        print(base.decode(), flush=True)
        await server.serve_forever()

    asyncio.run(main())


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Serve the files under ROOT on 127.0.0.1 (the base URL is printed).")
    parser.add_argument("root", type=Path, help="a directory of saved pages")
    root = parser.parse_args().root
    if not root.is_dir():
        parser.error(f"not a directory: {root}")
    serve_files(root)
