"""Downloader middlewares: skip article URLs already stored; keep out of private networks
(before connecting, see ``wicnews.guard``);
Scrapy's robots.txt and redirect middlewares, raising exceptions that say why they refused.

In ``DOWNLOADER_MIDDLEWARES``, ``RobotsTxtMiddleware``, ``MetaRefreshMiddleware`` and
``RedirectMiddleware`` replace Scrapy's at the same order numbers (100, 580, 600).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares import redirect, robotstxt
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from sqlalchemy.orm import Session
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

from wicnews import guard, urls
from wicnews.crawldb import crawl_engine
from wicnews.db.revisions import RecheckPolicy, recheck_candidates, recheck_due
from wicnews.errors import ErrorKind
from wicnews.failures import (
    AlreadySeen,
    BadUrl,
    PrivateAddressRefused,
    RedirectLoop,
    RobotsDenied,
)
from wicnews.urls import MAX_URL_LENGTH, is_private_host, parse_address, url_host, url_key, url_problem

logger = logging.getLogger(__name__)


class SkipSeenMiddleware:
    """A monitoring cycle re-reads the same feeds; their old items are stored already.
    Article requests (``meta["wicnews_article"]``) whose URL leads to a stored article are
    ignored before download and counted as ``wicnews/skipped/seen``, unless a recheck of
    that article's page is due (``RecheckPolicy``: ``WICNEWS_RECHECK_AFTER``,
    ``WICNEWS_RECHECK``; counted as ``wicnews/rechecked``): then it is downloaded again and
    the store keeps a new revision if it changed. Off with ``WICNEWS_SKIP_SEEN=False``
    (every article is then fetched and deduped by the store).

    The database is asked off the reactor thread, in batches: the requests that arrive while
    one batch is being looked up make the next one. The look-up only reads (it does not wait
    for the store's write transaction); a recheck that looks due is decided and recorded in
    a write transaction (``recheck_due``)."""

    def __init__(self, engine, policy: RecheckPolicy | None = None, stats=None):
        self.engine = engine
        self.policy = policy or RecheckPolicy(after=())
        self.stats = stats
        self._pending: list[tuple[str, Deferred]] = []
        self._busy = False

    @classmethod
    def from_crawler(cls, crawler):
        from wicnews.config import parse_spans

        s = crawler.settings
        if not s.getbool("WICNEWS_SKIP_SEEN"):
            raise NotConfigured("WICNEWS_SKIP_SEEN is off")
        policy = RecheckPolicy(after=parse_spans(s.get("WICNEWS_RECHECK_AFTER"), "WICNEWS_RECHECK_AFTER"),
                               always=s.getbool("WICNEWS_RECHECK"))
        return cls(crawl_engine(crawler), policy, crawler.stats)

    async def process_request(self, request):
        if not request.meta.get("wicnews_article"):
            return
        answer: Deferred = Deferred()
        self._pending.append((url_key(request.url), answer))
        self._next_batch()
        due = await maybe_deferred_to_future(answer)
        if due is False:
            raise AlreadySeen("already stored")
        if due and self.stats is not None:
            self.stats.inc_value("wicnews/rechecked")

    def _next_batch(self) -> None:
        if self._busy or not self._pending:
            return
        batch, self._pending = self._pending, []
        self._busy = True
        deferToThread(self._look_up, [key for key, _ in batch]).addBoth(self._answer, batch)

    def _look_up(self, keys: list[str]) -> list[bool | None]:
        """In a worker thread: per key (in order) what ``recheck_due`` says."""
        with self.engine.connect().execution_options(wicnews_read_only=True) as conn:
            answers = recheck_candidates(conn, keys, self.policy)
            conn.rollback()
        if not any(answers.values()):
            return [answers[key] for key in keys]
        with Session(self.engine) as session, session.begin():  # due: decided and recorded, one key after the other
            return [recheck_due(session, key, self.policy) if answers[key] else answers[key] for key in keys]

    def _answer(self, result, batch: list[tuple[str, Deferred]]) -> None:
        self._busy = False
        for index, (_, answer) in enumerate(batch):
            if isinstance(result, Failure):
                answer.errback(result)
            else:
                answer.callback(result[index])
        self._next_batch()


class PrivateAddressGuard:
    """A feed, sitemap or page on the public web must not steer the crawler into the
    machine's own network (cloud metadata at 169.254.169.254, an intranet, localhost).

    Every request first has its URL checked (``wicnews.urls.url_problem``: length up to
    ``URLLENGTH_LIMIT``, host, port), else ``BadUrl`` (``bad_url``). A request is *guarded*
    when its source is public (its host is not local by itself); redirects keep the flag
    (``meta["wicnews_guarded"]``) and a robots.txt request takes its host's. A guarded
    request is refused with ``PrivateAddressRefused`` (``private_address``) before anything
    is sent when its host spells a non-public address in any form, or is a name any of whose
    addresses is not public; the address checked is pinned for the connection
    (``wicnews.guard.PinningResolver``: no second lookup). This middleware runs before
    robots.txt (order 40), so a refused URL costs no request at all. Sources that are
    themselves local (a test site on 127.0.0.1, an intranet feed) may link locally.
    ``WICNEWS_ALLOW_PRIVATE_ADDRESSES=True`` lets every request through (URL checks stay)."""

    def __init__(self, allow_private: bool = False, max_url_length: int = MAX_URL_LENGTH, dns_timeout: float = 60.0,
                 stats: Any = None):
        self.allow_private = allow_private
        self.stats = stats
        self.max_url_length = max_url_length
        self.dns_timeout = dns_timeout
        self.host_guarded: dict[str, bool] = {}  # netloc -> whether a guarded request went there

    @classmethod
    def from_crawler(cls, crawler):
        from urllib.request import getproxies

        for scheme, proxy in getproxies().items():  # a proxy the operator configured may be on the local network
            if scheme != "no" and (host := url_host(proxy if "://" in proxy else f"http://{proxy}")):
                guard.vouch(host)
        settings = crawler.settings
        return cls(settings.getbool("WICNEWS_ALLOW_PRIVATE_ADDRESSES"), settings.getint("URLLENGTH_LIMIT"),
                   settings.getfloat("DNS_TIMEOUT") or 60.0, crawler.stats)

    def guarded(self, request) -> bool:
        """Whether ``request`` is held to public addresses (decided once, kept in its meta)."""
        flag = request.meta.get("wicnews_guarded")
        if flag is None:
            parts = urlsplit(request.url)
            source = request.cb_kwargs.get("source")
            if source is not None:
                flag = not is_private_host(url_host(source.url))
            elif request.meta.get("dont_obey_robotstxt") and parts.path == "/robots.txt":
                flag = self.host_guarded.get(parts.netloc, True)
            else:  # a URL the user asked for directly (wicnews extract URL)
                flag = False
            request.meta["wicnews_guarded"] = flag
        return bool(flag)

    async def process_request(self, request):
        try:
            await self._check(request)
        except PrivateAddressRefused as exc:
            if request.meta.get("dont_obey_robotstxt") and self.stats is not None:
                # Scrapy's robots.txt middleware swallows the refusal: count and log it here
                self.stats.inc_value(f"wicnews/errors/{ErrorKind.PRIVATE_ADDRESS}")
                logger.warning("error %s: %s <%s>", ErrorKind.PRIVATE_ADDRESS, exc, request.url)
            raise

    async def _check(self, request) -> None:
        problem = url_problem(request.url, self.max_url_length)
        if problem:
            raise BadUrl(problem)
        guarded = self.guarded(request)
        parts = urlsplit(request.url)
        host = parts.hostname or ""
        if not request.meta.get("dont_obey_robotstxt"):
            self.host_guarded[parts.netloc] = self.host_guarded.get(parts.netloc, False) or guarded
        if not guarded or self.allow_private:
            guard.vouch(host)
            return
        address = parse_address(host)
        if address is not None:
            if not urls.is_public_address(address):
                raise PrivateAddressRefused(f"private address refused: {host} is {address}")
            guard.pin(host, address)
            return
        if is_private_host(host):
            raise PrivateAddressRefused(f"private address refused: {host}")
        if host.lower().rstrip(".") in guard.PINS:
            return
        from twisted.internet import reactor

        lookup = deferToThread(guard.resolve_public, host, parts.port or (443 if parts.scheme == "https" else 80))
        lookup.addTimeout(self.dns_timeout, reactor)
        try:
            address = await maybe_deferred_to_future(lookup)
        except guard.PrivateAddress as exc:
            raise PrivateAddressRefused(f"private address refused: {exc}") from None
        except (OSError, UnicodeError) as exc:  # socket.gaierror: no such name
            raise DNSLookupError(f"{host}: {exc}") from None
        guard.pin(host, address)
        return

    def process_response(self, request, response):
        """A second look after connecting (should anything reach an address unchecked)."""
        address = getattr(response, "ip_address", None)
        if (address is not None and not self.allow_private and request.meta.get("wicnews_guarded")
                and not urls.is_public_address(address)):
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
    """Past ``REDIRECT_MAX_TIMES``, raise ``RedirectLoop`` (``redirect_loop``), not a bare IgnoreRequest;
    a redirect to a URL that cannot be requested (``http://host:99999/``) raises ``BadUrl``."""

    def process_response(self, request: Any, response: Any) -> Any:
        try:
            return super().process_response(request, response)  # type: ignore[misc]
        except ValueError as exc:
            raise BadUrl(f"redirect to a bad URL: {exc}") from None

    def _redirect(self, redirected: Any, request: Any, reason: Any) -> Any:
        try:
            return super()._redirect(redirected, request, reason)  # type: ignore[misc]
        except IgnoreRequest as exc:  # the only refusal there: max redirections reached
            raise RedirectLoop(str(exc)) from None


class RedirectMiddleware(_RedirectLoopMixin, redirect.RedirectMiddleware):  # type: ignore[misc]  # no spider argument
    """Scrapy's 3xx redirects; a redirect loop raises ``RedirectLoop``."""


class MetaRefreshMiddleware(_RedirectLoopMixin, redirect.MetaRefreshMiddleware):  # type: ignore[misc]  # no spider argument
    """Scrapy's ``<meta http-equiv=refresh>`` redirects; a redirect loop raises ``RedirectLoop``."""
