"""A loopback stand-in for the topic search APIs, in the formats of their public documentation.

    python tests/aggregator_server.py --site http://127.0.0.1:PORT --port 0    # prints its URL

- ``/rss/search?q=&hl=&gl=&ceid=``: a Google News search feed (RSS 2.0, ``<source url=...>``
  per item, titles ending in `` - Outlet``) whose links lead to redirect pages of each kind
  (HTTP 302, ``<meta http-equiv=refresh>``, ``<link rel=canonical>``, a script redirect, a
  link carrying its target in ``?url=``) to articles of the fixture site, and one dead end.
- ``/api/v2/doc/doc``: a GDELT DOC 2.0 ``ArtList`` JSON endpoint over a corpus of 40 articles
  (2024-11-15 .. 2024-11-24, four a day) that honours ``query`` (quoted phrases, any of them
  in the title), ``startdatetime``, ``enddatetime`` and ``maxrecords`` (capped at 250);
  ``{}`` when nothing matches, as the real API answers.
- ``/gdelt/<n>.html``: the corpus's article pages; those of the days in ``/__hold?from=DAY``
  wait until ``/__release``.
- ``/publisher/feed.rss`` and ``/publisher/wuzhen-ai-agenda.html``: the article behind the
  dead end, published later by its own outlet.
- ``/__held``: how many article requests have been held so far; ``/__served``: how many
  article pages have been sent.
- ``/__calls``: the API calls received (JSON); ``/__reset`` clears them (and ``/__served``).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit

CORPUS_START = datetime(2024, 11, 15, tzinfo=UTC)
HOURS = (6, 10, 14, 20)
DEAD_TITLE = "Wuzhen Summit opens with a call for AI governance rules"
DEAD_OUTLET = "Zhejiang Daily"

SEED_PATH = ("/scmp/news/china/science/article/3199102/"
             "world-internet-conference-tilts-towards-business-tech-tycoons-stay-away-wuzhen.html")
TARGETS = {
    "http-redirect": SEED_PATH,
    "meta": "/zj/2022/11/09/wic2022-opening.html",
    "canonical": "/bad/slightly-broken.html",
    "script": "/edge/ai-labels.html",
    "encoded": "/edge/satellite-broadband.html",
}
OUTLETS = {"http-redirect": "South China Morning Post", "meta": "Zhejiang Online", "canonical": "Test Gazette",
           "script": "Edge Case Times", "encoded": "Edge Case Times"}


def corpus() -> list[dict]:
    """The GDELT corpus: four articles a day for ten days; every fifth one is off topic."""
    items = []
    for n in range(40):
        day, slot = divmod(n, 4)
        seen = CORPUS_START + timedelta(days=day, hours=HOURS[slot])
        topic = "Tennis open draws crowds" if n % 5 == 4 else "World Internet Conference"
        items.append({"n": n, "seen": seen, "title": f"{topic}: report number {n}",
                      "domain": f"outlet{n % 3}.example", "language": "Chinese" if n % 2 else "English"})
    return items


VOCABULARY = (
    "delegates", "platforms", "governance", "broadband", "factories", "students", "regulators", "engineers",
    "cloud", "data", "security", "farmers", "villages", "exports", "models", "chips", "rules", "forums",
    "ministers", "investors", "startups", "satellites", "networks", "courts", "schools", "hospitals",
    "logistics", "payments", "cities", "rivers", "canals",
)


def article_page(title: str, n: int, site: str = "Loopback Herald") -> bytes:
    """An article page whose text (seeded by ``n``) is no near-duplicate of another's."""
    rng = random.Random(n)
    paragraphs = "".join(
        f"<p>At the World Internet Conference in Wuzhen, {' '.join(rng.choice(VOCABULARY) for _ in range(40))}.</p>"
        for _ in range(4))
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
            f"<meta property='og:title' content='{title}'><meta property='og:site_name' content='{site}'>"
            f"<meta property='article:published_time' content='2024-11-20T09:00:00+08:00'></head>"
            f"<body><article><h1>{title}</h1>{paragraphs}</article></body></html>").encode()


class Handler(BaseHTTPRequestHandler):
    server: Server

    def log_message(self, *args):  # quiet
        pass

    def send(self, status: int, body: bytes = b"", content_type: str = "text/html; charset=utf-8",
             headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        path, site = parts.path, self.server.site
        if path == "/__calls":
            return self.send(200, json.dumps(self.server.calls).encode(), "application/json")
        if path == "/__reset":
            self.server.calls.clear()
            self.server.served = 0
            return self.send(200, b"ok", "text/plain")
        if path == "/__hold":
            self.server.hold_from = int(query["from"])
            self.server.released.clear()
            return self.send(200, b"ok", "text/plain")
        if path == "/__held":
            return self.send(200, str(self.server.held).encode(), "text/plain")
        if path == "/__served":
            return self.send(200, str(self.server.served).encode(), "text/plain")
        if path == "/__release":
            self.server.released.set()
            return self.send(200, b"ok", "text/plain")
        if path == "/rss/search":
            return self.send(200, self.google_feed(query), "application/rss+xml; charset=utf-8")
        if path == "/api/v2/doc/doc":
            return self.gdelt(query)
        if path.startswith("/gn/http-redirect/"):
            return self.send(302, headers={"Location": site + TARGETS["http-redirect"]})
        if path.startswith("/gn/meta/"):
            return self.send(200, f"<html><head><meta http-equiv='refresh' content='0;url={site}{TARGETS['meta']}'>"
                                  f"</head><body>Redirecting</body></html>".encode())
        if path.startswith("/gn/canonical/"):
            return self.send(200, f"<html><head><link rel='canonical' href='{site}{TARGETS['canonical']}'>"
                                  f"</head><body><p>Opening the article...</p></body></html>".encode())
        if path.startswith("/gn/script/"):
            return self.send(200, f"<html><head><script>window.location.replace(\"{site}{TARGETS['script']}\");"
                                  f"</script></head><body><noscript>Continue</noscript></body></html>".encode())
        if match := re.fullmatch(r"/gdelt/(\d+)\.html", path):
            n = int(match[1])
            if self.server.hold_from is not None and n // 4 >= self.server.hold_from:
                with self.server.lock:
                    self.server.held += 1
                self.server.released.wait(120)
            self.send(200, article_page(corpus()[n]["title"], n))
            with self.server.lock:
                self.server.served += 1
            return None
        if path == "/publisher/feed.rss":
            return self.send(200, self.publisher_feed(), "application/rss+xml; charset=utf-8")
        if path == "/publisher/wuzhen-ai-agenda.html":
            return self.send(200, article_page(DEAD_TITLE, 99, DEAD_OUTLET))
        return self.send(404, b"<html><body>Not found</body></html>")

    def google_feed(self, query: dict) -> bytes:
        base, site = self.server.base, self.server.site
        self.server.calls.append({"api": "google_news", **query})
        items = [(kind, f"{base}/gn/{kind}/{i}", f"Story {i} about the Wuzhen Summit - {OUTLETS[kind]}", OUTLETS[kind])
                 for i, kind in enumerate(("http-redirect", "meta", "canonical", "script"))]
        items.append(("encoded", f"{base}/gn/url?url={quote(site + TARGETS['encoded'], safe='')}",
                      f"Satellite broadband at Wuzhen - {OUTLETS['encoded']}", OUTLETS["encoded"]))
        items.append(("dead", f"{base}/gn/dead/6", f"{DEAD_TITLE} - {DEAD_OUTLET}", DEAD_OUTLET))
        rows = "".join(
            f"<item><title>{title}</title><link>{link.replace('&', '&amp;')}</link>"
            f"<guid isPermaLink='false'>gn-{i}</guid><pubDate>Wed, 20 Nov 2024 0{i}:30:00 GMT</pubDate>"
            f"<description>&lt;a href=\"{link.replace('&', '&amp;')}\"&gt;{title}&lt;/a&gt;</description>"
            f"<source url='https://{outlet.lower().replace(' ', '')}.example'>{outlet}</source></item>"
            for i, (_, link, title, outlet) in enumerate(items))
        return (f"<?xml version='1.0' encoding='UTF-8' standalone='yes'?><rss version='2.0' "
                f"xmlns:media='http://search.yahoo.com/mrss/'><channel><generator>NFE/5.0</generator>"
                f"<title>\"{query.get('q', '')}\" - Google News</title><link>{base}/rss/search</link>"
                f"<language>{query.get('hl', 'en-US')}</language><description>Google News</description>"
                f"{rows}</channel></rss>").encode()

    def publisher_feed(self) -> bytes:
        base = self.server.base
        return (f"<?xml version='1.0' encoding='UTF-8'?><rss version='2.0'><channel><title>{DEAD_OUTLET}</title>"
                f"<link>{base}/publisher/</link><item><title>{DEAD_TITLE}</title>"
                f"<link>{base}/publisher/wuzhen-ai-agenda.html</link>"
                f"<pubDate>Wed, 20 Nov 2024 01:00:00 GMT</pubDate></item></channel></rss>").encode()

    def gdelt(self, query: dict) -> None:
        try:
            start = datetime.strptime(query["startdatetime"], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
            end = datetime.strptime(query["enddatetime"], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
            limit = min(int(query.get("maxrecords", "75")), 250)
        except (KeyError, ValueError):
            return self.send(200, b"Invalid query: please specify a startdatetime and enddatetime.", "text/html")
        if query.get("mode") != "ArtList" or query.get("format") != "json":
            return self.send(200, b"Unsupported mode or format.", "text/html")
        phrases = [p.lower() for p in re.findall(r'"([^"]+)"', query.get("query", ""))]
        if not phrases:
            return self.send(200, b"The specified phrase is too short.", "text/html")
        found = [a for a in corpus() if start <= a["seen"] < end and any(p in a["title"].lower() for p in phrases)]
        found.sort(key=lambda a: a["seen"], reverse=True)
        found = found[:limit]
        self.server.calls.append({"api": "gdelt", "start": query["startdatetime"], "end": query["enddatetime"],
                                  "maxrecords": limit, "returned": len(found)})
        if not found:
            return self.send(200, b"{}", "application/json")
        articles = [{"url": f"{self.server.base}/gdelt/{a['n']}.html", "url_mobile": "", "title": a["title"],
                     "seendate": a["seen"].strftime("%Y%m%dT%H%M%SZ"), "socialimage": "", "domain": a["domain"],
                     "language": a["language"], "sourcecountry": "China"} for a in found]
        return self.send(200, json.dumps({"articles": articles}).encode(), "application/json")


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, site: str):
        super().__init__(("127.0.0.1", port), Handler)
        self.base = f"http://127.0.0.1:{self.server_address[1]}"
        self.site = site.rstrip("/")
        self.calls: list[dict] = []
        self.hold_from: int | None = None
        self.released = threading.Event()
        self.held = 0  # requests that have waited for /__release (see /__held)
        self.served = 0  # article pages sent (see /__served)
        self.lock = threading.Lock()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--site", required=True, help="base URL of the fixture site (the publishers)")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = Server(args.port, args.site)
    print(server.base, flush=True)
    server.serve_forever(poll_interval=0.1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
