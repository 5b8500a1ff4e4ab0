"""The extraction pool: pages extracted in worker processes, a page that hangs its worker
abandoned (``extract_timeout``), a worker that dies replaced (``extract_failed``), and the
crawl going on with every other article stored."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FAST, SEED_PATH, SITE_DIR
from pool_hooks import CRASH, HANG, KILL_CRAWL, RAISE

from wicnews.errors import ErrorKind, PageError
from wicnews.extract import Extracted
from wicnews.pool import ExtractPool

TESTS = Path(__file__).parent
HOOK_ENV = {"PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
WORDS = ["internet", "digital", "economy", "summit", "delegates", "platform", "security", "cloud", "industry",
         "policy", "forum", "network", "governance"]


def article_page(i: int, marker: bytes = b"") -> bytes:
    """The seed page's template with a text of its own (and an optional test marker)."""
    template = (SITE_DIR / SEED_PATH.lstrip("/")).read_bytes()
    start, end = template.index(b"<p>"), template.rindex(b"</p>") + 4
    rng = random.Random(i)
    text = "".join("<p>The World Internet Conference in Wuzhen. " + " ".join(rng.choice(WORDS) for _ in range(60)) + ".</p>"
                   for _ in range(6))
    return template[:start] + marker + text.encode() + template[end:]


def page_args(body: bytes, n: int = 0) -> tuple:
    return body, f"http://127.0.0.1:1/a/{n}.html", {"content-type": "text/html"}, {}


@pytest.fixture
def pool():
    pools: list[ExtractPool] = []

    def make(**kwargs) -> ExtractPool:
        pools.append(ExtractPool(**{"workers": 1, "timeout": 300.0, **kwargs}))
        return pools[-1]

    sys.path.insert(0, str(TESTS))  # the forkserver imports pool_hooks with this process's sys.path
    yield make
    for p in pools:
        p.close()


def test_pool_extracts_what_the_function_gives(pool):
    p = pool(workers=2, function="pool_hooks:extract")
    futures = [p.submit(*page_args(article_page(i), i)) for i in range(4)]
    pages = [f.result(timeout=300) for f in futures]
    assert all(isinstance(page, Extracted) and "World Internet Conference" in page.text for page in pages)
    assert len({page.text for page in pages}) == 4


@pytest.mark.e2e  # a fresh interpreter
def test_the_crawl_reads_its_workers_results_without_importing_the_extractor(tmp_path):
    """Unpickling a result imports the module of its class: the page must be a light one, or
    the crawl's own process would import trafilatura (and numpy) as its first page comes back."""
    page = tmp_path / "page.html"
    page.write_bytes(article_page(1))
    code = ("import sys\n"
            "from pathlib import Path\n"
            "from wicnews.pool import PREPARE, ExtractPool\n"
            "pool = ExtractPool(workers=1, timeout=300.0, function=PREPARE)\n"
            f"body = Path({str(page)!r}).read_bytes()\n"
            "page, item = pool.submit(body, 'http://127.0.0.1:1/a/1.html', {'content-type': 'text/html'}, {}).result(300)\n"
            "pool.close()\n"
            "assert 'World Internet Conference' in page.text and item.title, (page, item)\n"
            "heavy = sorted({'trafilatura', 'numpy', 'htmldate', 'justext', 'wicnews.extract'} & set(sys.modules))\n"
            "assert not heavy, heavy\n")
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_extraction_workers_load_neither_scrapy_nor_sqlalchemy(pool):
    """The workers' server imports and warms up only the extraction and the pure steps: the
    crawl's own frameworks would add about a second before the first page is extracted."""
    p = pool(function="pool_hooks:frameworks_loaded")
    assert p.submit(*page_args(article_page(1))).result(timeout=300) == []


def test_a_page_error_comes_back_with_its_kind(pool):
    p = pool(function="pool_hooks:reject")
    with pytest.raises(PageError) as caught:
        p.submit(*page_args(b"<html></html>")).result(timeout=300)
    assert caught.value.kind == ErrorKind.NO_TEXT


def test_an_exception_is_extract_failed_and_the_worker_stays(pool):
    p = pool(function="pool_hooks:extract")
    with pytest.raises(PageError) as caught:
        p.submit(*page_args(article_page(1, RAISE))).result(timeout=300)
    assert caught.value.kind == ErrorKind.EXTRACT_FAILED and "ZeroDivisionError" in str(caught.value)
    assert isinstance(p.submit(*page_args(article_page(2))).result(timeout=300), Extracted)


def test_a_dead_worker_is_extract_failed_and_replaced(pool):
    replaced: list[str] = []
    p = pool(function="pool_hooks:extract", on_replace=replaced.append)
    with pytest.raises(PageError) as caught:
        p.submit(*page_args(article_page(1, CRASH))).result(timeout=300)
    assert caught.value.kind == ErrorKind.EXTRACT_FAILED and "exit code 7" in str(caught.value)
    assert isinstance(p.submit(*page_args(article_page(2))).result(timeout=300), Extracted)
    assert replaced == ["crash"]


def test_a_hanging_page_is_abandoned_and_its_worker_replaced(pool):
    replaced: list[str] = []
    p = pool(function="pool_hooks:extract", timeout=10.0, on_replace=replaced.append)
    hung = p.submit(*page_args(article_page(1, HANG)))
    after = p.submit(*page_args(article_page(2)))  # queued behind the hung page on the one worker
    with pytest.raises(PageError) as caught:
        hung.result(timeout=300)
    assert caught.value.kind == ErrorKind.EXTRACT_TIMEOUT
    assert isinstance(after.result(timeout=300), Extracted)
    assert replaced == ["timeout"]


def loopback_site(root: Path, pages: dict[str, bytes]):
    """The pages and a feed listing them, served by the fixture server (a Popen; its first
    line of output is the base URL)."""
    (root / "a").mkdir(parents=True)
    for path, body in pages.items():
        (root / path.lstrip("/")).write_bytes(body)
    items = "".join(f"<item><title>t{n}</title><link>{{{{BASE}}}}{path}</link></item>" for n, path in enumerate(pages))
    (root / "feed.rss").write_text(f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>')
    (root / "robots.txt").write_text("User-agent: *\nDisallow:\n")
    return subprocess.Popen([sys.executable, "-m", "wicnews.fixture_server", str(root), "--port", "0"],
                            stdout=subprocess.PIPE, text=True)


def stop(server) -> None:
    server.kill()
    server.wait()
    if server.stdout:
        server.stdout.close()


@pytest.mark.e2e
def test_crawl_through_the_pool_survives_a_hanging_and_a_crashing_page(wicnews, tmp_path):
    """A real crawl over a loopback site whose feed lists six articles, one page hanging the
    extractor and one killing its worker: both are counted, the other six are stored."""
    pages = {f"/a/{i}.html": article_page(i) for i in range(6)}
    pages["/a/hang.html"] = article_page(100, HANG)
    pages["/a/crash.html"] = article_page(101, CRASH)
    server = loopback_site(tmp_path / "site", pages)
    try:
        base = (server.stdout.readline() if server.stdout else "").strip()
        db = f"sqlite:///{tmp_path / 'pool.db'}"
        result = wicnews("crawl", "--feed", f"{base}/feed.rss", "--db", db, *FAST,
                         "-s", "WICNEWS_EXTRACT_WORKERS=2", "-s", "WICNEWS_EXTRACT_TIMEOUT=10",
                         "-s", "WICNEWS_EXTRACT_FUNCTION=pool_hooks:extract", "-s", "WICNEWS_NEAR_DUP_THRESHOLD=0",
                         env=HOOK_ENV, timeout=300)
    finally:
        stop(server)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    run = json.loads(wicnews("runs", "--db", db, "--format", "json", check=True).stdout)[0]
    assert run["error_counts"] == {"extract_timeout": 1, "extract_failed": 1}, run
    assert run["articles_new"] == 6
    stored = json.loads(wicnews("new", "--db", db, "--format", "json", "--all", check=True).stdout)
    assert sorted(a["url"] for a in stored) == sorted(base + p for p in pages if p.startswith("/a/") and p[3:4].isdigit())


@pytest.mark.e2e
def test_a_crawl_killed_midway_loses_nothing_the_next_run_cannot_restore(wicnews, tmp_path):
    """The crawl process is killed (SIGKILL) while it extracts one of nine pages: what it had
    committed stays, the batch it was writing is lost, and the next run stores every article
    exactly once."""
    pages = {f"/a/{i}.html": article_page(i) for i in range(8)}
    pages["/a/kill.html"] = article_page(200, KILL_CRAWL)
    server = loopback_site(tmp_path / "site", pages)
    try:
        base = (server.stdout.readline() if server.stdout else "").strip()
        db = f"sqlite:///{tmp_path / 'killed.db'}"
        crawl = ("crawl", "--feed", f"{base}/feed.rss", "--db", db, *FAST, "-s", "WICNEWS_NEAR_DUP_THRESHOLD=0")
        killed = wicnews(*crawl, "-s", "WICNEWS_EXTRACT_FUNCTION=pool_hooks:extract", env=HOOK_ENV, timeout=300)
        assert killed.returncode == -9, killed.stderr
        rerun = wicnews(*crawl, timeout=300)  # the real extractor: the marker page is an article like the others
    finally:
        stop(server)
    assert rerun.returncode == 0, rerun.stderr
    stored = json.loads(wicnews("new", "--db", db, "--format", "json", "--all", check=True).stdout)
    assert sorted(a["url"] for a in stored) == sorted(base + p for p in pages)
