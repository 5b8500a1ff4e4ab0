"""Log lines for items without their full text: an article item holds pages of text and
MinHash bands that would flood a cron log."""

from __future__ import annotations

from itemadapter import ItemAdapter
from scrapy import logformatter


def _summary(item) -> str:
    adapter = ItemAdapter(item)
    return f"{adapter.get('title')!r} <{adapter.get('canonical_url') or adapter.get('url')}>"


class LogFormatter(logformatter.LogFormatter):
    def dropped(self, item, exception, response, spider):
        result = super().dropped(item, exception, response, spider)
        result["msg"] = "Dropped: %(exception)s"
        result["args"] = {"exception": exception}
        return result

    def scraped(self, item, response, spider):
        result = super().scraped(item, response, spider)
        result["msg"] = "Scraped from %(src)s: %(item)s"
        result["args"] = {**result["args"], "item": _summary(item)}
        return result
