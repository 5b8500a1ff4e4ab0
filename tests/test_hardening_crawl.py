"""The hostile-input matrix's crawl cases, for real: hostile servers on loopback, bad sources
next to good ones, signals and kill -9 at random moments, the fetch limits of ``wicnews
extract``, and mistakes that must be one line."""

from __future__ import annotations

import gzip
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
from conftest import FAST, SEED_TITLE
from hostile import Server, run_wicnews, start_wicnews

pytestmark = pytest.mark.e2e  # crawls, servers and processes

ENGLISH = "".join(f"<p>The World Internet Conference in Wuzhen held forum {i} on data rules, the digital economy "
                  f"and cross-border flows, with delegates from many countries.</p>" for i in range(1, 8))


def page(title: str, body: str = ENGLISH, head: str = "", charset: str = "utf-8") -> str:
    return (f"<!DOCTYPE html><html><head><meta charset='{charset}'><title>{title}</title>{head}</head>"
            f"<body><article><h1>{title}</h1>{body}</article></body></html>")


def ok(body: bytes, ctype: str = "text/html; charset=utf-8", **headers):
    return 200, {"Content-Type": ctype, **headers}, body


def rss(links: list[str], titles: list[str] | None = None) -> bytes:
    titles = titles or [f"item {i}" for i in range(len(links))]
    items = "".join(f"<item><title>{t}</title><link>{link.replace('&', '&amp;')}</link></item>"
                    for t, link in zip(titles, links))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()


def drip(handler) -> None:
    """One byte every two seconds, for as long as the client listens."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Content-Length", "100000")
    handler.end_headers()
    try:
        for _ in range(200):
            handler.wfile.write(b"<")
            handler.wfile.flush()
            time.sleep(2)
    except OSError:
        pass


def wait_for(condition, what: str, deadline: float = 120.0) -> None:
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def runs_of(db_path) -> list[tuple]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT status, finished_at FROM runs ORDER BY id").fetchall()


def no_traceback(result) -> None:
    assert "Traceback" not in result.stderr, result.stderr


# --- per-source isolation ---------------------------------------------------------------------

def test_a_bad_source_never_ends_the_crawl(site, tmp_path):
    sources = tmp_path / "sources.toml"
    sources.write_text(f"""
[[source]]
name = "bad-port"
kind = "feed"
url = "http://127.0.0.1:99999/feed.rss"

[[source]]
name = "bad-ipv6"
kind = "feed"
url = "http://[x/feed.rss"

[[source]]
name = "bad-host"
kind = "feed"
url = "http://exa mple.com/feed.rss"

[[source]]
name = "good"
kind = "feed"
url = "{site.url('/feeds/digest.rdf')}"
""", encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'w.db'}"
    result = run_wicnews(["crawl", "--sources", str(sources), "--db", db, *FAST], home=tmp_path)
    assert result.returncode == 0, result.stderr
    no_traceback(result)
    [run] = json.loads(run_wicnews(["runs", "--db", db, "--format", "json"], home=tmp_path).stdout)
    assert run["error_counts"]["bad_url"] == 3 and run["articles_new"] == 1


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999/feed.rss", "http://[x/feed.rss", "http://exa mple.com/"])
def test_a_bad_url_on_the_command_line_is_one_line(tmp_path, url):
    result = run_wicnews(["crawl", "--feed", url, "--db", f"sqlite:///{tmp_path / 'w.db'}", *FAST], home=tmp_path)
    no_traceback(result)
    assert result.returncode == 1  # its only source failed: bad_url
    assert "bad_url 1" in result.stdout and result.stderr.strip().splitlines()[-1].startswith("wicnews: ")


# --- pages that cost data or trust --------------------------------------------------------------

def test_hostile_pages_cost_no_data(tmp_path):
    chinese = "".join(f"<p>世界互联网大会乌镇峰会第{i}天，与会代表讨论数据跨境流动和数字经济。</p>" for i in range(1, 9))
    gb = "".join(c for c in page("乌镇峰会开幕", chinese, charset="gb2312")
                 if not set(c.encode("gb18030")) & {0x81, 0x8D, 0x8F, 0x90, 0x9D}).encode("gb18030")
    import brotli
    from backports import zstd

    inflated = b"<p>" + b" " * 20_000_000  # DOWNLOAD_MAXSIZE is 1 MB in FAST
    bomb, br_bomb, zstd_bomb = gzip.compress(inflated), brotli.compress(inflated), zstd.compress(inflated)
    routes = {
        "/robots.txt": ok(b"User-agent: *\nAllow: /\n", "text/plain"),
        "/gb.html": ok(gb, "text/html; charset=iso-8859-1"),
        "/nul.html": ok(b"\x00" * 100_000),
        "/vt.html": ok(page("Wuzhen\x0bsummit headline", ENGLISH.replace("forum", "session")).encode()),
        "/esc.html": ok(page("\x1b[2J\x1b[31mWuzhen escapes", ENGLISH.replace("forum", "meeting")).encode()),
        "/bomb.html": ok(bomb, **{"Content-Encoding": "gzip"}),
        "/bomb-br.html": ok(br_bomb, **{"Content-Encoding": "br"}),
        "/bomb-zstd.html": ok(zstd_bomb, **{"Content-Encoding": "zstd"}),
        "/to-js": (302, {"Location": "javascript:alert(1)"}, b""),
        "/to-bad-port": (302, {"Location": "http://127.0.0.1:99999/x"}, b""),
        "/copy.html": ok(page("Syndicated claim", ENGLISH.replace("forum", "panel"),
                              head="<link rel='canonical' href='https://www.reuters.com/world/original'>").encode()),
    }
    with Server("127.0.0.1", routes) as server:
        base = f"http://127.0.0.1:{server.port}"
        links = [f"{base}{p}" for p in ("/gb.html", "/nul.html", "/vt.html", "/esc.html", "/bomb.html", "/bomb-br.html",
                                        "/bomb-zstd.html", "/to-js", "/to-bad-port", "/copy.html")]
        links.append(f"{base}/long/{'a' * 100_000}")
        server.routes["/feed.rss"] = ok(rss(links), "application/rss+xml")
        db = f"sqlite:///{tmp_path / 'w.db'}"
        # the pages share one body (a word apart): near-duplicate detection off, each page is its own case
        result = run_wicnews(["crawl", "--feed", f"{base}/feed.rss", "--db", db, *FAST,
                              "-s", "WICNEWS_NEAR_DUP_THRESHOLD=0"], home=tmp_path)
        assert result.returncode == 0, result.stderr
        no_traceback(result)
        assert "\x1b" not in result.stderr
    listed = run_wicnews(["new", "--all", "--db", db, "--format", "json"], home=tmp_path).stdout  # whatever their relevance
    stored = {a["title"]: a for a in json.loads(listed)}
    assert set(stored) == {"乌镇峰会开幕", "Wuzhen summit headline", "[2J[31mWuzhen escapes", "Syndicated claim"}
    assert "世界互联网大会" in stored["乌镇峰会开幕"]["text"]
    assert all("\ufffd" not in a["text"] for a in stored.values())
    assert stored["Syndicated claim"]["canonical_url"] == f"{base}/copy.html"  # not Reuters'
    table = run_wicnews(["new", "--all", "--db", db], home=tmp_path).stdout
    assert "\x1b" not in table
    [run] = json.loads(run_wicnews(["runs", "--db", db, "--format", "json"], home=tmp_path).stdout)
    counts = run["error_counts"]
    # the 100k-character URL, the redirects to port 99999 and to javascript:
    assert counts == {"bad_url": 3, "encoding": 1, "too_large": 3, "skipped_canonical_untrusted": 1}


# --- stops ----------------------------------------------------------------------------------

@pytest.mark.parametrize("signals", [(signal.SIGINT,), (signal.SIGINT, signal.SIGINT),
                                     (signal.SIGTERM, signal.SIGTERM, signal.SIGTERM)])
def test_any_number_of_signals_leaves_a_finished_run(tmp_path, signals):
    """A crawl stuck on a slow page gets one, two or three signals (each sent once the crawl
    has logged the previous one: signals sent together arrive as one): its run row is
    finished, ``interrupted``, and the database intact. One signal waits for the page's
    download to end (DOWNLOAD_TIMEOUT); a second one does not wait."""
    routes = {"/robots.txt": ok(b"", "text/plain"), "/slow.html": drip}
    with Server("127.0.0.1", routes) as server:
        base = f"http://127.0.0.1:{server.port}"
        server.routes["/feed.rss"] = ok(rss([f"{base}/slow.html"]), "application/rss+xml")
        db_path = tmp_path / "w.db"
        timeout = "5" if len(signals) == 1 else "600"
        proc = start_wicnews(["crawl", "--feed", f"{base}/feed.rss", "--db", f"sqlite:///{db_path}", *FAST,
                              "-s", f"DOWNLOAD_TIMEOUT={timeout}"], home=tmp_path)
        log: list[str] = []
        reader = threading.Thread(target=lambda: log.extend(proc.stderr), daemon=True)
        reader.start()
        try:
            wait_for(lambda: ("127.0.0.1", "/slow.html") in server.hits, "the slow page to be requested")
            for n, sig in enumerate(signals, 1):
                proc.send_signal(sig)
                if n < len(signals):
                    wait_for(lambda: "shutting down gracefully" in "".join(log) or proc.poll() is not None,
                             "the crawl to take the signal")
            proc.wait(timeout=120)
        finally:
            proc.kill()
            proc.wait()
            reader.join(timeout=10)
            proc.stdout.close()
            proc.stderr.close()
    [(status, finished_at)] = runs_of(db_path)
    assert status == "interrupted" and finished_at is not None, "".join(log)[-2000:]
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_kill_9_at_random_moments_loses_nothing(site, tmp_path):
    """Three crawls killed with SIGKILL at random moments, then one that finishes: the
    database is intact and holds exactly what a clean crawl stores."""
    db_path = tmp_path / "w.db"
    db = f"sqlite:///{db_path}"
    feeds = ["--feed", site.url("/feeds/scmp-china.rss"), "--feed", site.url("/feeds/asiatechwire.atom")]
    args = ["crawl", *feeds, "--db", db, *FAST]
    run_wicnews(["db", "upgrade", "--db", db], home=tmp_path)
    rng = random.Random(int(os.environ.get("WICNEWS_TEST_SEED", "0") or 0) or None)
    for _ in range(3):
        proc = start_wicnews(args, home=tmp_path)
        started = len(runs_of(db_path))
        wait_for(lambda: len(runs_of(db_path)) > started, "the crawl to start")  # noqa: B023 - called at once
        time.sleep(rng.uniform(0, 1.5))  # a random moment, not a margin: any moment must be safe
        proc.kill()
        proc.communicate()
    result = run_wicnews(args, home=tmp_path)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        keys = conn.execute("SELECT url_key FROM articles").fetchall()
        assert len(keys) == len(set(keys))
    clean = tmp_path / "clean.db"
    run_wicnews(["crawl", *feeds, "--db", f"sqlite:///{clean}", *FAST], home=tmp_path)
    titles = lambda path: sorted(a["title"] for a in json.loads(run_wicnews(  # noqa: E731
        ["new", "--all", "--db", f"sqlite:///{path}", "--format", "json"], home=tmp_path).stdout))
    assert titles(db_path) == titles(clean) and SEED_TITLE in titles(clean)


# --- limits on every path -------------------------------------------------------------------------

def test_extract_of_a_gzip_bomb_stays_small(tmp_path):
    """A 261 kB .html.gz that inflates to 256 MB: refused as too_large, in little memory."""
    bomb = tmp_path / "bomb.html.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as out:
        chunk = b" " * (1 << 20)
        for _ in range(256):
            out.write(chunk)
    # Python's own allocations during the command (ru_maxrss would carry the parent's peak
    # across fork and exec on Linux)
    code = ("import sys, tracemalloc; from wicnews.cli import main; tracemalloc.start(); rc = main(sys.argv[1:]); "
            "print(tracemalloc.get_traced_memory()[1], file=sys.stderr); sys.exit(rc)")
    result = subprocess.run([sys.executable, "-c", code, "extract", str(bomb)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    *lines, peak = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "too_large" in lines[0]
    assert int(peak) < 100_000_000  # bytes: the 32 MB page limit, not the 256 MB the file inflates to


def test_extract_of_a_slow_drip_times_out(tmp_path):
    with Server("127.0.0.1", {"/robots.txt": ok(b"", "text/plain"), "/slow.html": drip}) as server:
        result = run_wicnews(["extract", f"http://127.0.0.1:{server.port}/slow.html", "-s", "DOWNLOAD_TIMEOUT=3"],
                             home=tmp_path, timeout=120)
    assert result.returncode == 1 and "timeout" in result.stderr
    no_traceback(result)


# --- mistakes are one line ----------------------------------------------------------------------

@pytest.mark.parametrize("args, code", [
    (["crawl", "-s", "LOG_LEVEL=NOPE"], 2),
    (["crawl", "-s", "ITEM_PIPELINES=garbage"], 2),
    (["crawl", "-s", "DOWNLOAD_HANDLERS=garbage"], 2),
    (["crawl", "-s", "WICNEWS_SKIP_SEN=0"], 2),
    (["crawl", "-s", "DOWNLOAD_TIMEOUT=soon"], 2),
    (["crawl", "--feed", "ftp://example.org/feed"], 2),
    (["db", "upgrade", "--db", "sqlite:////proc/wicnews/nope.db"], 3),
])
def test_mistakes_are_one_line(tmp_path, args, code):
    result = run_wicnews(args, home=tmp_path)
    no_traceback(result)
    assert result.returncode == code and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_schedule_with_an_absurd_interval_is_one_line(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[[schedule]]\nname = "x"\nevery = "99999999999999d"\nargs = ["--feed", "http://example.org/f"]\n')
    result = run_wicnews(["schedule", "--once", "--file", str(path)], home=tmp_path)
    no_traceback(result)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
