"""Name what went wrong with a request, as the ``ErrorKind`` counted in ``wicnews/errors/<kind>``."""

from __future__ import annotations

from scrapy import exceptions as scrapy_exc
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils._compression import _DecompressionMaxSizeExceeded
from twisted.internet import defer
from twisted.internet import error as net_error

from wicnews.errors import SKIPS, ErrorKind, http_kind

__all__ = ["SKIPS", "AlreadySeen", "BackedOff", "BadUrl", "NotModified", "PrivateAddressRefused", "RedirectLoop",
           "RobotsDenied", "Stopped", "Unchanged", "classify"]


class AlreadySeen(scrapy_exc.IgnoreRequest):
    """The article URL is already stored; not downloaded again."""


class RobotsDenied(scrapy_exc.IgnoreRequest):
    """robots.txt forbids the request (``wicnews.middlewares.RobotsTxtMiddleware``)."""


class RedirectLoop(scrapy_exc.IgnoreRequest):
    """More redirects than ``REDIRECT_MAX_TIMES`` (``wicnews.middlewares.RedirectMiddleware``)."""


class PrivateAddressRefused(scrapy_exc.IgnoreRequest):
    """A public source's link leads to a private address (``wicnews.middlewares.PrivateAddressGuard``)."""


class BadUrl(scrapy_exc.IgnoreRequest):
    """A URL that cannot be requested: too long, malformed, no usable host or port
    (``wicnews.middlewares.PrivateAddressGuard``)."""


class NotModified(scrapy_exc.IgnoreRequest):
    """A source answered 304 to a conditional GET (``wicnews.polling.SourcePolling``)."""


class Unchanged(scrapy_exc.IgnoreRequest):
    """A source answered 200 with the same body as at its last poll (``wicnews.polling``)."""


class Stopped(scrapy_exc.IgnoreRequest):
    """A queued download dropped because the crawl was stopped (SIGTERM/SIGINT)."""


class BackedOff(scrapy_exc.IgnoreRequest):
    """A failing source whose next poll time has not come (``wicnews.polling``)."""


# Checked in order, by type only: the first match names the failure.
_BY_TYPE: tuple[tuple[tuple[type[BaseException], ...], ErrorKind], ...] = (
    ((AlreadySeen,), ErrorKind.SEEN),
    ((RobotsDenied,), ErrorKind.ROBOTS),
    ((RedirectLoop,), ErrorKind.REDIRECT_LOOP),
    ((PrivateAddressRefused,), ErrorKind.PRIVATE_ADDRESS),
    ((BadUrl,), ErrorKind.BAD_URL),
    ((NotModified,), ErrorKind.NOT_MODIFIED),
    ((Unchanged,), ErrorKind.UNCHANGED),
    ((BackedOff,), ErrorKind.BACKOFF),
    ((Stopped,), ErrorKind.STOPPED),
    ((scrapy_exc.IgnoreRequest,), ErrorKind.IGNORED),
    ((scrapy_exc.DownloadCancelledError, defer.CancelledError), ErrorKind.TOO_LARGE),
    ((scrapy_exc.DownloadTimeoutError, net_error.TimeoutError, defer.TimeoutError), ErrorKind.TIMEOUT),
    ((scrapy_exc.CannotResolveHostError, net_error.DNSLookupError), ErrorKind.DNS),
    ((scrapy_exc.DownloadConnectionRefusedError, net_error.ConnectionRefusedError, net_error.ConnectError,
      net_error.ConnectionLost, scrapy_exc.ResponseDataLossError, scrapy_exc.DownloadFailedError), ErrorKind.CONNECTION),
    ((scrapy_exc.UnsupportedURLSchemeError,), ErrorKind.UNSUPPORTED_SCHEME),
)


def classify(exc: BaseException) -> str:
    """Kind of a download failure: ``http_<status>`` for an HTTP error status, else an
    ``ErrorKind`` chosen by the exception's type (``ErrorKind.OTHER`` when none fits)."""
    if isinstance(exc, HttpError):
        return http_kind(exc.response.status)
    if isinstance(exc, scrapy_exc.IgnoreRequest) and isinstance(exc.__cause__, _DecompressionMaxSizeExceeded):
        return ErrorKind.TOO_LARGE  # HttpCompressionMiddleware: a Content-Encoding bomb
    for types, kind in _BY_TYPE:
        if isinstance(exc, types):
            return kind
    return ErrorKind.OTHER
