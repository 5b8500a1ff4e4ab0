"""Store articles; the database's unique constraints decide what is new.

``INSERT ... ON CONFLICT DO NOTHING`` on the canonical-URL key and the text key: a conflict
means the article is already stored (this run, an earlier one, or another process). A new
text that shares an LSH band with a stored one that it resembles at least
``WICNEWS_NEAR_DUP_THRESHOLD`` (``wicnews.pipelines.dedupe.resemblance``) is a
near-duplicate of it. Either way the URL it
came under is recorded as one more URL of that article. Counts ``wicnews/articles_new``,
``wicnews/duplicates`` (of which ``wicnews/near_duplicates``), ``wicnews/revised`` (a
stored article's page, fetched again, changed: a new revision) and
``wicnews/errors/store_failed``.
"""

from __future__ import annotations

import functools
import logging

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from wicnews.crawldb import crawl_engine
from wicnews.db.articles import StorePolicy, store_article, store_stub
from wicnews.db.engine import reason
from wicnews.db.raw import keep_raw_page
from wicnews.errors import ErrorKind
from wicnews.models import PAGE_FIELDS, utcnow
from wicnews.pipelines.dedupe import fingerprint, resemblance
from wicnews.urls import canonicalize_url, url_key

logger = logging.getLogger(__name__)

def article_row(adapter: ItemAdapter, run_id: int | None) -> dict:
    """The ``articles`` row of a normalised, judged, keyed item."""
    row = {name: adapter.get(name) for name in PAGE_FIELDS}
    row["editors"] = row.get("editors") or []
    row.update(first_seen_at=utcnow(), run_id=run_id, relevant=bool(row["relevant"]),
               text_status=row.get("text_status") or "full")
    return row


class StorePipeline:
    """Writes each article once; duplicates are dropped after their URL is recorded."""

    def __init__(self, engine, policy: StorePolicy, stats=None, keep_raw: bool = True):
        self.engine = engine
        self.policy = policy
        self.stats = stats
        self.keep_raw = keep_raw

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        policy = StorePolicy(near_dup_threshold=s.getfloat("WICNEWS_NEAR_DUP_THRESHOLD"),
                             canonical_min_similarity=s.getfloat("WICNEWS_CANONICAL_MIN_SIMILARITY"),
                             max_candidates=s.getint("WICNEWS_NEAR_DUP_CANDIDATES"))
        return cls(crawl_engine(crawler), policy, crawler.stats, keep_raw=s.getbool("WICNEWS_KEEP_RAW_PAGES"))

    def process_item(self, item):
        adapter = ItemAdapter(item)
        run_id = self.stats.get_value("wicnews/run_id") if self.stats else None
        row = article_row(adapter, run_id)
        fetched = {canonicalize_url(u) for u in (adapter["url"], adapter.get("requested_url"), *adapter.get("via", ())) if u}
        hints = {url_key(canonicalize_url(u)): "amp" for u in adapter.get("via", ()) if u}
        if adapter.get("requested_url") and canonicalize_url(adapter["requested_url"]) != canonicalize_url(adapter["url"]):
            hints.setdefault(url_key(canonicalize_url(adapter["requested_url"])), "alias")  # redirected from
        mine = functools.cache(lambda: fingerprint(row["text"]))  # only when a candidate turns up
        urls = {url_key(u): u for u in sorted(fetched)}
        try:
            with Session(self.engine) as session, session.begin():
                if row["text_status"] == "stub":
                    article_id, outcome = store_stub(session, row, urls)
                else:
                    article_id, outcome = store_article(
                        session, row, urls, bands=adapter.get("bands") or (),
                        score=lambda text: resemblance(mine(), fingerprint(text)), policy=self.policy, hints=hints)
                raw = adapter.get("raw")
                if self.keep_raw and raw and article_id is not None:  # every fetch, copies included
                    keep_raw_page(session, article_id, raw["url"], raw["headers"], raw["body"])
        except SQLAlchemyError as exc:
            self._inc(f"wicnews/errors/{ErrorKind.STORE_FAILED}")
            raise DropItem(f"could not store <{adapter['url']}>: {reason(exc)}", log_level="ERROR") from exc
        if outcome == "canonical_ignored":
            self._inc("wicnews/canonical_ignored")
            logger.warning("<%s> names <%s> as canonical, an article with another text: stored under its own URL",
                           adapter["url"], row["canonical_url"])
        elif outcome == "upgraded":
            self._inc("wicnews/stubs_upgraded")
            logger.info("article #%d: stub upgraded to the full article: %s <%s>", article_id, row["title"],
                        row["canonical_url"])
        elif outcome == "revised":
            self._inc("wicnews/revised")
            logger.info("article #%d changed: new revision stored from <%s>", article_id, adapter["url"])
            return item
        elif outcome != "new":
            self._inc("wicnews/duplicates")
            if outcome == "near_duplicate":
                self._inc("wicnews/near_duplicates")
            raise DropItem(f"{outcome.replace('_', '-')} of article #{article_id}: <{adapter['url']}>", log_level="INFO")
        self._inc("wicnews/articles_new")
        if row["text_status"] == "stub":
            self._inc("wicnews/stubs")
        logger.info("stored %s #%d%s: %s <%s>", "stub" if row["text_status"] == "stub" else "article", article_id,
                    "" if row["relevant"] else " (not relevant)", row["title"], row["canonical_url"])
        return item

    def _inc(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(key)
