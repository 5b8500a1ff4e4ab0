"""Downloader middlewares, exercised with real Scrapy requests and responses."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from wicnews.failures import classify
from wicnews.middlewares import PrivateAddressGuard, is_private_host
from wicnews.sources import Source
from wicnews.urls import parse_address, url_problem

PUBLIC = Source("public", "feed", "https://www.scmp.com/rss/4/feed")
LOCAL = Source("local", "feed", "http://127.0.0.1:8000/feeds/x.rss")


@pytest.mark.parametrize("host, private", [
    ("127.0.0.1", True), ("169.254.169.254", True), ("10.1.2.3", True), ("192.168.0.1", True), ("[::1]", True),
    ("localhost", True), ("intranet.local", True), ("metadata.google.internal", True),
    ("8.8.8.8", False), ("www.scmp.com", False), ("", False),
])
def test_is_private_host(host, private):
    assert is_private_host(host) is private


def guard(**settings):
    return PrivateAddressGuard.from_crawler(get_crawler(settings_dict={"URLLENGTH_LIMIT": 8192, **settings}))


def check(request, **settings):
    """The guard's decision on ``request`` (literal addresses need no resolver or reactor)."""
    return asyncio.run(guard(**settings).process_request(request))


def test_a_public_source_cannot_lead_into_private_addresses():
    request = Request("http://169.254.169.254/latest/meta-data/", cb_kwargs={"source": PUBLIC})
    with pytest.raises(IgnoreRequest) as info:
        check(request)
    assert classify(info.value) == "private_address"


@pytest.mark.parametrize("host", ["2130706433", "0x7f000001", "0177.0.0.1", "127.1", "0", "[::1]",
                                  "[::ffff:127.0.0.1]", "[fd00::1]", "224.0.0.1", "100.64.0.1", "localhost", "db.internal"])
def test_every_spelling_of_a_private_address_is_refused_before_download(host):
    with pytest.raises(IgnoreRequest) as info:
        check(Request(f"http://{host}:8080/x", cb_kwargs={"source": PUBLIC}))
    assert classify(info.value) == "private_address"


@pytest.mark.parametrize("host, address", [
    ("2130706433", "127.0.0.1"), ("0x7f000001", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"), ("127.1", "127.0.0.1"),
    ("0", "0.0.0.0"), ("[::1]", "::1"), ("134744072", "8.8.8.8"), ("www.scmp.com", None), ("1.2.3.4.5", None),
])
def test_address_spellings_are_normalised(host, address):
    parsed = parse_address(host)
    assert (str(parsed) if parsed else None) == address


def test_a_public_literal_address_is_let_through():
    assert check(Request("http://134744072/a", cb_kwargs={"source": PUBLIC})) is None


def test_a_response_from_a_private_address_is_refused_after_connecting():
    request = Request("http://news.example.com/a", cb_kwargs={"source": PUBLIC}, meta={"wicnews_guarded": True})
    response = HtmlResponse(request.url, body=b"<html></html>", request=request, ip_address=ipaddress.ip_address("10.0.0.5"))
    with pytest.raises(IgnoreRequest):
        guard().process_response(request, response)
    public = HtmlResponse(request.url, body=b"<html></html>", request=request, ip_address=ipaddress.ip_address("93.184.216.34"))
    assert guard().process_response(request, public) is public


def test_local_sources_and_their_robots_requests_are_not_guarded():
    mw = guard()
    assert asyncio.run(mw.process_request(Request("http://127.0.0.1:8000/a", cb_kwargs={"source": LOCAL}))) is None
    robots = Request("http://127.0.0.1:8000/robots.txt", meta={"dont_obey_robotstxt": True})
    assert asyncio.run(mw.process_request(robots)) is None
    assert robots.meta["wicnews_guarded"] is False


def test_a_robots_request_is_guarded_like_the_request_that_caused_it():
    mw = guard()
    with pytest.raises(IgnoreRequest):  # never seen: guarded
        asyncio.run(mw.process_request(Request("http://127.0.0.1:9/robots.txt", meta={"dont_obey_robotstxt": True})))
    redirected = Request("http://10.0.0.1/robots.txt", meta={"dont_obey_robotstxt": True, "wicnews_guarded": True})
    with pytest.raises(IgnoreRequest):  # a robots.txt redirect keeps the flag
        asyncio.run(mw.process_request(redirected))


@pytest.mark.parametrize("url, problem", [
    ("http://example.com:99999/a", "malformed"), ("http://[x/a", "malformed"), ("http://exa mple.com/", "host"),
    ("http://example.com:0/", "port 0"), ("http://" + "a" * 64 + ".com/", "bad host"),
    ("https://example.com/" + "a" * 9000, "longer than 8192"),
])
def test_bad_urls_are_counted_as_bad_url(url, problem):
    with pytest.raises(IgnoreRequest, match=problem) as info:
        check(_raw_request(url))
    assert classify(info.value) == "bad_url"


def _raw_request(url):
    request = Request("http://example.com/", cb_kwargs={"source": PUBLIC})
    request._url = url  # Scrapy would refuse to build it; a redirect or a middleware could still produce it
    return request


def test_a_long_legitimate_url_is_kept():
    url = "https://134744072/news/" + "a" * 2500
    assert url_problem(url) is None
    assert check(Request(url, cb_kwargs={"source": PUBLIC})) is None


def test_the_guard_can_be_turned_off():
    assert check(Request("http://169.254.169.254/", cb_kwargs={"source": PUBLIC}), WICNEWS_ALLOW_PRIVATE_ADDRESSES=True) is None


class _Receiver:
    def __init__(self):
        self.addresses, self.done = [], False

    def resolutionBegan(self, resolution):
        pass

    def addressResolved(self, address):
        self.addresses.append(address.host)

    def resolutionComplete(self):
        self.done = True


class _Original:
    """A system resolver that answers every name with loopback and a public address."""

    def __init__(self):
        self.asked = []

    def resolveHostName(self, receiver, name, port=0, types=None, semantics="TCP"):
        from twisted.internet.address import IPv4Address

        self.asked.append(name)
        receiver.resolutionBegan(None)
        for host in ("127.0.0.1", "93.184.216.34"):
            receiver.addressResolved(IPv4Address("TCP", host, port))
        receiver.resolutionComplete()


def _resolver(allow_private=False):
    from wicnews.guard import PinningResolver

    original = _Original()
    return PinningResolver(type("Reactor", (), {"nameResolver": original})(), allow_private), original


def test_the_resolver_answers_a_checked_name_with_the_checked_address_only(monkeypatch):
    from wicnews import guard

    monkeypatch.setattr(guard, "PINS", {"news.example.com": ipaddress.ip_address("93.184.216.34")})
    resolver, original = _resolver()
    receiver = _Receiver()
    resolver.resolveHostName(receiver, "News.Example.com.", 80)
    assert receiver.addresses == ["93.184.216.34"] and receiver.done and original.asked == []  # no second lookup


def test_the_resolver_drops_private_answers_unless_a_local_source_vouched(monkeypatch):
    from wicnews import guard

    monkeypatch.setattr(guard, "PINS", {})
    monkeypatch.setattr(guard, "VOUCHED", {"intranet.example"})
    resolver, _ = _resolver()
    unchecked, vouched = _Receiver(), _Receiver()
    resolver.resolveHostName(unchecked, "unchecked.example", 80)
    resolver.resolveHostName(vouched, "intranet.example", 80)
    assert unchecked.addresses == ["93.184.216.34"] and unchecked.done
    assert vouched.addresses == ["127.0.0.1", "93.184.216.34"]
    allowed, _ = _resolver(allow_private=True)
    everything = _Receiver()
    allowed.resolveHostName(everything, "unchecked.example", 80)
    assert everything.addresses == ["127.0.0.1", "93.184.216.34"]
