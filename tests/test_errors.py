"""The error vocabulary: ``ErrorKind`` is what the README documents, and failures are named
by their type, never by their message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.robotstxt import ProtegoRobotParser
from scrapy.utils.test import get_crawler

from wicnews.errors import SKIPS, ErrorKind, PageError, http_kind
from wicnews.failures import AlreadySeen, BadUrl, PrivateAddressRefused, RedirectLoop, RobotsDenied, classify
from wicnews.middlewares import (
    MetaRefreshMiddleware,
    RedirectMiddleware,
    RobotsTxtMiddleware,
)

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_kinds() -> list[str]:
    """The kinds in the first column of the README's ``| kind | cause |`` table."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index("| kind | cause |")
    kinds = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        kinds += re.findall(r"`([^`]+)`", line.split("|")[1])
    return kinds


def test_the_readme_table_lists_exactly_the_error_kinds():
    documented = readme_kinds()
    assert len(documented) == len(set(documented)), "a kind is listed twice"
    assert set(documented) == {k.value for k in ErrorKind}


def test_http_kinds():
    assert http_kind(404) == "http_404"
    assert ErrorKind.HTTP == "http_<status>"


def test_page_errors_take_a_known_kind():
    assert PageError(ErrorKind.NO_TEXT, "x").kind is ErrorKind.NO_TEXT
    assert PageError("no_text", "x").kind is ErrorKind.NO_TEXT  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        PageError("no_such_kind", "x")  # type: ignore[arg-type]


def test_skips_are_kinds():
    assert {ErrorKind.SEEN, ErrorKind.ROBOTS, ErrorKind.REQUESTED_TWICE, ErrorKind.TOO_OLD,
                     ErrorKind.CANONICAL_UNTRUSTED, ErrorKind.NOT_MODIFIED, ErrorKind.UNCHANGED, ErrorKind.BACKOFF,
                     ErrorKind.STOPPED} == SKIPS


def _decompression_bomb():
    """What HttpCompressionMiddleware raises past DOWNLOAD_MAXSIZE while decompressing."""
    from scrapy.utils._compression import _DecompressionMaxSizeExceeded

    try:
        raise IgnoreRequest("Ignored response: exceeded DOWNLOAD_MAXSIZE during decompression") from \
            _DecompressionMaxSizeExceeded(2_000_000, 1_000_000)
    except IgnoreRequest as exc:
        return exc


@pytest.mark.parametrize("exc, kind", [
    (AlreadySeen("stored"), "seen"),
    (RobotsDenied("x"), "robots"),
    (RedirectLoop("x"), "redirect_loop"),
    (PrivateAddressRefused("x"), "private_address"),
    (BadUrl("x"), "bad_url"),
    (_decompression_bomb(), "too_large"),
    (IgnoreRequest("Forbidden by robots.txt"), "ignored"),     # the message does not count
    (IgnoreRequest("max redirections reached"), "ignored"),
    (IgnoreRequest("private address refused"), "ignored"),
    (KeyError("x"), "other"),
])
def test_classify_by_type(exc, kind):
    assert classify(exc) == kind


def test_robots_txt_refusal_raises_robots_denied():
    crawler = get_crawler(settings_dict={"ROBOTSTXT_OBEY": True})
    mw = RobotsTxtMiddleware.from_crawler(crawler)
    parser = ProtegoRobotParser.from_crawler(crawler, b"User-agent: *\nDisallow: /private/\n")
    mw.process_request_2(parser, Request("http://e.com/public/a"))
    with pytest.raises(RobotsDenied) as info:
        mw.process_request_2(parser, Request("http://e.com/private/a"))
    assert classify(info.value) == "robots"


@pytest.mark.parametrize("middleware", [RedirectMiddleware, MetaRefreshMiddleware])
def test_a_redirect_loop_raises_redirect_loop(middleware):
    crawler = get_crawler(settings_dict={"REDIRECT_MAX_TIMES": 2})
    mw = middleware.from_crawler(crawler)
    request = Request("http://e.com/a")
    for _ in range(2):
        request = mw._redirect(request.replace(url="http://e.com/a"), request, 302)
    with pytest.raises(RedirectLoop) as info:
        mw._redirect(request.replace(url="http://e.com/a"), request, 302)
    assert classify(info.value) == "redirect_loop"


def test_redirect_middleware_end_to_end_with_responses():
    crawler = get_crawler(settings_dict={"REDIRECT_MAX_TIMES": 1})
    mw = RedirectMiddleware.from_crawler(crawler)
    request = Request("http://e.com/a")
    loop = Response("http://e.com/a", status=302, headers={"Location": "/a"}, request=request)
    request = mw.process_response(request, loop)
    assert isinstance(request, Request) and request.meta["redirect_times"] == 1
    with pytest.raises(RedirectLoop):
        mw.process_response(request, Response("http://e.com/a", status=302, headers={"Location": "/a"}, request=request))


def test_the_settings_use_these_middlewares():
    from wicnews import settings

    mws = settings.DOWNLOADER_MIDDLEWARES
    for name, order in (("robotstxt.RobotsTxtMiddleware", 100), ("redirect.MetaRefreshMiddleware", 580),
                        ("redirect.RedirectMiddleware", 600)):
        assert mws[f"scrapy.downloadermiddlewares.{name}"] is None
        assert mws[f"wicnews.middlewares.{name.split('.')[1]}"] == order
