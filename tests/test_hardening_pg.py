"""A PostgreSQL restart in the middle of a crawl, on a throwaway cluster this test starts
itself (initdb + pg_ctl, as the ``postgres`` user): the crawl ends, its run row is
finished, and a second crawl leaves every article stored exactly once."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading

import pytest
from hostile import Server, start_wicnews
from test_hardening_crawl import ENGLISH, ok, page, rss, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.pg]  # crawls, servers and processes

BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def _as_postgres(*args: str, **kwargs) -> subprocess.CompletedProcess:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=120, **kwargs)


@pytest.fixture
def cluster():
    """A PostgreSQL cluster of its own on a free port; removed afterwards."""
    if not BIN or (not shutil.which("runuser") and os.geteuid() == 0):
        pytest.skip("no PostgreSQL server binaries")
    bin_dir = BIN[-1]
    root = tempfile.mkdtemp(prefix="wicnews-pg-")
    os.chmod(root, 0o777)
    data = os.path.join(root, "data")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    init = _as_postgres(f"{bin_dir}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync")
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"initdb failed: {init.stderr.strip()[:200]}")
    ctl = [f"{bin_dir}/pg_ctl", "-D", data, "-l", os.path.join(root, "log"), "-w",
           "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"]
    assert _as_postgres(*ctl, "start").returncode == 0
    try:
        yield type("Cluster", (), {"url": f"postgresql://postgres@127.0.0.1:{port}/postgres",
                                   "restart": lambda self: _as_postgres(*ctl, "-m", "fast", "restart")})()
    finally:
        _as_postgres(f"{bin_dir}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def test_a_postgresql_restart_mid_crawl_loses_nothing(cluster, tmp_path):
    release = threading.Event()

    def held(handler) -> None:  # answers only once the database has been restarted
        release.wait(60)
        body = page("Held story", ENGLISH.replace("forum", "held session")).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    routes = {"/robots.txt": ok(b"", "text/plain"), "/hold.html": held,
              **{f"/a{i}.html": ok(page(f"Story {i}", ENGLISH.replace("forum", f"forum number {i}")).encode())
                 for i in range(4)}}
    with Server("127.0.0.1", routes) as server:
        base = f"http://127.0.0.1:{server.port}"
        server.routes["/feed.rss"] = ok(rss([f"{base}/a{i}.html" for i in range(4)] + [f"{base}/hold.html"]),
                                        "application/rss+xml")
        # the stories share one body: near-duplicate detection off, each is its own article
        args = ["crawl", "--feed", f"{base}/feed.rss", "--db", cluster.url, "-s", "WICNEWS_NEAR_DUP_THRESHOLD=0",
                "-s", "DOWNLOAD_DELAY=0",
                "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_TIMES=0"]
        proc = start_wicnews(args, home=tmp_path)
        try:
            wait_for(lambda: ("127.0.0.1", "/hold.html") in server.hits, "the held page to be requested")
            assert cluster.restart().returncode == 0
            release.set()
            _, err = proc.communicate(timeout=120)
        finally:
            release.set()
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert "Traceback" not in err, err[-3000:]
        second = start_wicnews(args, home=tmp_path)
        _, err = second.communicate(timeout=180)
        assert second.returncode == 0, err[-3000:]
    import psycopg

    with psycopg.connect(cluster.url) as conn:
        titles = [r[0] for r in conn.execute("SELECT title FROM articles ORDER BY title")]
        statuses = [r[0] for r in conn.execute("SELECT status FROM runs ORDER BY id")]
    assert titles == ["Held story", "Story 0", "Story 1", "Story 2", "Story 3"]
    assert statuses == ["finished", "finished"], statuses  # the pool reconnects (pool_pre_ping)
