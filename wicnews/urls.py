"""URLs: the canonical form that names a document, its fixed-width key, and the http(s) checks.

Neutral ground: the spider, the middlewares, the sources and the pipelines all import from
here, and this module imports nothing of theirs.
"""

from __future__ import annotations

import hashlib
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

from wicnews.errors import ConfigError

HTTP_SCHEMES = ("http", "https")

# Query parameters that identify a campaign or a click, never the document.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
        "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "ref_src", "ref_url", "cmpid",
        "ncid", "ocid", "sr_share", "spm", "share_token", "xtor", "mkt_tok",
        "_hsenc", "_hsmi", "oly_enc_id", "oly_anon_id", "vero_id", "__twitter_impression",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hmsr", "hmpl", "hmcu", "hmkw", "hmci")
# Parameters that track only with these values (elsewhere they may select content).
TRACKING_VALUES = {
    "ref": {"rss", "feed", "twitter", "facebook", "fb", "tw", "newsletter", "email", "share", "social", "homepage"},
    "from": {"timeline", "singlemessage", "groupmessage", "rss", "share"},  # WeChat shares
    "isappinstalled": {"0", "1"},
}
_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_http_url(url: str) -> bool:
    """True when ``url`` is written as an absolute http(s) URL (a cheap prefix test)."""
    return url.startswith(("http://", "https://"))


def resolve_http_url(base: str, href: str | None) -> str | None:
    """``href`` made absolute against ``base`` when it is an http(s) URL, else None (empty,
    another scheme). Raises ``ValueError`` when it is malformed (``"http://[broken"``)."""
    if not href or not href.strip():
        return None
    url = urljoin(base, href.strip())
    return url if is_http_url(url) else None


def check_url(url: str) -> str:
    """An absolute http(s) URL with a host, stripped, or ``ConfigError``."""
    parts = urlsplit(url.strip()) if isinstance(url, str) else None
    if not parts or parts.scheme not in HTTP_SCHEMES or not parts.hostname:
        raise ConfigError(f"not an http(s) URL: {url!r}")
    return url.strip()


def is_tracking_param(name: str, value: str | None = None) -> bool:
    """True when a query parameter only tracks a campaign, a click or a share."""
    lowered = name.lower()
    if lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES):
        return True
    return value is not None and value.lower() in TRACKING_VALUES.get(lowered, ())


def canonicalize_url(url: str) -> str:
    """The URL that names the document: lower-case scheme and host, no default port,
    no fragment, no tracking parameters, no empty query; the order of the remaining
    parameters is kept (some sites depend on it). Raises ``ValueError`` on a malformed URL."""
    url = url.strip()
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    netloc = f"[{host}]" if ":" in host else host
    try:
        port = parts.port
    except ValueError:
        port = None
    if port and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{port}"
    userinfo = parts.netloc.rpartition("@")[0]
    if userinfo:
        netloc = f"{userinfo}@{netloc}"
    # keep each remaining parameter exactly as written (encoding, order, "?123" without "=")
    query = "&".join(p for p in parts.query.split("&")
                     if p and not is_tracking_param(*map(unquote_plus, p.split("=", 1))))
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def choose_canonical(page_url: str, declared: str | None) -> str:
    """The page's own ``rel=canonical`` wins (this is how AMP pages and syndicated copies
    point at the original), unless it is not http(s), is malformed, or is an obvious
    template bug: a site's home page, or a section of the same site above the article
    (``/china/`` for ``/china/2024/story.htm``), declared by an article."""
    if declared:
        try:
            cand, page = urlsplit(declared.strip()), urlsplit(page_url)
            path, page_path = cand.path or "/", page.path or "/"
            home = path == "/" and not cand.query and page_path != "/"
            section = (cand.hostname == page.hostname and path.endswith("/") and not cand.query
                       and page_path.startswith(path) and page_path != path)
            if cand.scheme in HTTP_SCHEMES and cand.hostname and not home and not section:
                return canonicalize_url(declared)
        except ValueError:
            pass
    return canonicalize_url(page_url)


def url_key(canonical_url: str) -> str:
    """Fixed-width key of a canonical URL (URLs can outgrow index limits)."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()
