"""The article write policy: what is new, what is a copy, and which page represents an article.

Exact duplicates are settled by the unique constraints (``INSERT ... ON CONFLICT``); near
duplicates by MinHash bands and a similarity check; the thresholds come from settings
(``StorePolicy``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, bindparam, delete, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wicnews.db.inserts import insert_ignore, insert_many_ignore
from wicnews.db.placements import demote_former_original, page_metadata, record_placements
from wicnews.models import PAGE_FIELDS, Article, ArticleBand, ArticleEntity, ArticleUrl


@dataclass(frozen=True)
class StorePolicy:
    """The thresholds of the write policy (settings ``WICNEWS_NEAR_DUP_THRESHOLD``,
    ``WICNEWS_CANONICAL_MIN_SIMILARITY``, ``WICNEWS_NEAR_DUP_CANDIDATES``)."""

    near_dup_threshold: float = 0.75      # 0: near-duplicate detection off
    canonical_min_similarity: float = 0.3  # below it, two texts under one canonical URL are different articles
    max_candidates: int = 5                # stored articles (sharing most bands) compared per new text


def _insert(session: Session, model) -> Any:
    """The dialect's INSERT, which knows ``ON CONFLICT DO NOTHING`` (SQLite and PostgreSQL)."""
    from sqlalchemy.dialects import postgresql, sqlite

    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


# The article columns that come from its page: what the store writes, and what a stored
# article takes over from its original when a copy was stored first.
def _promote_original(session: Session, article_id: int, values: dict, same_url: bool) -> bool:
    """Let the original, not the first copy fetched, represent an article.

    The stored row takes the incoming page's URL and metadata when the incoming page is
    the canonical page itself and the stored row came from a copy pointing at it
    (``same_url``), or when the same text arrives under another canonical URL with an
    earlier publication time. One conditional UPDATE, so concurrent writers cannot undo
    each other; the id, first-seen time and run stay."""
    new = {k: values[k] for k in PAGE_FIELDS if k in values}
    if same_url:
        if values["url"] != values["canonical_url"]:
            return False
        stmt = update(Article).where(Article.id == article_id, Article.url != Article.canonical_url)
    else:
        if values.get("published_at") is None:
            return False
        taken = select(Article.id).where(Article.url_key == values["url_key"], Article.id != article_id).exists()
        stmt = update(Article).where(
            Article.id == article_id, ~taken,
            or_(Article.published_at.is_(None), Article.published_at > values["published_at"]))
    try:
        with session.begin_nested():
            result: Any = session.execute(stmt.values(**new))
            return result.rowcount == 1
    except IntegrityError:
        return False


_DELETE_ENTITIES = delete(ArticleEntity).where(ArticleEntity.article_id == bindparam("article_id"))


def set_entities(session: Session, article_id: int, entities: Iterable[dict], new: bool = False) -> None:
    """The article's entities (``{"name", "kind", "count"}`` from its relevance verdict), replacing any
    before (``new``: the article row was inserted just now, it has none)."""
    if not new:
        session.connection().execute(_DELETE_ENTITIES, {"article_id": article_id})
    rows = {e["name"][:200]: {"article_id": article_id, "name": e["name"][:200], "kind": e.get("kind") or "org",
                              "mentions": int(e.get("count") or 1)} for e in entities if e.get("name")}
    insert_many_ignore(session, ArticleEntity, list(rows.values()))


def _add_bands(session: Session, article_id: int, bands) -> None:
    insert_many_ignore(session, ArticleBand, [{"band": band, "article_id": article_id} for band in dict.fromkeys(bands)])


def _candidates_query():
    """The stored articles sharing most bands with a text (``:bands``), other than ``:exclude``,
    at most ``:limit``, with their texts: one statement, built once (SQLAlchemy caches its
    compiled form), the bands looked up by the ``article_bands`` primary key (band first)."""
    shared = func.count().label("shared")
    top = (select(ArticleBand.article_id, shared)
           .where(ArticleBand.band.in_(bindparam("bands", expanding=True)), ArticleBand.article_id != bindparam("exclude"))
           .group_by(ArticleBand.article_id).order_by(shared.desc(), ArticleBand.article_id)
           .limit(bindparam("limit", type_=Integer)).subquery())
    return select(Article.id, Article.text).join(top, top.c.article_id == Article.id).order_by(top.c.shared.desc(), Article.id)


_CANDIDATES = _candidates_query()


def find_near_duplicate(session: Session, article_id: int, bands: Iterable[str], score: Callable[[str], float],
                        policy: StorePolicy) -> int | None:
    """The stored article whose text is most similar (at least ``policy.near_dup_threshold``) among the
    ``policy.max_candidates`` sharing most LSH bands with this one (``article_id`` excluded), or None."""
    keys = list(dict.fromkeys(bands))
    if not keys:
        return None
    candidates = session.connection().execute(
        _CANDIDATES, {"bands": keys, "exclude": article_id, "limit": policy.max_candidates}).all()
    best, best_score = None, policy.near_dup_threshold
    for candidate_id, candidate_text in candidates:
        value = score(candidate_text or "")
        if value >= best_score:
            best, best_score = candidate_id, value
    return best


# Below this similarity, two texts under one canonical URL are different articles.
def _wrong_canonical(session: Session, article_id: int, values: dict, other_urls: dict[str, str],
                     score: Callable[[str], float], policy: StorePolicy) -> bool:
    """True when this page names a canonical URL that belongs to a stored article whose text
    has little to do with its own (a template's section link, a wrong og:url)."""
    if values["url"] == values["canonical_url"] or values["url"] not in other_urls.values():
        return False
    existing = session.execute(select(Article.text).where(Article.id == article_id)).scalar_one()
    return score(existing) < policy.canonical_min_similarity


def lock_bands(session: Session, bands) -> None:
    """Serialise the near-duplicate checks of texts that share a band, across processes,
    until the transaction ends: the check sees only committed rows, so two near-copies
    stored at the same moment could both be new. PostgreSQL: one transaction-scoped
    advisory lock per band, taken in one order (no deadlock). SQLite needs none: every
    write transaction starts with ``BEGIN IMMEDIATE``, so writers run one at a time."""
    if session.get_bind().dialect.name != "postgresql" or not bands:
        return
    keys = sorted({int.from_bytes(hashlib.blake2b(b.encode(), digest_size=8).digest(), "big", signed=True)
                   for b in bands})
    session.execute(text("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(CAST(:keys AS bigint[])) AS t(k)"),
                    {"keys": keys})


def _rehome_copy(session: Session, article_id: int, values: dict, score: Callable[[str], float],
                 policy: StorePolicy) -> bool:
    """The canonical page itself arrives (``values``) and the article stored under its URL came
    from another page that named it as canonical (a wrong canonical link, page 2 naming page 1).
    When the two texts have little in common, the stored article moves under its own page's
    URL (its URL key, its placement the original) and frees the canonical URL for this page.
    One conditional UPDATE (the unique ``url_key`` decides against a concurrent writer);
    returns True when the article moved."""
    stored_url, stored_key, stored_text = session.execute(
        select(Article.url, Article.url_key, Article.text).where(Article.id == article_id)).one()
    if stored_url == values["url"] or stored_key != values["url_key"] or \
            score(stored_text) >= policy.canonical_min_similarity:
        return False
    own_key = session.scalar(select(ArticleUrl.url_key).where(
        ArticleUrl.article_id == article_id, ArticleUrl.url == stored_url, ArticleUrl.url_key != stored_key,
        ArticleUrl.fetched.is_(True)).order_by(ArticleUrl.id).limit(1))
    if own_key is None:
        return False
    try:
        with session.begin_nested():
            result: Any = session.execute(update(Article).where(
                Article.id == article_id, Article.url_key == stored_key, Article.url == stored_url)
                .values(url_key=own_key, canonical_url=stored_url))
            if result.rowcount != 1:
                return False
            session.execute(delete(ArticleUrl).where(ArticleUrl.url_key == stored_key,
                                                     ArticleUrl.article_id == article_id))
            session.execute(update(ArticleUrl).where(ArticleUrl.url_key == own_key).values(kind="original"))
    except IntegrityError:  # its own URL belongs to another article: leave it where it is
        return False
    return True


def store_article(session: Session, values: dict, other_urls: dict[str, str], bands=(),
                  score: Callable[[str], float] | None = None, policy: StorePolicy = StorePolicy(near_dup_threshold=0.0),
                  hints: dict[str, str] | None = None, *, _retry: bool = True) -> tuple[int, str]:
    """Store an article unless it is already stored; returns ``(article_id, outcome)`` with
    outcome ``new``, ``duplicate``, ``near_duplicate``, ``canonical_ignored`` (stored as
    new under its own URL: its canonical URL belongs to an article with another text) or
    ``revised`` (the page that represents a stored article, fetched again, changed: see
    ``wicnews.db.revisions.revise``).

    ``values`` holds the ``Article`` columns (``url_key`` and ``text_key`` included);
    ``other_urls`` maps URL keys to the URLs it was fetched under (requested, final);
    ``hints`` maps some of those keys to their placement kind (``amp``, ``alias``).
    Exact duplicates (same canonical URL or text) are found by the unique constraints with
    ``INSERT ... ON CONFLICT``. When ``bands`` and ``score`` are given (``score(text)`` is the
    similarity of a stored text to this one), a stored article sharing a band and scoring at
    least ``policy.near_dup_threshold`` makes this one a near-duplicate (checks of texts
    sharing a band are serialised: ``lock_bands``). Either way the canonical and the
    other URLs are recorded as placements of the article. An original that arrives after its copy
    becomes the article's representative (see ``_promote_original``), unless their texts have
    little in common: then the copy keeps its text under its own URL (``_rehome_copy``).
    """
    if values.get("text_status", "full") == "full" and (stub_id := _upgrade_stub(session, values, other_urls)):
        _add_bands(session, stub_id, bands)
        set_entities(session, stub_id, (values.get("relevance") or {}).get("entities") or [])
        record_placements(session, stub_id, values, other_urls, hints)
        return stub_id, "upgraded"
    near_dup_on = bool(bands and score and policy.near_dup_threshold)
    if near_dup_on:
        lock_bands(session, bands)
    outcome, same_url = "new", False
    savepoint = session.begin_nested()
    article_id = insert_ignore(session, Article, values)
    if article_id is not None:
        # The canonical URL may already lead to another article (found there as a copy's or
        # an AMP page's URL): article_urls.url_key is unique, so it decides, atomically.
        fetched = values["url_key"] in other_urls
        if insert_ignore(session, ArticleUrl, {
                "article_id": article_id, "url": values["canonical_url"], "url_key": values["url_key"],
                "fetched": fetched, "kind": "original", "source": values["source"],
                "first_seen_at": values["first_seen_at"], "run_id": values.get("run_id"),
                **(page_metadata(values) if fetched else {})}) is None:
            savepoint.rollback()
            outcome = "duplicate"
            article_id = session.execute(
                select(ArticleUrl.article_id).where(ArticleUrl.url_key == values["url_key"])).scalar_one()
        elif near_dup_on and score and (near := find_near_duplicate(session, article_id, bands, score, policy)):
            savepoint.rollback()
            outcome, article_id = "near_duplicate", near
        else:
            savepoint.commit()
    else:
        savepoint.commit()
        outcome = "duplicate"
        by_url = session.execute(select(Article.id).where(Article.url_key == values["url_key"])).scalar_one_or_none()
        article_id = by_url or session.execute(
            select(Article.id).where(Article.text_key == values["text_key"])).scalar_one_or_none()
        if article_id is None:  # lost a race with a delete; let the caller retry later
            raise IntegrityError("article vanished during dedupe", None, ValueError())
        same_url = by_url is not None
    if outcome == "duplicate" and same_url and score and _retry and values["url"] == values["canonical_url"] \
            and _rehome_copy(session, article_id, values, score, policy):
        # the copy that named this page moved under its own URL: this page is an article of its own
        return store_article(session, values, other_urls, bands, score, policy, hints, _retry=False)
    if outcome == "duplicate" and score and _wrong_canonical(session, article_id, values, other_urls, score, policy):
        # two different texts under one canonical URL: the page's canonical link is wrong
        own_key = next(k for k, u in other_urls.items() if u == values["url"])
        article_id, outcome = store_article(session, {**values, "canonical_url": values["url"], "url_key": own_key},
                                            other_urls, bands, score, policy, hints)
        return article_id, "canonical_ignored" if outcome == "new" else outcome
    if same_url and values["url"] == values["canonical_url"] and session.scalar(
            select(Article.url).where(Article.id == article_id)) == values["url"]:
        from wicnews.db.revisions import revise

        if revise(session, article_id, values):  # the representative page, fetched again, changed
            outcome = "revised"
    promoted = outcome in ("duplicate", "near_duplicate") and _promote_original(session, article_id, values,
                                                                                  same_url=same_url)
    if outcome in ("new", "revised") or promoted:
        if outcome == "revised":  # the old text's bands would find near-copies of a text it no longer has
            session.execute(delete(ArticleBand).where(ArticleBand.article_id == article_id))
        _add_bands(session, article_id, bands)
        set_entities(session, article_id, (values.get("relevance") or {}).get("entities") or [], new=outcome == "new")
    if promoted:
        demote_former_original(session, article_id)
    # a new article's row is ``values``: no need to read it back
    stored = (values["url_key"], values["canonical_url"], values.get("site_name")) if outcome == "new" else None
    record_placements(session, article_id, values, other_urls, hints, article=stored)
    return article_id, outcome


# Built once (compiled once): the stub a full article's URLs lead to; the stub of its title.
_STUB_BY_URL = (select(ArticleUrl.article_id).join(Article, Article.id == ArticleUrl.article_id)
                .where(ArticleUrl.url_key.in_(bindparam("keys", expanding=True)), Article.text_status == "stub").limit(1))
_STUB_BY_TITLE = (select(Article.id).where(Article.title_key == bindparam("title_key"), Article.text_status == "stub")
                  .order_by(Article.id).limit(1))


def _upgrade_stub(session: Session, values: dict, other_urls: dict[str, str]) -> int | None:
    """Give a full article the row of its stub, if one was stored: the stub that one of its
    URLs (canonical, requested, final) already leads to, else the stub with the same title
    key. One conditional ``UPDATE ... WHERE text_status = 'stub'``: of two writers only one
    upgrades a stub; the row keeps its id, first-seen time and run. Returns the id, or None
    (no stub; or its new keys belong to another article: then the normal path decides)."""
    conn = session.connection()
    stub_id = conn.execute(_STUB_BY_URL, {"keys": list(dict.fromkeys([values["url_key"], *other_urls]))}
                           ).scalar_one_or_none()
    if stub_id is None and values.get("title_key"):
        stub_id = conn.execute(_STUB_BY_TITLE, {"title_key": values["title_key"]}).scalar_one_or_none()
    if stub_id is None:
        return None
    new = {k: values[k] for k in PAGE_FIELDS if k in values} | {"text_status": "full"}
    try:
        with session.begin_nested():
            result: Any = session.execute(update(Article).where(Article.id == stub_id, Article.text_status == "stub")
                                          .values(**new))
    except IntegrityError:
        return None
    if result.rowcount != 1:
        return None
    # the stub's links (the aggregator's) led to this article: no need to try them again
    session.execute(update(ArticleUrl).where(ArticleUrl.article_id == stub_id).values(fetched=True))
    return stub_id


def store_stub(session: Session, values: dict, urls: dict[str, str]) -> tuple[int, str]:
    """Store a search feed's item whose page could not be had (``text_status = "stub"``):
    returns ``(article_id, outcome)``, outcome ``new`` or ``duplicate`` (its URL, or its title
    key, already belongs to an article; the links are then recorded as that article's).
    ``urls`` maps URL keys to the links it was known under (the aggregator's link, the
    publisher URL); they are recorded as not fetched, so that a later cycle tries them again
    and the full article, from any source, upgrades the stub in place."""
    def url_rows(article_id: int) -> list[dict]:
        return [{"article_id": article_id, "url": url, "url_key": key, "fetched": False,
                 "site_name": values.get("site_name"), "source": values["source"],
                 "first_seen_at": values["first_seen_at"], "run_id": values.get("run_id")}
                for key, url in {values["url_key"]: values["canonical_url"], **urls}.items()]

    article_id = None
    if values.get("title_key"):
        article_id = session.execute(select(Article.id).where(Article.title_key == values["title_key"])
                                     .order_by(Article.id).limit(1)).scalar_one_or_none()
    if article_id is None:
        savepoint = session.begin_nested()
        article_id = insert_ignore(session, Article, values)
        if article_id is not None and insert_ignore(session, ArticleUrl, url_rows(article_id)[0]) is not None:
            savepoint.commit()
            insert_many_ignore(session, ArticleUrl, url_rows(article_id)[1:])
            return article_id, "new"
        savepoint.rollback()
        article_id = session.execute(select(ArticleUrl.article_id).where(
            ArticleUrl.url_key.in_([values["url_key"], *urls]))).scalars().first()
        if article_id is None:
            article_id = session.execute(select(Article.id).where(Article.url_key == values["url_key"])).scalar_one()
    insert_many_ignore(session, ArticleUrl, url_rows(article_id))
    return article_id, "duplicate"


def is_settled(session: Session, key: str) -> bool:
    """True when the URL with this key was downloaded and led to a stored article. A URL
    only named so far (the canonical of a copy stored first) is not: fetching the original
    lets it take over."""
    return session.execute(
        select(ArticleUrl.id).where(ArticleUrl.url_key == key, ArticleUrl.fetched.is_(True))).first() is not None


