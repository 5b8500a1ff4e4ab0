"""Imported by the extraction pool's forkserver (``wicnews.pool``): the crawl's pure steps on a small
page once, so that what trafilatura, the language identifier and the topic profile load on first use (about two
seconds) is loaded once and shared by every worker forked from it, replacements included.
Importing this module has that side effect and no other."""

from __future__ import annotations

_PARAGRAPH = ("<p>The World Internet Conference opened in Wuzhen on Tuesday, where delegates from dozens of "
              "countries discussed digital cooperation, data governance and artificial intelligence.</p>")
PAGE = ("<html lang='en'><head><title>Warm-up</title><meta property='article:published_time' "
        "content='2024-11-20T09:00:00+08:00'></head><body><article><h1>Warm-up</h1>" + _PARAGRAPH * 6 +
        "<p>世界互联网大会乌镇峰会开幕，来自多个国家的代表讨论数字合作。</p></article></body></html>").encode()


def warm_up() -> None:
    try:
        from wicnews.articles import prepared_page

        prepared_page(PAGE, "http://127.0.0.1/warm-up.html", {"content-type": "text/html; charset=utf-8"})
    except Exception:  # a warm-up only: the real pages report their own errors
        pass


warm_up()
