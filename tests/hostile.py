"""Hostile servers on loopback for the hardening tests, and a runner for ``wicnews`` with test
names resolved inside its own process only (no /etc/hosts edits).

``Server(address, routes)`` serves ``routes``: path -> ``(status, headers, body)`` or a
function ``(handler) -> None`` that writes the response itself; unknown paths are 404.
Every request is recorded in ``hits`` as ``(host header, path)``, so a canary server can
prove that nothing reached it.
"""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

RUNNER = Path(__file__).with_name("hostile_run.py")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: str = "127.0.0.1", routes: dict | None = None, port: int = 0):
        self.routes = routes or {}
        self.hits: list[tuple[str, str]] = []
        super().__init__((address, port), _Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()
        self.server_close()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        server: Server = self.server  # type: ignore[assignment]
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        server.hits.append((host, self.path))
        route = server.routes.get((host, self.path)) or server.routes.get(self.path)
        if callable(route):
            route(self)
            return
        status, headers, body = route or (404, {"Content-Type": "text/plain"}, b"not found")
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def run_wicnews(args: list[str], hosts: dict[str, list[str]] | None = None, public: tuple[str, ...] = (),
                home: Path | None = None, timeout: int = 180, **popen) -> subprocess.CompletedProcess:
    """``wicnews ARGS`` in a subprocess where each name of ``hosts`` resolves to its addresses
    (one answer per lookup, the last repeated) and ``public`` loopback addresses count as
    public: a stand-in for the internet, inside that process only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WICNEWS_")}
    env.update(TEST_HOSTS=repr(hosts or {}), TEST_PUBLIC=repr(list(public)), PYTHONWARNINGS="default")
    if home:
        env["WICNEWS_HOME"] = str(home)
    return subprocess.run([sys.executable, str(RUNNER), *args], capture_output=True, text=True, env=env,
                          timeout=timeout, **popen)


def start_wicnews(args: list[str], home: Path, **env) -> subprocess.Popen:
    """``wicnews ARGS`` started in the background (for signals and kill -9)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("WICNEWS_")}
    full.update(WICNEWS_HOME=str(home), TEST_HOSTS="{}", TEST_PUBLIC="[]", **env)
    return subprocess.Popen([sys.executable, str(RUNNER), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=full)
