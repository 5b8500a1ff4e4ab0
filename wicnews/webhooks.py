"""Webhooks: new coverage POSTed as JSON to configured endpoints, signed, retried, recorded.

    [[webhook]]
    name = "newsroom"                       # unique; its cursor is the consumer "webhook:newsroom"
    url = "https://hooks.example.org/wic"
    secret = "..."                          # or secret_env = "NEWSROOM_SECRET"
    since = "7d"                            # optional: a new webhook gets coverage first seen since then
    lang = ["en"]                           # optional filters: lang, site, source (lists)
    max_attempts = 4                        # optional (default 4)
    backoff_seconds = 2.0                   # optional: wait 2 s, 4 s, 8 s ... between attempts
    timeout_seconds = 10                    # optional: per request
    batch = 100                             # optional: articles per POST

Each POST carries ``{"webhook", "sent_at", "articles": [...]}`` (the objects of ``wicnews new
--format json``). ``X-Wicnews-Signature: sha256=<hex>`` is the HMAC-SHA256 of the exact body
bytes with the secret; ``X-Wicnews-Timestamp`` repeats ``sent_at`` (Unix seconds), which is
inside the signed body, so a receiver can refuse replays. A 2xx answer is a delivery; anything
else (3xx included: redirects are not followed) is retried with exponential backoff. Every
delivery is a ``webhook_deliveries`` row; the cursor moves only after a 2xx, so a failed
batch is sent again by the next ``wicnews notify``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from wicnews.errors import ConfigError

logger = logging.getLogger(__name__)
_FIELDS = {"name", "url", "secret", "secret_env", "since", "lang", "site", "source", "max_attempts",
           "backoff_seconds", "timeout_seconds", "batch", "enabled"}
SIGNATURE_HEADER, TIMESTAMP_HEADER = "X-Wicnews-Signature", "X-Wicnews-Timestamp"


@dataclass(frozen=True)
class Webhook:
    name: str
    url: str
    secret: str = field(repr=False)
    since: str | None = None
    lang: tuple[str, ...] = ()
    site: tuple[str, ...] = ()
    source: tuple[str, ...] = ()
    max_attempts: int = 4
    backoff_seconds: float = 2.0
    timeout_seconds: float = 10.0
    batch: int = 100

    @property
    def consumer(self) -> str:
        return f"webhook:{self.name}"


def _strings(raw: dict, key: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"'{key}' must be a string or a list of strings")
    return tuple(value)


def _number(raw: dict, key: str, default, kind, low):
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)) \
            or value < low:
        raise ConfigError(f"'{key}' must be a {'whole ' if kind is int else ''}number >= {low}, got {value!r}")
    return kind(value)


def _check(raw: dict, environ) -> Webhook | None:
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise ConfigError(f"unknown field {unknown[0]!r} (fields: {', '.join(sorted(_FIELDS))})")
    name, url = raw.get("name"), raw.get("url")
    if not isinstance(name, str) or not name.strip() or len(name) > 150:
        raise ConfigError("'name' is required (at most 150 characters)")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ConfigError("'url' must be an http(s) URL")
    if ("secret" in raw) == ("secret_env" in raw):
        raise ConfigError("give exactly one of 'secret' and 'secret_env'")
    secret = raw["secret"] if "secret" in raw else environ.get(str(raw["secret_env"]), "")
    if not isinstance(secret, str) or len(secret) < 16:
        raise ConfigError("the secret must be at least 16 characters" + (
            f" (environment variable {raw['secret_env']} is unset or short)" if "secret_env" in raw else ""))
    since = raw.get("since")
    if since is not None:
        from wicnews.config import parse_since

        parse_since(str(since))
    if raw.get("enabled", True) is False:
        return None
    return Webhook(name=name.strip(), url=url, secret=secret, since=since, lang=_strings(raw, "lang"),
                   site=_strings(raw, "site"), source=_strings(raw, "source"),
                   max_attempts=_number(raw, "max_attempts", 4, int, 1),
                   backoff_seconds=_number(raw, "backoff_seconds", 2.0, float, 0),
                   timeout_seconds=_number(raw, "timeout_seconds", 10.0, float, 0.1),
                   batch=_number(raw, "batch", 100, int, 1))


def load_webhooks(path: str | Path, environ=None) -> list[Webhook]:
    """The enabled webhooks of a TOML file; mistakes raise ``ConfigError("file: webhook #N: ...")``."""
    environ = os.environ if environ is None else environ
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read webhooks file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    hooks: list[Webhook] = []
    for i, raw in enumerate(data.get("webhook", [])):
        try:
            hook = _check(raw, environ) if isinstance(raw, dict) else None
        except ConfigError as exc:
            raise ConfigError(f"{path}: webhook #{i + 1}: {exc}") from None
        if hook is not None:
            if hook.name in {h.name for h in hooks}:
                raise ConfigError(f"{path}: webhook #{i + 1}: duplicate name {hook.name!r}")
            hooks.append(hook)
    return hooks


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: ``sha256=`` and the HMAC-SHA256 of ``body``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def post(hook: Webhook, body: bytes, timestamp: int) -> tuple[int | None, str | None]:
    """One POST; ``(HTTP status, error)``: ``(2xx, None)`` is a success."""
    request = urllib.request.Request(hook.url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": "wicnews-webhook",
        SIGNATURE_HEADER: sign(hook.secret, body), TIMESTAMP_HEADER: str(timestamp)})
    try:
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=hook.timeout_seconds) as resp:
            resp.read(65536)
            return resp.status, None if 200 <= resp.status < 300 else f"HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, str(getattr(exc, "reason", None) or exc)[:500]


@dataclass
class Outcome:
    webhook: str
    delivered: int = 0  # articles
    failed: bool = False


def notify(engine: Engine, hook: Webhook, sleep: Callable[[float], None] = time.sleep) -> Outcome:
    """Send ``hook`` what its cursor has not reached yet, batch after batch, until nothing is
    pending or a batch fails every attempt."""
    from wicnews.config import parse_since
    from wicnews.db import consumers
    from wicnews.db.queries import Filters
    from wicnews.models import WebhookDelivery, utcnow

    filters = Filters(since=parse_since(hook.since) if hook.since else None, langs=hook.lang, sites=hook.site,
                      sources=hook.source, limit=hook.batch)
    outcome = Outcome(hook.name)
    while True:
        batch = consumers.pending(engine, hook.consumer, filters)
        if batch.next_seq is None:
            return outcome
        if not batch.rows:  # only articles the filters leave out
            consumers.advance(engine, hook.consumer, batch.next_seq)
            return outcome
        started, timestamp = utcnow(), int(time.time())
        body = json.dumps({"webhook": hook.name, "sent_at": timestamp, "articles": batch.rows},
                          ensure_ascii=False).encode("utf-8")
        attempts, status, error = 0, None, None
        while attempts < hook.max_attempts:
            if attempts:
                sleep(hook.backoff_seconds * 2 ** (attempts - 1))
            attempts += 1
            status, error = post(hook, body, timestamp)
            if error is None:
                break
            logger.warning("webhook %s: attempt %d of %d failed: %s", hook.name, attempts, hook.max_attempts, error)
        with Session(engine) as session, session.begin():
            session.add(WebhookDelivery(
                webhook=hook.name, url=hook.url, first_seq=batch.cursor + 1, last_seq=batch.next_seq,
                articles=len(batch.rows), status="delivered" if error is None else "failed", attempts=attempts,
                http_status=status, error=error, body_sha256=hashlib.sha256(body).hexdigest(), started_at=started,
                finished_at=utcnow()))
        if error is not None:
            logger.error("webhook %s: %d articles not delivered after %d attempts: %s", hook.name, len(batch.rows),
                         attempts, error)
            outcome.failed = True
            return outcome
        consumers.advance(engine, hook.consumer, batch.next_seq)
        outcome.delivered += len(batch.rows)
