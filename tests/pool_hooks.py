"""Extraction functions for the pool tests (``WICNEWS_EXTRACT_FUNCTION=pool_hooks:extract``):
the real extractor, except on marker pages, where they hang or kill their worker."""

from __future__ import annotations

import os
import signal
import time

from wicnews.errors import ErrorKind, PageError
from wicnews.extract import extract_article

HANG = b"<!-- wicnews-test: hang the extractor -->"
CRASH = b"<!-- wicnews-test: kill the worker -->"
RAISE = b"<!-- wicnews-test: raise -->"
KILL_CRAWL = b"<!-- wicnews-test: kill the crawl -->"


def _crawl_pid() -> int:
    """The crawl process: the parent of the forkserver this worker was forked from."""
    server = os.getppid()
    with open(f"/proc/{server}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


def extract(body: bytes, url: str, headers: dict, **options):
    if HANG in body:
        while True:  # a pathological page: never returns
            time.sleep(60)
    if CRASH in body:
        os._exit(7)  # as a segfault in a C extension would: no exception, no answer
    if KILL_CRAWL in body:  # as a power cut or the OOM killer would: no time to close anything
        os.kill(_crawl_pid(), signal.SIGKILL)
        time.sleep(60)
    if RAISE in body:
        raise ZeroDivisionError("a bug in extraction")
    return extract_article(body, url, headers, **options)


def reject(body: bytes, url: str, headers: dict, **options):
    raise PageError(ErrorKind.NO_TEXT, "nothing here")


def frameworks_loaded(body: bytes, url: str, headers: dict, **options) -> list[str]:
    """The crawl's worker function on the page, then which of the crawl process's own
    frameworks the worker process has loaded (none: they would slow every worker's start)."""
    import sys

    from wicnews.articles import crawled_page

    crawled_page(body, url, headers, **options)
    return sorted({m.split(".")[0] for m in sys.modules} & {"scrapy", "twisted", "itemadapter", "sqlalchemy"})
