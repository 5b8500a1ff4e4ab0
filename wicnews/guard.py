"""Keep the crawler out of the machine's own network, before any connection is made.

A feed, sitemap or page on the public web must not steer the crawler to loopback, a
private network, link-local addresses (cloud metadata at 169.254.169.254), unique-local,
multicast or unspecified addresses. Two parts:

- ``wicnews.urls.parse_address`` / ``resolve_public``: the address of a request's host,
  judged before the request is sent. Literal addresses are read in every spelling the C
  library accepts (``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``127.1``, ``0``,
  IPv4-mapped IPv6); names are resolved once, every answer must be public, and the checked
  address is pinned.
- ``PinningResolver``: the crawl's name resolver (``TWISTED_DNS_RESOLVER``). A pinned name
  is answered with the address that was checked, so the connection goes where the check
  looked (no second lookup: DNS rebinding). Any other name (one no guarded request has
  asked for) gets only public answers unless a request from a local source vouched for it.

The middleware that applies this per request is ``wicnews.middlewares.PrivateAddressGuard``.
One process runs one crawl (a Twisted reactor cannot be restarted), so the pins and the
names vouched for live in this module, like Scrapy's own DNS cache.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import IHostnameResolver, IHostResolution, IResolutionReceiver
from zope.interface import implementer, provider

from wicnews import urls
from wicnews.urls import IPAddress

# name -> the address that was checked; names a local source's requests may resolve freely
PINS: dict[str, IPAddress] = {}
VOUCHED: set[str] = set()


class PrivateAddress(Exception):
    """The host is, or resolves to, an address that is not public."""


def resolve_public(host: str, port: int) -> IPAddress:
    """Resolve ``host`` (blocking: run it in a thread) and return its first public address;
    ``PrivateAddress`` when any answer is not public, ``socket.gaierror`` when none."""
    answers = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in answers]
    if not addresses:
        raise socket.gaierror(f"no address for {host}")
    bad = [a for a in addresses if not urls.is_public_address(a)]
    if bad:
        raise PrivateAddress(f"{host} resolves to {bad[0]}")
    return addresses[0]


def pin(host: str, address: IPAddress) -> None:
    PINS[host.lower().rstrip(".")] = address


def vouch(host: str) -> None:
    """A request from a local source may resolve ``host`` to any address."""
    VOUCHED.add(host.lower().rstrip("."))


def _twisted_address(address: Any, port: int) -> IPv4Address | IPv6Address:
    if isinstance(address, ipaddress.IPv6Address):
        return IPv6Address("TCP", str(address), port)
    return IPv4Address("TCP", str(address), port)


@implementer(IHostResolution)
class _Resolution:
    def __init__(self, name: str):
        self.name = name

    def cancel(self) -> None:  # pragma: no cover - nothing to cancel: the answer is immediate
        pass


@provider(IResolutionReceiver)
class _PublicOnly:
    """Passes on the public answers of a lookup only (the others are dropped and logged)."""

    def __init__(self, receiver: Any, name: str):
        self.receiver, self.name = receiver, name
        self.dropped: list[Any] = []

    def resolutionBegan(self, resolution: Any) -> None:
        self.receiver.resolutionBegan(resolution)

    def addressResolved(self, address: Any) -> None:
        try:
            ip = ipaddress.ip_address(str(address.host).split("%")[0])
        except ValueError:
            return
        if urls.is_public_address(ip):
            self.receiver.addressResolved(address)
        else:
            self.dropped.append(ip)

    def resolutionComplete(self) -> None:
        self.receiver.resolutionComplete()


@implementer(IHostnameResolver)
class PinningResolver:
    """The crawl's name resolver: pinned names get the checked address; other names get
    their public answers only, unless a local source vouched for them or
    ``WICNEWS_ALLOW_PRIVATE_ADDRESSES`` is on. Installed by ``TWISTED_DNS_RESOLVER``."""

    def __init__(self, reactor: Any, allow_private: bool = False):
        self.reactor = reactor
        self.original = reactor.nameResolver
        self.allow_private = allow_private

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> PinningResolver:
        return cls(reactor, crawler.settings.getbool("WICNEWS_ALLOW_PRIVATE_ADDRESSES"))

    def install_on_reactor(self) -> None:
        self.reactor.installNameResolver(self)

    def resolveHostName(self, resolutionReceiver: Any, hostName: str, portNumber: int = 0,
                        addressTypes: Any = None, transportSemantics: str = "TCP") -> Any:
        name = hostName.lower().rstrip(".")
        pinned = PINS.get(name)
        if pinned is not None:
            resolution = _Resolution(hostName)
            resolutionReceiver.resolutionBegan(resolution)
            resolutionReceiver.addressResolved(_twisted_address(pinned, portNumber))
            resolutionReceiver.resolutionComplete()
            return resolution
        if not self.allow_private and name not in VOUCHED:
            resolutionReceiver = _PublicOnly(resolutionReceiver, hostName)
        return self.original.resolveHostName(resolutionReceiver, hostName, portNumber, addressTypes, transportSemantics)
