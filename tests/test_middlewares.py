"""Downloader middlewares, exercised with real Scrapy requests and responses."""

from __future__ import annotations

import ipaddress

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from wicnews.failures import classify
from wicnews.middlewares import PrivateAddressGuard, is_private_host
from wicnews.sources import Source

PUBLIC = Source("public", "feed", "https://www.scmp.com/rss/4/feed")
LOCAL = Source("local", "feed", "http://127.0.0.1:8000/feeds/x.rss")


@pytest.mark.parametrize("host, private", [
    ("127.0.0.1", True), ("169.254.169.254", True), ("10.1.2.3", True), ("192.168.0.1", True), ("[::1]", True),
    ("localhost", True), ("intranet.local", True), ("metadata.google.internal", True),
    ("8.8.8.8", False), ("www.scmp.com", False), ("", False),
])
def test_is_private_host(host, private):
    assert is_private_host(host) is private


def guard():
    return PrivateAddressGuard.from_crawler(get_crawler(settings_dict={}))


def test_a_public_source_cannot_lead_into_private_addresses():
    request = Request("http://169.254.169.254/latest/meta-data/", cb_kwargs={"source": PUBLIC})
    with pytest.raises(IgnoreRequest) as info:
        guard().process_request(request)
    assert classify(info.value) == "private_address"


def test_a_name_that_resolves_privately_is_refused_after_connecting():
    request = Request("http://news.example.com/a", cb_kwargs={"source": PUBLIC})
    assert guard().process_request(request) is None
    response = HtmlResponse(request.url, body=b"<html></html>", request=request, ip_address=ipaddress.ip_address("10.0.0.5"))
    with pytest.raises(IgnoreRequest):
        guard().process_response(request, response)
    public = HtmlResponse(request.url, body=b"<html></html>", request=request, ip_address=ipaddress.ip_address("93.184.216.34"))
    assert guard().process_response(request, public) is public


def test_local_sources_and_robots_requests_are_not_guarded():
    assert guard().process_request(Request("http://127.0.0.1:8000/a", cb_kwargs={"source": LOCAL})) is None
    assert guard().process_request(Request("http://127.0.0.1:8000/robots.txt")) is None


def test_the_guard_can_be_turned_off():
    with pytest.raises(NotConfigured):
        PrivateAddressGuard.from_crawler(get_crawler(settings_dict={"WICNEWS_ALLOW_PRIVATE_ADDRESSES": True}))
