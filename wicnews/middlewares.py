"""Downloader middlewares: skip article URLs already stored; keep out of private networks;
Scrapy's robots.txt and redirect middlewares, raising exceptions that say why they refused.

In ``DOWNLOADER_MIDDLEWARES``, ``RobotsTxtMiddleware``, ``MetaRefreshMiddleware`` and
``RedirectMiddleware`` replace Scrapy's at the same order numbers (100, 580, 600).
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares import redirect, robotstxt
from scrapy.exceptions import IgnoreRequest, NotConfigured
from sqlalchemy.orm import Session

from wicnews.crawldb import crawl_engine
from wicnews.db.revisions import RecheckPolicy, recheck_due
from wicnews.failures import (
    AlreadySeen,
    PrivateAddressRefused,
    RedirectLoop,
    RobotsDenied,
)
from wicnews.urls import url_key


class SkipSeenMiddleware:
    """A monitoring cycle re-reads the same feeds; their old items are stored already.
    Article requests (``meta["wicnews_article"]``) whose URL leads to a stored article are
    ignored before download and counted as ``wicnews/skipped/seen``, unless a recheck of
    that article's page is due (``RecheckPolicy``: ``WICNEWS_RECHECK_AFTER``,
    ``WICNEWS_RECHECK``; counted as ``wicnews/rechecked``): then it is downloaded again and
    the store keeps a new revision if it changed. Off with ``WICNEWS_SKIP_SEEN=False``
    (every article is then fetched and deduped by the store)."""

    def __init__(self, engine, policy: RecheckPolicy | None = None, stats=None):
        self.engine = engine
        self.policy = policy or RecheckPolicy(after=())
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        from wicnews.config import parse_spans

        s = crawler.settings
        if not s.getbool("WICNEWS_SKIP_SEEN"):
            raise NotConfigured("WICNEWS_SKIP_SEEN is off")
        policy = RecheckPolicy(after=parse_spans(s.get("WICNEWS_RECHECK_AFTER"), "WICNEWS_RECHECK_AFTER"),
                               always=s.getbool("WICNEWS_RECHECK"))
        return cls(crawl_engine(crawler), policy, crawler.stats)

    def process_request(self, request):
        if not request.meta.get("wicnews_article"):
            return
        with Session(self.engine) as session, session.begin():
            due = recheck_due(session, url_key(request.url), self.policy)
        if due is False:
            raise AlreadySeen("already stored")
        if due and self.stats is not None:
            self.stats.inc_value("wicnews/rechecked")
        return


def is_private_host(host: str | None) -> bool:
    """True for loopback, private, link-local and other non-global addresses, and for
    names that can only be local (``localhost``, ``*.local``, ``*.internal``). Other names
    are judged by the address they resolve to, once connected (see ``PrivateAddressGuard``)."""
    host = (host or "").strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal", ".lan")):
        return True
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        return False


class PrivateAddressGuard:
    """A feed, sitemap or page on the public web must not steer the crawler into the
    machine's own network (cloud metadata at 169.254.169.254, an intranet, localhost): a
    request to a non-global address is refused when its source is public, before download
    when the address is literal, after connecting when a name resolves to one. Sources that
    are themselves local (a test site on 127.0.0.1, an intranet feed) may link locally.
    Refusals count as ``private_address``. Off with ``WICNEWS_ALLOW_PRIVATE_ADDRESSES=True``."""

    @classmethod
    def from_crawler(cls, crawler):
        if crawler.settings.getbool("WICNEWS_ALLOW_PRIVATE_ADDRESSES"):
            raise NotConfigured("WICNEWS_ALLOW_PRIVATE_ADDRESSES is on")
        return cls()

    @staticmethod
    def _guarded(request) -> bool:
        source = request.cb_kwargs.get("source")
        return source is not None and not is_private_host(urlsplit(source.url).hostname)

    def process_request(self, request):
        if self._guarded(request) and is_private_host(urlsplit(request.url).hostname):
            raise PrivateAddressRefused(f"private address refused: {urlsplit(request.url).hostname}")

    def process_response(self, request, response):
        address = getattr(response, "ip_address", None)
        if address is not None and self._guarded(request) and not address.is_global:
            raise PrivateAddressRefused(f"private address refused: {urlsplit(request.url).hostname} is {address}")
        return response


class RobotsTxtMiddleware(robotstxt.RobotsTxtMiddleware):
    """Scrapy's, but a request robots.txt forbids raises ``RobotsDenied`` (a skip: ``robots``)."""

    def process_request_2(self, rp, request) -> None:
        try:
            super().process_request_2(rp, request)
        except IgnoreRequest as exc:  # the only refusal there: forbidden by robots.txt
            raise RobotsDenied(str(exc)) from None


class _RedirectLoopMixin:
    """Past ``REDIRECT_MAX_TIMES``, raise ``RedirectLoop`` (``redirect_loop``), not a bare IgnoreRequest."""

    def _redirect(self, redirected: Any, request: Any, reason: Any) -> Any:
        try:
            return super()._redirect(redirected, request, reason)  # type: ignore[misc]
        except IgnoreRequest as exc:  # the only refusal there: max redirections reached
            raise RedirectLoop(str(exc)) from None


class RedirectMiddleware(_RedirectLoopMixin, redirect.RedirectMiddleware):
    """Scrapy's 3xx redirects; a redirect loop raises ``RedirectLoop``."""


class MetaRefreshMiddleware(_RedirectLoopMixin, redirect.MetaRefreshMiddleware):
    """Scrapy's ``<meta http-equiv=refresh>`` redirects; a redirect loop raises ``RedirectLoop``."""
