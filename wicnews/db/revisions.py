"""Revisions: a stored article whose page changed, and when to look at a page again.

A page downloaded again under the URL that represents a stored article (a recheck) may
have been edited: when its title or text changed materially, ``revise`` keeps the earlier
version as a revision, stores the new one as the next revision and lets the article show
it. A page that now fails never reaches the store; an empty one, or one that lost most of
its text (an error or paywall page served with status 200), never replaces a good revision.

When to recheck (``RecheckPolicy``): a few times in an article's first days (after each
span of ``WICNEWS_RECHECK_AFTER``, counted from when it was first stored), or every time
its URL is listed again (``wicnews crawl --recheck``, ``WICNEWS_RECHECK``).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wicnews.models import Article, ArticleRevision, ArticleUrl, utcnow

logger = logging.getLogger(__name__)

# A new text shorter than this share of the stored one is not taken as a revision (an
# error page, a paywall teaser, a template that lost its article body).
MIN_KEPT_SHARE = 0.2

# The verdict columns a revision takes from the page (its entities and MinHash bands are
# replaced by ``store_article``, which has them).
VERDICT_FIELDS = ("relevant", "relevance_level", "relevance", "matched_terms")


@dataclass(frozen=True)
class RecheckPolicy:
    """``after``: seconds after first storing at which an article's page is due again;
    ``always``: every stored article URL listed again is due (``--recheck``)."""

    after: tuple[int, ...] = (3600, 6 * 3600, 24 * 3600, 72 * 3600)
    always: bool = False

    def due(self, first_seen: datetime, checked: datetime | None, now: datetime) -> bool:
        """True when a span has passed since ``first_seen`` that no check has covered yet."""
        if self.always:
            return True
        passed = [first_seen + timedelta(seconds=s) for s in self.after if first_seen + timedelta(seconds=s) <= now]
        return bool(passed) and (checked is None or checked < max(passed))


def recheck_due(session: Session, key: str, policy: RecheckPolicy, now: datetime | None = None) -> bool | None:
    """For the URL with key ``key``: None when it has not led to a stored article yet (fetch
    it); True when it is the page that represents a stored article and a recheck is due
    (its ``checked_at`` is set to now: a recheck that fails counts as done); False
    otherwise (skip it)."""
    now = now or utcnow()
    row = session.execute(
        select(ArticleUrl.id, ArticleUrl.url, ArticleUrl.checked_at, Article.url, Article.first_seen_at)
        .join(Article, Article.id == ArticleUrl.article_id)
        .where(ArticleUrl.url_key == key, ArticleUrl.fetched.is_(True))).first()
    if row is None:
        return None
    placement_id, url, checked, representative, first_seen = row
    if url != representative or not policy.due(first_seen, checked, now):
        return False
    session.execute(update(ArticleUrl).where(ArticleUrl.id == placement_id).values(checked_at=now))
    return True


_SEEN = (select(ArticleUrl.url_key, ArticleUrl.url, ArticleUrl.checked_at, Article.url, Article.first_seen_at)
         .join(Article, Article.id == ArticleUrl.article_id)
         .where(ArticleUrl.url_key.in_(bindparam("keys", expanding=True)), ArticleUrl.fetched.is_(True)))


def recheck_candidates(connection: Any, keys: list[str], policy: RecheckPolicy,
                       now: datetime | None = None) -> dict[str, bool | None]:
    """``recheck_due`` of many URL keys at once, reading only (a few queries, whatever their
    number): None (not stored: fetch it) or False (skip it) is final; True means that a
    recheck looks due, which ``recheck_due`` decides, and records, in a write transaction."""
    now = now or utcnow()
    answers: dict[str, bool | None] = dict.fromkeys(keys)
    unique = list(answers)
    for start in range(0, len(unique), 500):
        for key, url, checked, representative, first_seen in connection.execute(
                _SEEN, {"keys": unique[start:start + 500]}):
            answers[key] = url == representative and policy.due(first_seen, checked, now)
    return answers


def _paragraphs(text: str) -> list[str]:
    from wicnews.pipelines.dedupe import normalise_for_key

    return [p for p in (normalise_for_key(line) for line in text.splitlines()) if p]


def _similar(a: str, b: str) -> bool:
    """Two paragraphs are one edited paragraph when most of their words are shared (Dice
    coefficient of their word sets: linear in their length)."""
    wa, wb = set(a.split()), set(b.split())
    return bool(wa or wb) and 2 * len(wa & wb) / (len(wa) + len(wb)) >= 0.5


def _plural(n: int, word: str) -> str:
    return f"{n} paragraph{'s' if n != 1 else ''} {word}"


# At most this many removed/added paragraph pairs are compared to find edited paragraphs;
# beyond it, the rest count as removed and added (a long page rewritten stays linear).
MAX_PAIR_COMPARISONS = 200
PAIR_WINDOW = 3  # a removed paragraph is compared with the next few added ones


def _count_changes(old: list[str], new: list[str]) -> tuple[int, int, int]:
    """``(added, removed, edited)`` paragraphs between two paragraph lists, in time linear in
    their number: paragraphs are matched as multisets (a paragraph kept, wherever it moved,
    is not a change); the unmatched ones are paired in order, within a small window and at
    most ``MAX_PAIR_COMPARISONS`` times, and a pair sharing most of its words is one edit."""
    kept = Counter(old) & Counter(new)
    left = kept.copy()
    removed = [p for p in old if not _take(left, p)]
    left = kept.copy()
    added = [p for p in new if not _take(left, p)]
    edited, used, comparisons, start = 0, [False] * len(added), 0, 0
    for paragraph in removed:
        if comparisons >= MAX_PAIR_COMPARISONS:
            break
        for j in range(start, min(start + PAIR_WINDOW, len(added))):
            if used[j] or comparisons >= MAX_PAIR_COMPARISONS:
                continue
            comparisons += 1
            if _similar(paragraph, added[j]):
                used[j], edited, start = True, edited + 1, j + 1
                break
    return len(added) - edited, len(removed) - edited, edited


def _take(counter: Counter, key: str) -> bool:
    if counter[key] > 0:
        counter[key] -= 1
        return True
    return False


def change_summary(old_title: str | None, old_text: str, new_title: str | None, new_text: str) -> str | None:
    """What changed between two versions of a page, in words (``title changed; 1 paragraph
    added, 2 paragraphs edited``), or None when nothing material did: case, punctuation,
    quotes and line wrapping do not count; paragraphs only moved are ``paragraphs moved``."""
    from wicnews.pipelines.dedupe import normalise_for_key

    parts = []
    if normalise_for_key(old_title or "") != normalise_for_key(new_title or ""):
        parts.append("title changed")
    added = removed = edited = 0
    old, new = _paragraphs(old_text), _paragraphs(new_text)
    moved = False
    if "".join(old) != "".join(new):  # not merely re-wrapped
        added, removed, edited = _count_changes(old, new)
        moved = not (added or removed or edited)
    counts = [_plural(n, w) for n, w in ((added, "added"), (removed, "removed"), (edited, "edited")) if n]
    if counts:
        parts.append(", ".join(counts))
    elif moved:
        parts.append("paragraphs moved")
    return "; ".join(parts) or None


def revise(session: Session, article_id: int, values: dict) -> str | None:
    """Store the page ``values`` (the ``Article`` columns of a page fetched again under the
    article's own URL) as the article's next revision when it changed materially; returns
    the change summary, or None when nothing was stored. The article takes the new
    version's text, title and relevance verdict."""
    article = session.execute(select(Article).where(Article.id == article_id).with_for_update()).scalar_one()
    new_text = values.get("text") or ""
    summary = change_summary(article.title, article.text, values.get("title"), new_text)
    if summary is None:
        return None
    if len(new_text.strip()) < MIN_KEPT_SHARE * len(article.text.strip()):
        logger.warning("<%s> now has %d characters of text, it had %d: not taken as a revision of article #%d",
                       values.get("url"), len(new_text.strip()), len(article.text.strip()), article_id)
        return None
    latest = session.scalar(select(func.max(ArticleRevision.number)).where(ArticleRevision.article_id == article_id))
    if latest is None:  # the version first stored becomes revision 1
        session.add(ArticleRevision(article_id=article_id, number=1, fetched_at=article.first_seen_at,
                                    title=article.title, text=article.text, summary="first stored",
                                    run_id=article.run_id))
        latest = 1
    session.add(ArticleRevision(article_id=article_id, number=latest + 1, fetched_at=values.get("fetched_at") or utcnow(),
                                title=values.get("title"), text=new_text, summary=summary, run_id=values.get("run_id")))
    session.flush()
    changes: dict[str, Any] = {"title": values.get("title"), "text": new_text}
    for name in ("description", "authors", "tags", "image"):
        if values.get(name):
            changes[name] = values[name]
    # the new text's relevance verdict (judged before the store), even when it found nothing
    changes.update({name: values[name] for name in VERDICT_FIELDS if name in values})
    session.execute(update(Article).where(Article.id == article_id).values(**changes))
    try:  # the new text's key, unless another article holds that exact text
        with session.begin_nested():
            session.execute(update(Article).where(Article.id == article_id).values(text_key=values["text_key"]))
    except IntegrityError:
        pass
    return summary


def revisions_of(session: Session, article_id: int) -> list[ArticleRevision]:
    """An article's revisions, oldest first (none when it never changed)."""
    return list(session.scalars(select(ArticleRevision).where(ArticleRevision.article_id == article_id)
                                .order_by(ArticleRevision.number)))
