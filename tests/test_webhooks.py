"""Webhooks: a loopback receiver that checks the HMAC signature and fails twice before it
accepts; deliveries recorded; a dead endpoint never moves the cursor; the scheduler calls
``wicnews notify`` after a crawl."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from wicnews.db import engine as db
from wicnews.db.articles import store_article
from wicnews.errors import ConfigError
from wicnews.models import WebhookDelivery
from wicnews.pipelines.dedupe import text_key
from wicnews.urls import url_key
from wicnews.webhooks import load_webhooks

SECRET = "s3cret-for-the-loopback-receiver"


class Receiver:
    """A real HTTP endpoint on 127.0.0.1: answers 500 ``fail_first`` times, then 204 (or 500
    forever with ``fail_first=None``); refuses (401) a bad signature."""

    def __init__(self, fail_first: int | None = 2):
        self.fail_first, self.calls, self.accepted, self.bad_signatures = fail_first, 0, [], 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                receiver.calls += 1
                if not hmac.compare_digest(self.headers.get("X-Wicnews-Signature", ""), expected) \
                        or self.headers.get("X-Wicnews-Timestamp") != str(json.loads(body)["sent_at"]):
                    receiver.bad_signatures += 1
                    self.send_response(401)
                elif receiver.fail_first is None or receiver.calls <= receiver.fail_first:
                    self.send_response(500)
                else:
                    receiver.accepted.append(json.loads(body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def hooks_file(tmp_path, url: str, name: str = "desk", **extra) -> str:
    path = tmp_path / f"{name}.toml"
    lines = [f'name = "{name}"', f'url = "{url}"', f'secret = "{SECRET}"', "backoff_seconds = 0.05",
             *(f"{k} = {json.dumps(v)}" for k, v in extra.items())]
    path.write_text("[[webhook]]\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def seed(url: str, *titles: str) -> None:
    engine = db.open_database(url)
    try:
        for title in titles:
            body = f"{title}: the World Internet Conference in Wuzhen, reported at length " * 4
            with Session(engine) as s, s.begin():
                link = f"http://n.test/{title}"
                store_article(s, {
                    "url": link, "canonical_url": link, "url_key": url_key(link), "text_key": text_key(body),
                    "title": title, "authors": [], "published_at": None, "site_name": "N", "language": "zh",
                    "description": None, "image": None, "tags": [], "text": body, "relevant": True,
                    "relevance_level": "coverage",
                    "matched_terms": ["乌镇"], "source": "t", "first_seen_at": datetime.now(timezone.utc),
                    "run_id": None}, {})
    finally:
        engine.dispose()


def deliveries(url: str) -> list[tuple]:
    engine = db.make_engine(url)
    try:
        with Session(engine) as s:
            return [(d.webhook, d.status, d.attempts, d.http_status, d.articles)
                    for d in s.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))]
    finally:
        engine.dispose()


def test_signed_delivery_retried_until_accepted_and_recorded(wicnews, db_url, receiver, tmp_path):
    seed(db_url, "乌镇峰会一", "Wuzhen two")
    hooks = hooks_file(tmp_path, receiver.url)
    result = wicnews("notify", "--webhooks", hooks, "--db", db_url)
    assert result.returncode == 0, result.stderr
    assert "webhook desk: 2 articles delivered" in result.stdout
    assert receiver.bad_signatures == 0 and receiver.calls == 3
    [payload] = receiver.accepted
    assert payload["webhook"] == "desk" and [a["title"] for a in payload["articles"]] == ["乌镇峰会一", "Wuzhen two"]
    assert deliveries(db_url) == [("desk", "delivered", 3, 204, 2)]
    # nothing pending: no POST; a new article: one POST with it alone
    assert wicnews("notify", "--webhooks", hooks, "--db", db_url, check=True).stdout.count("0 articles") == 1
    assert receiver.calls == 3
    seed(db_url, "three")
    wicnews("notify", "--webhooks", hooks, "--db", db_url, check=True)
    assert [a["title"] for a in receiver.accepted[-1]["articles"]] == ["three"]


def test_a_dead_endpoint_is_recorded_and_retried_next_time(wicnews, sqlite_url, tmp_path):
    seed(sqlite_url, "one")
    dead = Receiver(fail_first=None)
    try:
        hooks = hooks_file(tmp_path, dead.url, max_attempts=3)
        result = wicnews("notify", "--webhooks", hooks, "--db", sqlite_url)
        assert result.returncode == 1 and "a batch failed" in result.stdout and "Traceback" not in result.stderr
        assert deliveries(sqlite_url) == [("desk", "failed", 3, 500, 1)]
        dead.fail_first = 0  # the endpoint recovers: the same article goes out
        wicnews("notify", "--webhooks", hooks, "--db", sqlite_url, check=True)
        assert [a["title"] for a in dead.accepted[0]["articles"]] == ["one"]
        assert deliveries(sqlite_url)[-1][:2] == ("desk", "delivered")
    finally:
        dead.close()


def test_schedule_notifies_after_each_crawl(wicnews, sqlite_url, receiver, tmp_path, site, sources_file):
    receiver.fail_first = 0
    schedules = tmp_path / "s.toml"
    schedules.write_text(f'[[schedule]]\nname = "once"\nevery = "1h"\nargs = ["--sources", "{sources_file}", '
                         '"-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]\n', encoding="utf-8")
    result = wicnews("schedule", "--file", str(schedules), "--once", "--webhooks", hooks_file(tmp_path, receiver.url),
                     "--db", sqlite_url, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert len(receiver.accepted) == 1 and len(receiver.accepted[0]["articles"]) == 3


@pytest.mark.parametrize("body, message", [
    ('[[webhook]]\nname = "x"\nurl = "ftp://x"\nsecret = "0123456789abcdef"', "'url' must be an http(s) URL"),
    ('[[webhook]]\nname = "x"\nurl = "http://x"\nsecret = "short"', "at least 16 characters"),
    ('[[webhook]]\nname = "x"\nurl = "http://x"\nsecret_env = "NO_SUCH_VAR_WICNEWS"', "is unset or short"),
    ('[[webhook]]\nname = "x"\nurl = "http://x"\nsecret = "0123456789abcdef"\nretries = 3', "unknown field 'retries'"),
    ('[[webhook]]\nname = "x"\nurl = "http://x"\nsecret = "0123456789abcdef"\nmax_attempts = 0', "'max_attempts'"),
    ("[[webhook]\n", "invalid TOML"),
])
def test_webhook_file_mistakes(tmp_path, body, message):
    path = tmp_path / "w.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_webhooks(path, environ={})
