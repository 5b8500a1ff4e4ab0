"""Fetch one page the way the crawler fetches it, for ``wicnews extract URL``: through Scrapy,
with robots.txt, the download size and decompression limits, the timeout and the user agent
of the crawl. One process, one fetch (a Twisted reactor cannot be restarted)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wicnews.errors import ConfigError, PageError
from wicnews.urls import check_url, url_problem


def quiet_fetch_settings(settings: Any) -> None:
    """For the one-off fetches (``extract URL``, ``sources check``): no run log, no store, no
    skip-seen middleware (not even its "disabled" warning), and Scrapy's log only through the
    supported settings (``LOG_INSTALL_ROOT_HANDLER``), never a deprecated argument."""
    settings.setdict({"WICNEWS_SKIP_SEEN": False, "ITEM_PIPELINES": {}, "LOG_INSTALL_ROOT_HANDLER": True,
                      "EXTENSIONS": {**settings.getdict("EXTENSIONS"), "wicnews.runlog.RunLog": None},
                      "DOWNLOADER_MIDDLEWARES": {**settings.getdict("DOWNLOADER_MIDDLEWARES"),
                                                 "wicnews.middlewares.SkipSeenMiddleware": None}},
                     priority="cmdline")


def fetch_page(url: str, overrides: Iterable[str] = ()) -> tuple[bytes, dict[str, str], str]:
    """``(body, lower-case headers, final URL)`` of ``url``; ``PageError`` with the kind the
    crawl would count when it cannot be had. ``overrides``: ``NAME=VALUE`` settings (``-s``)."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    from wicnews.config import build_settings
    from wicnews.failures import classify

    check_url(url)
    if problem := url_problem(url):
        raise ConfigError(f"cannot fetch {url}: {problem}")
    settings = build_settings()
    quiet_fetch_settings(settings)
    # the outcome is reported by the caller in one line: Scrapy itself says nothing
    settings.setdict({"LOG_ENABLED": False, "RETRY_TIMES": 0}, priority="cmdline")
    for name, value in build_settings(overrides=overrides).copy_to_dict().items():
        if name in {item.split("=", 1)[0].strip() for item in overrides}:
            settings.set(name, value, priority="cmdline")
    outcome: dict[str, Any] = {}

    class OnePage(scrapy.Spider):
        name = "fetch"

        async def start(self):
            yield scrapy.Request(url, callback=self.got, errback=self.failed, dont_filter=True)

        def got(self, response):
            outcome["page"] = (response.body, {k.decode("latin-1").lower(): b", ".join(v).decode("latin-1")
                                               for k, v in response.headers.items()}, response.url)

        def failed(self, failure):
            outcome["error"] = failure.value

    process = CrawlerProcess(settings)
    process.crawl(OnePage)
    process.start()
    if "page" in outcome:
        return outcome["page"]
    error = outcome.get("error")
    if error is None:
        raise ConfigError(f"cannot fetch {url}: nothing was downloaded")
    raise PageError(classify(error), f"cannot fetch {url}: {error or type(error).__name__}")
