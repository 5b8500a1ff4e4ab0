"""A full disk, for real: a small tmpfs holds the SQLite database; a first crawl stores the
fixture site, then the disk is filled to the last few kB and a second crawl tries to write
again (every page fetched again, new pages served too). A full disk must cost no stored
data and be one clear error (counted ``store_failed`` errors or one ``wicnews:`` line),
never a traceback; the crawl goes on or ends cleanly, and the database stays intact."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import subprocess

import pytest
from conftest import FAST
from hostile import Server

pytestmark = [pytest.mark.e2e]

DISK_SIZE = "3M"
SLACK = 8 * 1024  # what the filler leaves free

ENGLISH = "".join(f"<p>The World Internet Conference in Wuzhen held session {i} on data rules, the digital economy "
                  f"and cross-border flows, with delegates from many countries and regions.</p>" for i in range(1, 9))


def page(title: str) -> bytes:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body><article><h1>{title}</h1>{ENGLISH.replace('session', title.split()[-1] + ' session')}"
            f"</article></body></html>").encode()


@pytest.fixture
def disk(tmp_path):
    """A 3 MB tmpfs at ``tmp_path/disk``, unmounted afterwards; skipped without the right to
    mount (a failure in CI, which runs as root)."""
    path = tmp_path / "disk"
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_SIZE}", "tmpfs", str(path)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        problem = f"cannot mount a tmpfs: {(mounted.stderr or mounted.stdout).strip()}"
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def fill(disk, slack: int = SLACK):
    """Write a filler file until the disk is full (ENOSPC), then give back ``slack`` bytes."""
    filler = disk / "filler"
    chunk = b"\0" * 65536
    with open(filler, "wb", buffering=0) as out:
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    out.write(chunk[:size])
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    os.truncate(filler, max(0, filler.stat().st_size - slack))
    return filler


def articles(db_path) -> list[tuple[int, str, str]]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("SELECT id, title, canonical_url FROM articles ORDER BY id").fetchall()
    finally:
        conn.close()


def integrity(db_path) -> str:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def one_database_line(result) -> str:
    """A crawl that could not start on a full disk: exit 3 and one ``wicnews:`` line."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 3, (result.returncode, result.stdout, result.stderr)
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("wicnews: ") and "database" in line, line
    return line


def test_a_full_disk_costs_no_stored_data(disk, site, sources_file, wicnews, tmp_path):
    db_path = disk / "wicnews.db"
    db = f"sqlite:///{db_path}"
    first = wicnews("crawl", "--sources", str(sources_file), "--db", db, *FAST, check=True)
    assert "Traceback" not in first.stderr, first.stderr
    stored = articles(db_path)
    assert len(stored) >= 4, first.stdout

    titles = [f"Wuzhen disk story {word}" for word in ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot")]
    routes = {"/robots.txt": (200, {"Content-Type": "text/plain"}, b"User-agent: *\nAllow: /\n")}
    routes.update({f"/new/{i}.html": (200, {"Content-Type": "text/html; charset=utf-8"}, page(t))
                   for i, t in enumerate(titles)})
    with Server("127.0.0.1", routes) as server:
        base = f"http://127.0.0.1:{server.port}"
        items = "".join(f"<item><title>{t}</title><link>{base}/new/{i}.html</link></item>" for i, t in enumerate(titles))
        server.routes["/feed.rss"] = (200, {"Content-Type": "application/rss+xml"},
                                      f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}'
                                      f"</channel></rss>".encode())
        sources = tmp_path / "sources-full.toml"
        sources.write_text(sources_file.read_text(encoding="utf-8") + f"""
[[source]]
name = "new-pages"
kind = "feed"
url = "{base}/feed.rss"
""", encoding="utf-8")
        again = ["crawl", "--sources", str(sources), "--db", db, *FAST, "-s", "WICNEWS_SKIP_SEEN=false"]
        filler = fill(disk)  # a few kB left: SQLite cannot even open its WAL
        outcomes = []
        try:
            # give space back step by step: each crawl either cannot start (one line, exit 3:
            # no room for the WAL or the run row) or runs to its end, refusing what it cannot
            # store (counted store_failed); where the cut-offs fall depends on SQLite's pages
            for give_back in (0, 24 * 1024, 96 * 1024, 256 * 1024, 512 * 1024):
                os.truncate(filler, max(0, filler.stat().st_size - give_back))
                result = wicnews(*again)
                assert "Traceback" not in result.stderr, result.stderr
                outcomes.append(result.returncode)
                if result.returncode == 0:
                    break
                one_database_line(result)
        finally:
            filler.unlink()
        assert outcomes[0] == 3 and outcomes[-1] == 0, outcomes  # first refused cleanly, then a crawl ran
        assert server.hits, "the crawl on a nearly full disk never fetched"

    full = result
    assert "finished" in full.stdout, full.stdout
    refused = [line for line in full.stderr.splitlines() if "could not store" in line]
    assert refused and all("database or disk is full" in line for line in refused), full.stderr
    assert f"store_failed {len(refused)}" in full.stdout, full.stdout

    # the disk has room again: nothing stored was lost, the database is whole
    assert integrity(db_path) == "ok"
    assert set(stored) <= set(articles(db_path))  # every article of the first crawl, unchanged
    runs = {r["id"]: r for r in json.loads(wicnews("runs", "--db", db, "--format", "json", check=True).stdout)}
    assert runs[1]["status"] == "finished"
    last = runs[max(runs)]
    assert last["status"] == "finished" and last["error_counts"]["store_failed"] == len(refused)
