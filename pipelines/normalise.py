"""Normalise articles: canonical URL (tracking parameters, fragments, AMP) and whitespace."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from itemadapter import ItemAdapter

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
_DEFAULT_PORTS = {"http": 80, "https": 443}


# Parameters that track only with these values (elsewhere they may select content).
TRACKING_VALUES = {
    "ref": {"rss", "feed", "twitter", "facebook", "fb", "tw", "newsletter", "email", "share", "social", "homepage"},
    "from": {"timeline", "singlemessage", "groupmessage", "rss", "share"},  # WeChat shares
    "isappinstalled": {"0", "1"},
}


def is_tracking_param(name: str, value: str | None = None) -> bool:
    """True when a query parameter only tracks a campaign, a click or a share."""
    lowered = name.lower()
    if lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES):
        return True
    return value is not None and value.lower() in TRACKING_VALUES.get(lowered, ())


def canonicalize_url(url: str) -> str:
    """The URL that names the document: lower-case scheme and host, no default port,
    no fragment, no tracking parameters, no empty query; the order of the remaining
    parameters is kept (some sites depend on it)."""
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
            if cand.scheme in ("http", "https") and cand.hostname and not home and not section:
                return canonicalize_url(declared)
        except ValueError:
            pass
    return canonicalize_url(page_url)


_SPACES = re.compile(r"[ \t\u00a0\u3000\u2000-\u200b\u202f\u205f]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def clean_text(text: str | None) -> str:
    """NFC, one space between words, one newline between paragraphs, no edge blanks."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n", "\n".join(line for line in lines if line)).strip()


def clean_line(text: str | None) -> str:
    """A single-line field (title, site name): whitespace collapsed."""
    return " ".join((text or "").split())


class NormalisePipeline:
    """Canonical URL and clean whitespace for every article, before any judgement."""

    def process_item(self, item):
        adapter = ItemAdapter(item)
        adapter["canonical_url"] = choose_canonical(adapter["url"], adapter.get("canonical_url"))
        adapter["url"] = canonicalize_url(adapter["url"])
        adapter["text"] = clean_text(adapter.get("text"))
        for field in ("title", "site_name", "description"):
            adapter[field] = clean_line(adapter.get(field)) or None
        adapter["authors"] = list(dict.fromkeys(a for a in map(clean_line, adapter.get("authors") or []) if a))
        adapter["tags"] = list(dict.fromkeys(t for t in map(clean_line, adapter.get("tags") or []) if t))
        return item
