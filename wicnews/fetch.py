"""Fetch one page the way the crawler fetches it, for ``wicnews extract URL``: through Scrapy,
with robots.txt, the download size and decompression limits, the timeout and the user agent
of the crawl. One process, one fetch (a Twisted reactor cannot be restarted)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wicnews.errors import ConfigError, PageError
from wicnews.urls import check_url


def fetch_page(url: str, overrides: Iterable[str] = ()) -> tuple[bytes, dict[str, str], str]:
    """``(body, lower-case headers, final URL)`` of ``url``; ``PageError`` with the kind the
    crawl would count when it cannot be had. ``overrides``: ``NAME=VALUE`` settings (``-s``)."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    from wicnews.config import build_settings
    from wicnews.failures import classify

    check_url(url)
    settings = build_settings()
    settings.setdict({"LOG_LEVEL": "ERROR", "WICNEWS_SKIP_SEEN": False, "RETRY_TIMES": 0,
                      "EXTENSIONS": {**settings.getdict("EXTENSIONS"), "wicnews.runlog.RunLog": None},
                      "ITEM_PIPELINES": {}}, priority="cmdline")
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

    process = CrawlerProcess(settings, install_root_handler=False)
    process.crawl(OnePage)
    process.start()
    if "page" in outcome:
        return outcome["page"]
    error = outcome.get("error")
    if error is None:
        raise ConfigError(f"cannot fetch {url}: nothing was downloaded (see the log above)")
    raise PageError(classify(error), f"cannot fetch {url}: {error or type(error).__name__}")
