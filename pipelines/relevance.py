"""Relevance pipeline: a thin Scrapy adapter over ``wicnews.relevance.judge``.

Sets ``relevant`` (True = the article is coverage of the topic), ``matched_terms`` and
``relevance`` (the verdict as JSON: score, level, explanation, entities). Counts
``wicnews/not_relevant`` for every article that is not coverage and ``wicnews/mentions`` for
those that only mention the topic. The profile is the bundled WIC topic unless the
``WICNEWS_TOPIC`` setting names a topic file. Every article is kept with its verdict.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from wicnews.relevance import judge as judge_article
from wicnews.topic import Topic, load_topic


def judge(title: str | None, text: str | None, topic: Topic | None = None) -> tuple[bool, list[str]]:
    """``(relevant, matched_terms)``: the old verdict, for callers not yet moved to
    ``wicnews.relevance.judge`` (which returns the full ``Relevance``)."""
    verdict = judge_article(title, text, topic)
    return verdict.relevant, verdict.matched_terms


def judge_fields(fields: MutableMapping[str, Any], topic: Topic) -> None:
    """Set an item's verdict fields in place (an ``ItemAdapter``, or ``vars(item)``), unless it
    was judged already (in an extraction worker, ``wicnews.articles.prepared_page``)."""
    if fields.get("relevance") is None:
        verdict = judge_article(fields.get("title"), fields.get("text"), topic)
        fields["relevant"], fields["matched_terms"] = verdict.relevant, verdict.matched_terms
        fields["relevance_level"], fields["relevance"] = verdict.level, verdict.to_json()


class RelevancePipeline:
    """Judges each article against a topic profile; see the module docstring."""

    def __init__(self, stats=None, topic: Topic | None = None):
        self.stats = stats
        self.topic = topic or load_topic()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(stats=crawler.stats, topic=load_topic(crawler.settings.get("WICNEWS_TOPIC")))

    def process_item(self, item):
        from itemadapter import ItemAdapter  # imports Scrapy: not at module level (the extraction workers)

        adapter = ItemAdapter(item)
        judge_fields(adapter, self.topic)
        if self.stats is not None and not adapter["relevant"]:
            self.stats.inc_value("wicnews/not_relevant")
            if adapter.get("relevance_level") == "mention":
                self.stats.inc_value("wicnews/mentions")
        return item
