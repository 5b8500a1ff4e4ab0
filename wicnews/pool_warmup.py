"""Imported by the extraction pool's forkserver (``wicnews.pool``): the crawl's pure steps on a small
page once, so that what trafilatura, the language identifier and the topic profile load on first use (about two
seconds) is loaded once and shared by every worker forked from it, replacements included.
Importing this module has that side effect, then freezes what is loaded (``freeze``), and nothing else."""

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
        # what only some pages reach, loaded once here rather than in every worker: the full
        # pass's jusText stop lists and dateparser's locales and zone names (htmldate's
        # extensive search, on a page that declares no date)
        import dateparser
        from trafilatura.external import jt_stoplist_init

        jt_stoplist_init()
        dateparser.parse("Thursday, 10 November 2022 10:05 CST")
    except Exception:  # a warm-up only: the real pages report their own errors
        pass


def freeze() -> None:
    """Everything loaded so far (modules, compiled patterns, the topic, stop lists) moves to the
    collector's permanent generation: a worker forked from here never traces those objects
    again, so its collections stay small and do not write to (and so copy) the memory pages
    it shares with the server."""
    import gc

    gc.collect()
    gc.freeze()


warm_up()
freeze()
