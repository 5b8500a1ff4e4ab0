"""Log lines for a cron log: items without their full text (an article item holds pages of
text and MinHash bands), network failures without Python tracebacks, and control characters
from pages and feeds (terminal escape sequences) escaped, never written raw."""

from __future__ import annotations

import logging
import re

from itemadapter import ItemAdapter
from scrapy import logformatter


class _OneLine(logging.Filter):
    """Keeps the message, drops the traceback: an unreachable host is not a bug."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


# bidirectional overrides and isolates too: they would reorder what the terminal shows
_CONTROLS = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class EscapeControls(logging.Filter):
    """Renders the message once and escapes its control characters (``\\x1b``); line
    breaks inside a message are kept (tracebacks, multi-line stats dumps)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _CONTROLS.search(message):
            record.msg = _CONTROLS.sub(lambda m: m[0].encode("unicode_escape").decode("ascii"), message)
            record.args = None
        return True


def escape_log_controls() -> None:
    """Install ``EscapeControls`` on the root logger's handlers (Scrapy's and the CLI's)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, EscapeControls) for f in handler.filters):
            handler.addFilter(EscapeControls())


# Scrapy logs a failed robots.txt download with its full traceback.
_ONE_LINE_LOGGERS = ("scrapy.downloadermiddlewares.robotstxt",)


def _summary(item) -> str:
    adapter = ItemAdapter(item)
    return f"{adapter.get('title')!r} <{adapter.get('canonical_url') or adapter.get('url')}>"


class LogFormatter(logformatter.LogFormatter):
    @classmethod
    def from_crawler(cls, crawler):
        escape_log_controls()
        for name in _ONE_LINE_LOGGERS:
            log = logging.getLogger(name)
            if not any(isinstance(f, _OneLine) for f in log.filters):
                log.addFilter(_OneLine())
        return super().from_crawler(crawler)

    def dropped(self, item, exception, response, spider):
        result = super().dropped(item, exception, response, spider)
        result["msg"] = "Dropped: %(exception)s"
        result["args"] = {"exception": exception}
        return result

    def scraped(self, item, response, spider):
        result = super().scraped(item, response, spider)
        result["msg"] = "Scraped from %(src)s: %(item)s"
        result["args"] = {**dict(result["args"]), "item": _summary(item)}
        return result
