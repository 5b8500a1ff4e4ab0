"""No request reaches a private address from a public source: the hostile-input matrix's SSRF
cases, crawled for real. A "public" server on 127.0.0.2 stands in for the internet (that
address counts as public inside the crawl's process only, see ``tests/hostile_run.py``);
a canary on 127.0.0.1, on the same port, must see no request at all."""

from __future__ import annotations

import json
import socket

import pytest
from hostile import Server, run_wicnews

pytestmark = pytest.mark.e2e  # crawls, servers and processes

FAST = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_TIMES=0",
        "-s", "DOWNLOAD_TIMEOUT=20", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8"]
NEWS, ROBOTS, REBIND, EVIL = "news.test-public.com", "robots.test-public.com", "rebind.test-public.com", "evil.test-public.com"


def html_page(title: str, topic: str, extra_head: str = "", amp: bool = False) -> bytes:
    paragraphs = "".join(
        f"<p>The World Internet Conference in Wuzhen opened its {topic} forum on day {i}, where delegates "
        f"discussed {topic} rules, cross-border data flows and the digital economy in Zhejiang.</p>" for i in range(1, 7))
    return (f"<!DOCTYPE html><html{' amp' if amp else ''} lang='en'><head><meta charset='utf-8'><title>{title}</title>"
            f"{extra_head}</head><body><article><h1>{title}</h1>{paragraphs}</article></body></html>").encode()


def ok(body: bytes, ctype: str = "text/html; charset=utf-8"):
    return 200, {"Content-Type": ctype}, body


def redirect(location: str):
    return 302, {"Location": location}, b""


def rss(links: list[str]) -> bytes:
    items = "".join(f"<item><title>item {i}</title><link>{link.replace('&', '&amp;')}</link></item>"
                    for i, link in enumerate(links))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()


def bind_pair() -> tuple[Server, Server]:
    """A public server on 127.0.0.2 and a canary on 127.0.0.1, both on one port number (so a
    connection that went to the wrong address would reach the canary, not a closed port)."""
    for _ in range(20):
        public = Server("127.0.0.2")
        try:
            canary = Server("127.0.0.1")
            canary.server_close()
            canary = _server_on("127.0.0.1", public.port)
            return public, canary
        except OSError:
            public.server_close()
    pytest.skip("no port free on both 127.0.0.1 and 127.0.0.2")


def _server_on(address: str, port: int) -> Server:
    server = Server.__new__(Server)
    server.routes, server.hits = {}, []
    import http.server
    import threading

    from hostile import _Handler

    http.server.ThreadingHTTPServer.__init__(server, (address, port), _Handler)
    server.thread = threading.Thread(target=server.serve_forever, daemon=True)
    return server


def test_no_request_reaches_a_private_address_from_a_public_source(tmp_path):
    try:
        socket.create_server(("127.0.0.2", 0)).close()
    except OSError:
        pytest.skip("127.0.0.2 is not usable here")
    public, canary = bind_pair()
    port = public.port
    long_path = "/long/" + "a" * 2500 + ".html"  # a legitimate 2,500-character URL
    at = f"http://{NEWS}:{port}"
    public.routes.update({
        "/robots.txt": ok(b"User-agent: *\nAllow: /\n", "text/plain"),
        (ROBOTS, "/robots.txt"): redirect(f"http://127.0.0.1:{port}/robots.txt"),
        "/good.html": ok(html_page("Wuzhen summit opens", "governance")),
        long_path: ok(html_page("A long address", "long-address")),
        "/story.html": ok(html_page("Robots host story", "robots-story")),
        "/rebound.html": ok(html_page("Rebinding story", "rebinding")),
        "/to-canary": redirect(f"http://{EVIL}:{port}/h"),
        "/to-literal": redirect(f"http://2130706433:{port}/i"),
        "/refresh.html": ok(b"<html><head><meta http-equiv='refresh' content='0;url=http://0x7f000001:%d/j'></head>"
                            b"<body>moved</body></html>" % port),
        "/amp.html": ok(html_page("AMP story", "amp-edition", f"<link rel='canonical' href='http://{EVIL}:{port}/k'>",
                                  amp=True)),
    })
    spelled = [f"http://{host}:{port}/{n}" for n, host in enumerate(
        ["2130706433", "0x7f000001", "0177.0.0.1", "127.1", "0", "[::ffff:127.0.0.1]", "[::1]", EVIL, "localhost"])]
    links = [f"{at}/good.html", at + long_path, f"http://{ROBOTS}:{port}/story.html", f"http://{REBIND}:{port}/rebound.html",
             f"{at}/to-canary", f"{at}/to-literal", f"{at}/refresh.html", f"{at}/amp.html",
             "http://169.254.169.254/latest/meta-data/", *spelled]
    public.routes["/feed.rss"] = ok(rss(links), "application/rss+xml")
    db = f"sqlite:///{tmp_path / 'w.db'}"
    hosts = {NEWS: ["127.0.0.2"], ROBOTS: ["127.0.0.2"], EVIL: ["127.0.0.1"],
             REBIND: ["127.0.0.2", "127.0.0.1"]}  # rebinding: any second lookup would answer the canary
    with public, canary:
        # the test pages share one body: near-duplicate detection off, each page is its own case
        result = run_wicnews(["crawl", "--feed", f"{at}/feed.rss", "--db", db, *FAST,
                              "-s", "WICNEWS_NEAR_DUP_THRESHOLD=0"], hosts=hosts,
                             public=("127.0.0.2",), home=tmp_path)
        assert result.returncode == 0, result.stderr
        assert canary.hits == []  # not one request: no page, no robots.txt
        stored = json.loads(run_wicnews(["new", "--db", db, "--format", "json"], home=tmp_path).stdout)
        runs = json.loads(run_wicnews(["runs", "--db", db, "--format", "json"], home=tmp_path).stdout)
    titles = sorted(a["title"] for a in stored)
    assert titles == sorted(["Wuzhen summit opens", "A long address", "Robots host story", "Rebinding story", "AMP story"])
    assert any(len(a["canonical_url"]) > 2500 for a in stored)
    # 9 spellings and names + metadata + 2 redirects + meta refresh + AMP canonical + robots.txt redirect
    assert runs[0]["error_counts"]["private_address"] == 15, runs[0]
    assert (REBIND, "/rebound.html") in public.hits  # the pinned, checked address was used
