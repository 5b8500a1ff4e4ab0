"""Name what went wrong with a request, as the short kind used in ``wicnews/errors/<kind>``."""

from __future__ import annotations

import re

from scrapy import exceptions as scrapy_exc
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import defer
from twisted.internet import error as net_error


class AlreadySeen(scrapy_exc.IgnoreRequest):
    """The article URL is already stored; not downloaded again."""


# Outcomes that are decisions, not errors: counted under wicnews/skipped/<kind>.
SKIPS = {"seen", "robots", "requested_twice", "too_old"}


def classify(exc: BaseException) -> str:
    """Kind of a download failure: ``http_404``, ``redirect_loop``, ``too_large``,
    ``timeout``, ``dns``, ``connection``, ``robots``, ``seen``, or a slug of the exception."""
    if isinstance(exc, AlreadySeen):
        return "seen"
    if isinstance(exc, HttpError):
        return f"http_{exc.response.status}"
    if isinstance(exc, scrapy_exc.IgnoreRequest):
        message = str(exc).lower()
        if "robots.txt" in message:
            return "robots"
        if "redirect" in message:
            return "redirect_loop"
        if "private address" in message:
            return "private_address"
        return "ignored"
    if isinstance(exc, (scrapy_exc.DownloadCancelledError, defer.CancelledError)):
        return "too_large"
    if isinstance(exc, (scrapy_exc.DownloadTimeoutError, net_error.TimeoutError, defer.TimeoutError)):
        return "timeout"
    if isinstance(exc, (scrapy_exc.CannotResolveHostError, net_error.DNSLookupError)):
        return "dns"
    if isinstance(exc, (scrapy_exc.DownloadConnectionRefusedError, net_error.ConnectionRefusedError,
                        net_error.ConnectError, net_error.ConnectionLost, scrapy_exc.ResponseDataLossError,
                        scrapy_exc.DownloadFailedError)):
        return "connection"
    if isinstance(exc, scrapy_exc.UnsupportedURLSchemeError):
        return "unsupported_scheme"
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()
