"""Loopback HTTP server for the static fixture "news web" used by tests and ``wicnews demo``.

Run it as a process::

    python -m wicnews.fixture_server tests/fixtures/site --port 0

It prints exactly one line, ``http://127.0.0.1:PORT``, then serves until SIGTERM/SIGINT.
In-process use: ``base_url, stop = start_in_thread(root)``.

Behaviour
---------
* Static files under ROOT; the query string is ignored when mapping a path to a file.
  Paths that resolve outside ROOT, and any path component starting with ``_``
  (e.g. ``_routes.json``), give 404.
* Every body except PDF gets the ASCII bytes ``{{BASE}}`` replaced by the base URL
  (``http://HOST:PORT``, no trailing slash). The replacement is bytes-level, so it works in
  any ASCII-compatible encoding (GB18030 included). ``.gz`` files are decompressed,
  substituted and recompressed.
* ``ROOT/_routes.json`` maps a path to a spec, checked before static files. Spec keys:
  ``status`` (default 200), ``headers`` (merged over the defaults), ``body`` (string),
  ``file`` (relative to ROOT), ``redirect`` (path or URL, answered with 302 + Location),
  ``size`` (generate an HTML page of exactly that many bytes, streamed).
* Hit log (every request but these): ``GET /__hits`` gives ``{path: count}``, ``GET /__statuses``
  ``{path: {status: count}}``; ``GET`` or ``POST /__reset`` clears both.
* Conditional GET: files answered 200 carry ``ETag``/``Last-Modified``; validators that hold get 304.
* Editions: ``GET /__version?v=N`` makes the site serve ``NAME.vN.EXT`` instead of ``NAME.EXT``
  wherever such a file exists (an article edited between two crawls); ``v=1`` goes back.
* Gate (for tests of several crawlers at once): after ``GET /__hold`` every request except
  ``/robots.txt`` and the control paths is counted, then waits until ``GET /__release``
  (or 120 s); ``GET /__held`` returns how many wait now, as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import email.utils
import gzip
import hashlib
import json
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from wicnews.fixture_pages import content_type, filler_chunks, filler_length, not_found_body

__all__ = ["FixtureServer", "main", "make_server", "start_in_thread"]

BASE_TOKEN = b"{{BASE}}"
HITS_PATH = "/__hits"
RESET_PATH = "/__reset"
VERSION_PATH = "/__version"
HOLD_PATH, RELEASE_PATH, HELD_PATH = "/__hold", "/__release", "/__held"
HOLD_TIMEOUT = 120.0
STATUSES_PATH = "/__statuses"
ROUTES_FILE = "_routes.json"
class FixtureServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that knows its fixture root, base URL and hit log."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, root: str | Path, host: str = "127.0.0.1", port: int = 0):
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise NotADirectoryError(f"fixture root is not a directory: {root}")
        self._hits: dict[str, int] = {}
        self._statuses: dict[str, Counter[str]] = {}
        self._hits_lock = threading.Lock()
        self.version = 1  # which edition of a page to serve: see VERSION_PATH
        self.gate = threading.Event()
        self.gate.set()
        self.held = 0
        super().__init__((host, port), FixtureHandler)
        self.base_url = f"http://{host}:{self.server_address[1]}"

    # -- hit log -------------------------------------------------------
    def record_hit(self, path: str) -> None:
        with self._hits_lock:
            self._hits[path] = self._hits.get(path, 0) + 1

    def hits(self) -> dict[str, int]:
        with self._hits_lock:
            return dict(self._hits)

    def reset_hits(self) -> None:
        with self._hits_lock:
            self._hits.clear()
            self._statuses.clear()

    def record_status(self, path: str, status: int) -> None:
        with self._hits_lock:
            self._statuses.setdefault(path, Counter())[str(status)] += 1

    def statuses(self) -> dict[str, dict[str, int]]:
        with self._hits_lock:
            return {path: dict(counts) for path, counts in self._statuses.items()}

    def wait_at_gate(self) -> None:
        if self.gate.is_set():
            return
        with self._hits_lock:
            self.held += 1
        try:
            self.gate.wait(HOLD_TIMEOUT)
        finally:
            with self._hits_lock:
                self.held -= 1

    # -- configuration -------------------------------------------------
    def routes(self) -> dict:
        """Read ``_routes.json`` on every request so fixtures can be edited live."""
        path = self.root / ROUTES_FILE
        if not path.is_file():
            return {}
        with path.open("rb") as fh:
            data = json.load(fh)
        return data if isinstance(data, dict) else {}

    def resolve(self, url_path: str) -> Path | None:
        """Map a URL path to a file inside root, or None (missing, hidden or outside root)."""
        parts = [p for p in url_path.split("/") if p]
        if not parts or any(p.startswith("_") for p in parts):
            return None
        try:
            candidate = self.root.joinpath(*parts).resolve()
        except (OSError, ValueError):
            return None
        if candidate != self.root and self.root not in candidate.parents:
            return None
        return candidate if candidate.is_file() else None

    def substitute(self, data: bytes, path: Path | None = None) -> bytes:
        suffix = path.suffix.lower() if path is not None else ""
        if suffix == ".pdf":
            return data
        base = self.base_url.encode("ascii")
        if suffix == ".gz":
            try:
                raw = gzip.decompress(data)
            except (OSError, EOFError):
                return data
            if BASE_TOKEN not in raw:
                return data
            return gzip.compress(raw.replace(BASE_TOKEN, base), mtime=0)
        return data.replace(BASE_TOKEN, base)

    def handle_error(self, request, client_address) -> None:  # pragma: no cover - quiet
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class FixtureHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "wicnews-fixture/1.0"
    server: FixtureServer

    def log_message(self, format: str, *args) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch(head=False)

    def do_HEAD(self) -> None:
        self._dispatch(head=True)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._dispatch(head=False)

    # -----------------------------------------------------------------
    def _dispatch(self, head: bool) -> None:
        url_path = unquote(urlsplit(self.path).path) or "/"
        try:
            if url_path in (HITS_PATH, STATUSES_PATH):
                log = self.server.hits() if url_path == HITS_PATH else self.server.statuses()
                self._send(200, {"Content-Type": "application/json"}, json.dumps(log, sort_keys=True).encode(), head)
                return
            if url_path == RESET_PATH:
                self.server.reset_hits()
                self._send(200, {"Content-Type": "application/json"}, b"{}", head)
                return
            if url_path == VERSION_PATH:
                query = urlsplit(self.path).query
                value = dict(p.partition("=")[::2] for p in query.split("&") if p).get("v", "1")
                self.server.version = int(value) if value.isdigit() and int(value) > 0 else 1
                self._send(200, {"Content-Type": "application/json"},
                           json.dumps({"version": self.server.version}).encode(), head)
                return
            if url_path in (HOLD_PATH, RELEASE_PATH, HELD_PATH):
                if url_path == HOLD_PATH:
                    self.server.gate.clear()
                elif url_path == RELEASE_PATH:
                    self.server.gate.set()
                self._send(200, {"Content-Type": "application/json"}, str(self.server.held).encode(), head)
                return
            if self.command == "POST":
                self._send(405, {"Content-Type": "text/plain"}, b"method not allowed\n", head)
                return
            self.server.record_hit(url_path)
            self._logged_path = url_path
            if url_path != "/robots.txt":
                self.server.wait_at_gate()
            spec = self.server.routes().get(url_path)
            if isinstance(spec, dict):
                self._serve_route(spec, head)
                return
            file = self.server.resolve(url_path)
            if file is None:
                self._not_found(url_path, head)
                return
            edition = file.with_name(f"{file.stem}.v{self.server.version}{file.suffix}")
            if self.server.version > 1 and edition.is_file():  # the site edited this page
                file = edition
            body = self.server.substitute(file.read_bytes(), file)
            self._send_file(200, {"Content-Type": content_type(file)}, body, file, head)
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def _serve_route(self, spec: dict, head: bool) -> None:
        server = self.server
        extra = {str(k): str(v) for k, v in (spec.get("headers") or {}).items()}
        if "redirect" in spec:
            target = str(spec["redirect"]).replace("{{BASE}}", server.base_url)
            if target.startswith("/"):
                target = server.base_url + target
            status = int(spec.get("status", 302))
            headers = _merge({"Content-Type": "text/html; charset=utf-8", "Location": target}, extra)
            body = f'<html><body><a href="{target}">moved</a></body></html>\n'.encode()
            self._send(status, headers, body, head)
            return
        status = int(spec.get("status", 200))
        if "size" in spec:
            size = int(spec["size"])
            headers = _merge({"Content-Type": "text/html; charset=utf-8"}, extra)
            self._send_stream(status, headers, filler_chunks(size), filler_length(size), head)
            return
        if "file" in spec:
            file = server.root / str(spec["file"])
            try:
                file = file.resolve()
            except (OSError, ValueError):
                file = None  # type: ignore[assignment]
            if file is None or server.root not in file.parents or not file.is_file():
                self._not_found(str(spec["file"]), head)
                return
            body = server.substitute(file.read_bytes(), file)
            headers = _merge({"Content-Type": content_type(file)}, extra)
            self._send_file(status, headers, body, file, head)
            return
        body = str(spec.get("body", "")).encode("utf-8")
        body = server.substitute(body)
        headers = _merge({"Content-Type": "text/html; charset=utf-8"}, extra)
        self._send(status, headers, body, head)

    def _not_found(self, path: str, head: bool) -> None:
        self._send(404, {"Content-Type": "text/html; charset=utf-8"}, not_found_body(), head)

    def _send_file(self, status: int, headers: dict[str, str], body: bytes, file: Path, head: bool) -> None:
        if status == 200:
            etag, mtime = '"' + hashlib.sha256(body).hexdigest()[:20] + '"', int(file.stat().st_mtime)
            headers = _merge({"ETag": etag, "Last-Modified": email.utils.formatdate(mtime, usegmt=True)}, headers)
            if _fresh(self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since"), etag, mtime):
                status, body, head = 304, b"", True
        self._send(status, headers, body, head)

    def _start(self, status: int, headers: dict[str, str], length: int) -> None:
        if (path := getattr(self, "_logged_path", None)) is not None:
            self.server.record_status(path, status)
        self.send_response(status)
        for key, value in headers.items():
            if key.lower() not in ("content-length", "connection"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(length))
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def _send(self, status: int, headers: dict[str, str], body: bytes, head: bool) -> None:
        self._start(status, headers, len(body))
        if not head and body:
            self.wfile.write(body)

    def _send_stream(self, status, headers, chunks, length: int, head: bool) -> None:
        self._start(status, headers, length)
        if head:
            return
        for chunk in chunks:
            self.wfile.write(chunk)


def _fresh(if_none_match: str | None, if_modified_since: str | None, etag: str, mtime: int) -> bool:
    if if_none_match is not None:
        return if_none_match.strip() == "*" or etag in [t.strip() for t in if_none_match.split(",")]
    with contextlib.suppress(TypeError, ValueError):
        return mtime <= email.utils.parsedate_to_datetime(if_modified_since or "").timestamp()
    return False


def _merge(defaults: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    """Merge ``extra`` over ``defaults``, matching header names case-insensitively."""
    merged = dict(defaults)
    for key, value in extra.items():
        for existing in [k for k in merged if k.lower() == key.lower()]:
            del merged[existing]
        merged[key] = value
    return merged


def make_server(root: str | Path, host: str = "127.0.0.1", port: int = 0) -> FixtureServer:
    """Bind a FixtureServer (port 0 picks a free port); the caller runs and closes it."""
    return FixtureServer(root, host, port)


def start_in_thread(
    root: str | Path, host: str = "127.0.0.1", port: int = 0
) -> tuple[str, Callable[[], None]]:
    """Serve ``root`` from a daemon thread; return ``(base_url, stop)``."""
    server = make_server(root, host, port)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1},
        name="wicnews-fixture-server", daemon=True,
    )
    thread.start()
    stopped = threading.Event()

    def stop() -> None:
        if stopped.is_set():
            return
        stopped.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return server.base_url, stop


class _Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise _Stop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m wicnews.fixture_server",
        description="Serve a fixture directory on loopback; print the base URL and serve until killed.",
    )
    parser.add_argument("root", help="directory to serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    try:
        server = make_server(args.root, args.host, args.port)
    except (OSError, NotADirectoryError) as exc:
        print(f"fixture_server: {exc}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    try:
        sys.stdout.write(server.base_url + "\n")
        sys.stdout.flush()
        server.serve_forever(poll_interval=0.1)
    except (_Stop, KeyboardInterrupt):
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
