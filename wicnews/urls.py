"""URLs: the canonical form that names a document, its fixed-width key, and the http(s) checks.

Neutral ground: the spider, the middlewares, the sources and the pipelines all import from
here, and this module imports nothing of theirs.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import re
import socket
from collections.abc import Iterable
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
# Longest URL crawled (browsers and servers accept about this much); longer ones count as bad_url.
MAX_URL_LENGTH = 8192
_BAD_HOST_CHARS = re.compile(r"[\x00-\x20\x7f/\\%<>\"'`{}|^@#?]")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Names that can only be local, whatever they resolve to.
LOCAL_NAMES = ("localhost",)
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")
_IPV4_SPELLING = re.compile(r"(?:0x[0-9a-f]+|\d+)(?:\.(?:0x[0-9a-f]+|\d+)){0,3}")


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
    """``url`` stripped when it is written as an http(s) URL, else ``ConfigError`` (a usage
    mistake). A bad host, port or length is not judged here: that is the crawl's ``bad_url``
    for that source alone (``url_problem``)."""
    if not isinstance(url, str) or not url.strip().lower().startswith(("http://", "https://")):
        raise ConfigError(f"not an http(s) URL: {url!r}")
    return url.strip()


def url_problem(url: str, max_length: int = MAX_URL_LENGTH) -> str | None:
    """What makes ``url`` uncrawlable (too long, malformed, no usable host, a port out of
    range, not http(s)), or None when it can be requested."""
    if max_length and len(url) > max_length:
        return f"URL of {len(url)} characters, longer than {max_length}"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # "http://[x", "http://host:99999/"
        return f"malformed URL: {exc}"
    if parts.scheme.lower() not in HTTP_SCHEMES:
        return f"not an http(s) URL (scheme {parts.scheme!r})"
    host = parts.hostname or ""
    if not host or _BAD_HOST_CHARS.search(host) or host.startswith(".") or ".." in host:
        return f"no usable host in the URL ({host!r})"
    if port == 0:
        return "port 0 in the URL"
    if ":" not in host:
        try:
            host.encode("idna")
        except UnicodeError as exc:
            return f"bad host name {host!r}: {exc}"
    return None


def url_host(url: str) -> str | None:
    """The host of ``url`` (lower case), None when the URL is malformed or has none."""
    try:
        return urlsplit(url).hostname or None
    except ValueError:
        return None


def parse_address(host: str | None) -> IPAddress | None:
    """The IP address ``host`` spells, in any form the C library accepts (``2130706433``,
    ``0x7f000001``, ``0177.0.0.1``, ``127.1``, ``0``, ``[::1]``), or None for a name."""
    host = (host or "").strip().strip("[]").lower().rstrip(".")
    if not host:
        return None
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _IPV4_SPELLING.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def is_public_address(address: IPAddress) -> bool:
    """True for an address on the public internet: not loopback, private, link-local,
    unique-local, shared (CGNAT), reserved, multicast or unspecified."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def is_private_host(host: str | None) -> bool:
    """True when ``host`` is local by itself: a literal non-public address (any spelling)
    or a name that can only be local (``localhost``, ``*.local``, ``*.internal``). Other
    names are judged by the addresses they resolve to (``wicnews.guard``)."""
    if not host:
        return False
    address = parse_address(host)
    if address is not None:
        return not is_public_address(address)
    host = host.strip().strip("[]").lower().rstrip(".")
    return host in LOCAL_NAMES or host.endswith(LOCAL_SUFFIXES)


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
    port = parts.port  # ValueError when out of range: a bad URL, not another URL without its port
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


@functools.cache
def _suffixes():
    import tldextract

    # the list bundled with tldextract: never fetched, never cached on disk
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


def registrable_domain(host: str | None) -> str:
    """The domain a registrant controls (``bbc.co.uk`` for ``news.bbc.co.uk``; ``b.github.io``
    for ``a.b.github.io``), from the Public Suffix List bundled with tldextract (offline). An
    address or a bare name is its own domain."""
    host = (host or "").strip("[]").lower().rstrip(".")
    if not host or parse_address(host) is not None:
        return host
    return _suffixes()(host).top_domain_under_public_suffix or host


def same_publisher(url: str, other: str, related: Iterable[str] = ()) -> bool:
    """True when ``other`` is on ``url``'s registrable domain, or on one of the ``related``
    domains (a syndication relation the page declares or the configuration knows)."""
    mine, theirs = registrable_domain(url_host(url)), registrable_domain(url_host(other))
    return bool(theirs) and (theirs == mine or theirs in {registrable_domain(d) for d in related})


def url_key(canonical_url: str) -> str:
    """Fixed-width key of a canonical URL (URLs can outgrow index limits)."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()
