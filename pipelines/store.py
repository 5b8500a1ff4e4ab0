"""Store articles; the database's unique constraints decide what is new.

``INSERT ... ON CONFLICT DO NOTHING`` on the canonical-URL key and the text key: a conflict
means the article is already stored (this run, an earlier one, or another process). A new
text that shares an LSH band with a stored one that it resembles at least
``WICNEWS_NEAR_DUP_THRESHOLD`` (``wicnews.pipelines.dedupe.resemblance``) is a
near-duplicate of it. Either way the URL it
came under is recorded as one more URL of that article. Counts ``wicnews/articles_new``,
``wicnews/duplicates`` (of which ``wicnews/near_duplicates``) and
``wicnews/errors/store_failed``.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from typing import Any

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem
from scrapy.utils.defer import maybe_deferred_to_future
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

from wicnews.crawldb import crawl_engine
from wicnews.db.articles import StorePolicy, lock_bands, store_article, store_stub
from wicnews.db.engine import reason
from wicnews.db.raw import keep_raw_page
from wicnews.errors import ErrorKind
from wicnews.models import PAGE_FIELDS, utcnow
from wicnews.pipelines.dedupe import fingerprint, resemblance
from wicnews.urls import canonicalize_url, url_key


class StoreFailed(DropItem):
    """The database refused or could not take the item (nothing of it stored): a resumed
    crawl or backfill must try it again."""


logger = logging.getLogger(__name__)

FINGERPRINTS_KEPT = 64


def article_row(adapter: ItemAdapter, run_id: int | None) -> dict:
    """The ``articles`` row of a normalised, judged, keyed item."""
    row = {name: adapter.get(name) for name in PAGE_FIELDS}
    row["editors"] = row.get("editors") or []
    row.update(first_seen_at=utcnow(), run_id=run_id, relevant=bool(row["relevant"]),
               text_status=row.get("text_status") or "full")
    return row


class StorePipeline:
    """Writes each article once; duplicates are dropped after their URL is recorded.

    The writes run off the reactor thread (``deferToThread``), one batch at a time and in
    one transaction per batch: items that arrive while a batch is being written make up
    the next one (at most ``WICNEWS_STORE_BATCH``). A row the database refuses costs only
    its item (the batch is then written again, each item in a savepoint of its own); a
    crash loses at most the batch being written, and a rerun stores it again (``INSERT ...
    ON CONFLICT``: idempotent). One writer at a time, so near-duplicate checks see every
    earlier article of the crawl.
    """

    def __init__(self, engine, policy: StorePolicy, stats=None, batch_size: int = 50, keep_raw: bool = True):
        self.engine = engine
        self.policy = policy
        self.stats = stats
        self.keep_raw = keep_raw
        self.batch_size = max(1, batch_size)
        self._pending: list[tuple[Any, dict, dict, Deferred]] = []
        self._busy = False
        # Fingerprints of recent texts (a new text is a candidate of the copies that follow it
        # in the crawl): the near-duplicate check compares fingerprints, not texts.
        self._fingerprint = functools.lru_cache(maxsize=FINGERPRINTS_KEPT)(fingerprint)

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        policy = StorePolicy(near_dup_threshold=s.getfloat("WICNEWS_NEAR_DUP_THRESHOLD"),
                             canonical_min_similarity=s.getfloat("WICNEWS_CANONICAL_MIN_SIMILARITY"),
                             max_candidates=s.getint("WICNEWS_NEAR_DUP_CANDIDATES"))
        return cls(crawl_engine(crawler), policy, crawler.stats, s.getint("WICNEWS_STORE_BATCH"),
                   keep_raw=s.getbool("WICNEWS_KEEP_RAW_PAGES"))

    async def process_item(self, item):
        adapter = ItemAdapter(item)
        run_id = self.stats.get_value("wicnews/run_id") if self.stats else None
        row = article_row(adapter, run_id)
        fetched = {canonicalize_url(u) for u in (adapter["url"], adapter.get("requested_url"), *adapter.get("via", ())) if u}
        urls = {url_key(u): u for u in sorted(fetched)}
        hints = {url_key(canonicalize_url(u)): "amp" for u in adapter.get("via", ()) if u}
        if adapter.get("requested_url") and canonicalize_url(adapter["requested_url"]) != canonicalize_url(adapter["url"]):
            hints.setdefault(url_key(canonicalize_url(adapter["requested_url"])), "alias")  # redirected from
        row["_hints"] = hints
        done: Deferred = Deferred()
        self._pending.append((item, row, urls, done))
        self._next_batch()
        return await maybe_deferred_to_future(done)

    def _next_batch(self) -> None:
        if self._busy or not self._pending:
            return
        batch, self._pending = self._pending[:self.batch_size], self._pending[self.batch_size:]
        self._busy = True
        written = deferToThread(self._write, [(row, urls, ItemAdapter(item).get("bands") or (), ItemAdapter(item).get("raw"))
                                              for item, row, urls, _ in batch])
        written.addBoth(self._written, batch)

    def _write(self, batch: list[tuple[dict, dict, Any, Any]]) -> list[Any]:
        """In a worker thread: the batch in one transaction; per item ``(id, outcome)`` or the error.
        A stub (a search feed's item without its page) is stored as one; every fetched page is
        kept in ``raw_pages`` when ``keep_raw``. Should the database refuse an item, the batch
        is written again with each item in a savepoint of its own: the refusal costs that item only."""
        try:
            return self._write_batch(batch, savepoints=False)
        except SQLAlchemyError:  # rolled back: nothing of this attempt is stored
            return self._write_batch(batch, savepoints=True)

    def _write_batch(self, batch: list[tuple[dict, dict, Any, Any]], savepoints: bool) -> list[Any]:
        results: list[Any] = []
        with Session(self.engine) as session, session.begin():
            if self.policy.near_dup_threshold:  # the whole batch's bands at once, in one order: no deadlock between batches
                lock_bands(session, [band for _, _, bands, _ in batch for band in bands])
            for row, urls, bands, raw in batch:
                values = {k: v for k, v in row.items() if k != "_hints"}
                mine = functools.cache(lambda values=values: self._fingerprint(values["text"]))  # once a candidate turns up
                try:
                    with session.begin_nested() if savepoints else contextlib.nullcontext():
                        if values["text_status"] == "stub":
                            article_id, outcome = store_stub(session, values, urls)
                        else:
                            article_id, outcome = store_article(
                                session, values, urls, bands=bands,
                                score=lambda text, mine=mine: resemblance(mine(), self._fingerprint(text)),
                                policy=self.policy, hints=row["_hints"])
                        if self.keep_raw and raw and article_id is not None:  # every fetch, copies included
                            keep_raw_page(session, article_id, raw["url"], raw["headers"], raw.get("body", b""),
                                          compressed=raw.get("compressed"))
                        results.append((article_id, outcome))
                except SQLAlchemyError as exc:
                    if not savepoints:
                        raise
                    results.append(exc)
        return results

    def _written(self, results, batch) -> None:
        self._busy = False
        if isinstance(results, Failure):  # the transaction itself failed: nothing of the batch is stored
            error = results.value
            results = [error] * len(batch)
            if not isinstance(error, SQLAlchemyError):
                logger.error("store batch failed: %s", error)
        for (item, row, _, done), result in zip(batch, results):
            try:
                done.callback(self._outcome(item, row, result))
            except DropItem as exc:
                done.errback(Failure(exc))
            except Exception as exc:  # a bug here must not leave the item waiting forever
                done.errback(Failure(exc))
        self._next_batch()

    def _outcome(self, item, row: dict, result) -> Any:
        adapter = ItemAdapter(item)
        if isinstance(result, BaseException):
            self._inc(f"wicnews/errors/{ErrorKind.STORE_FAILED}")
            message = reason(result) if isinstance(result, SQLAlchemyError) else str(result)
            raise StoreFailed(f"could not store <{adapter['url']}>: {message}", log_level="ERROR")
        article_id, outcome = result
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
