"""Placements: every URL an article was found under, with that page's outlet, headline and time.

The write side (``record_placements``) is called by ``store_article`` once it knows which
article a page belongs to; the read side (``placements_and_urls``) serves ``wicnews new`` and
``wicnews show``. A URL is recorded once (``article_urls.url_key`` is unique,
``INSERT ... ON CONFLICT DO NOTHING``): the first page seen under a URL describes it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import ARRAY, BigInteger, ColumnElement, any_, bindparam, case, false, select, update
from sqlalchemy.orm import Session

from wicnews.db.inserts import insert_many_ignore
from wicnews.models import Article, ArticleUrl


def _host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def _looks_amp(url: str) -> bool:
    parts = urlsplit(url)
    return "amp" in parts.path.lower().strip("/").split("/") or parts.path.lower().endswith(".amp") \
        or "amp=1" in parts.query.lower() or (parts.hostname is not None and parts.hostname.startswith("amp."))


def placement_kind(url: str, key: str, article_key: str, article_url: str, page_key: str,
                   hint: str | None = None, same_outlet: bool = True) -> str:
    """The kind of the URL ``url`` (key ``key``) of the article whose canonical key is
    ``article_key``, found through a page whose own canonical key is ``page_key``.

    ``hint`` is what the crawl knows (``amp`` for an AMP page resolved to its canonical,
    ``alias`` for the URL requested before a redirect); ``same_outlet``: False when the
    page names another outlet (site name) than the article's."""
    if key == article_key:
        return "original"
    if hint:
        return hint
    if page_key == article_key and same_outlet and _host(url) == _host(article_url):
        return "amp" if _looks_amp(url) else "alias"  # the same page under another URL of its own site
    return "copy"


# What a placement keeps of the page found under it.
PAGE_METADATA = ("site_name", "title", "published_at", "authors")


def page_metadata(values: dict) -> dict:
    """What a placement keeps of the page found under it."""
    return {"site_name": values.get("site_name"), "title": values.get("title"),
            "published_at": values.get("published_at"), "authors": values.get("authors") or []}


_ARTICLE_OF_PLACEMENTS = select(Article.url_key, Article.canonical_url, Article.site_name).where(
    Article.id == bindparam("article_id"))
# URLs named earlier (as a copy's canonical) and downloaded now take the page's metadata.
_MARK_FETCHED = (update(ArticleUrl).where(ArticleUrl.url_key.in_(bindparam("keys", expanding=True)),
                                          ArticleUrl.fetched.is_(False))
                 .values(fetched=True, **{name: bindparam(f"page_{name}") for name in PAGE_METADATA}))


def record_placements(session: Session, article_id: int, values: dict, other_urls: dict[str, str],
                      hints: dict[str, str] | None = None, article: tuple[str, str, str | None] | None = None) -> None:
    """Record the canonical URL and the fetched URLs (``other_urls``: key -> URL) of a page
    as placements of article ``article_id``. A URL only named (a copy's canonical, not
    fetched) gets no page metadata; when it is fetched later, it takes the page's.
    ``article``: the stored article's ``(url_key, canonical_url, site_name)`` when the caller
    knows them (else they are read)."""
    hints = hints or {}
    conn = session.connection()
    article_key, article_url, article_site = article or conn.execute(
        _ARTICLE_OF_PLACEMENTS, {"article_id": article_id}).one()
    same_outlet = not (article_site and values.get("site_name")
                       and article_site.casefold() != values["site_name"].casefold())
    page = page_metadata(values)
    rows = []
    for key, url in {values["url_key"]: values["canonical_url"], **other_urls}.items():
        fetched = key in other_urls
        rows.append({"article_id": article_id, "url": url, "url_key": key, "fetched": fetched,
                     "kind": placement_kind(url, key, article_key, article_url, values["url_key"], hints.get(key),
                                            same_outlet),
                     "source": values["source"], "first_seen_at": values["first_seen_at"],
                     "run_id": values.get("run_id"),
                     **(page if fetched else dict.fromkeys(PAGE_METADATA))})
    insert_many_ignore(session, ArticleUrl, rows)
    if other_urls:  # URLs named earlier (as a copy's canonical) and downloaded now
        conn.execute(_MARK_FETCHED, {"keys": list(other_urls), **{f"page_{k}": v for k, v in page.items()}})


def demote_former_original(session: Session, article_id: int) -> None:
    """After another page took over an article (``_promote_original``), the URL that was
    its original, and the URLs on another outlet than the new original's, are its copies."""
    article_key, article_site = session.execute(
        select(Article.url_key, Article.site_name).where(Article.id == article_id)).one()
    other_outlet = ArticleUrl.site_name.is_not(None) & (ArticleUrl.site_name != article_site) if article_site else false()
    session.execute(update(ArticleUrl).where(
        ArticleUrl.article_id == article_id, ArticleUrl.url_key != article_key,
        (ArticleUrl.kind == "original") | ((ArticleUrl.kind == "alias") & other_outlet)).values(kind="copy"))


PLACEMENT_FIELDS = ("url", "kind", "site_name", "title", "published_at", "authors", "source", "first_seen_at",
                    "fetched")
_PLACEMENT_TIMES = ("published_at", "first_seen_at")


def placements_and_urls(session: Session, article_ids: list[int], fields: tuple[str, ...] = PLACEMENT_FIELDS,
                        ) -> tuple[dict[int, list[dict]], dict[int, list[str]]]:
    """For each article, its placements as JSON-ready dicts of ``fields`` (the page that
    represents the article first, then the others in the order they were found) and, from
    the same rows (one query, no ORM objects), its other URLs (neither its representative nor
    its canonical URL, in the order they were found: ``also_at``)."""
    placed: dict[int, list[dict]] = {i: [] for i in article_ids}
    urls: dict[int, list[str]] = {i: [] for i in article_ids}
    if not article_ids:
        return placed, urls
    first = case((ArticleUrl.url == Article.url, 0), (ArticleUrl.kind == "original", 1), else_=2)
    of_articles: ColumnElement[bool]
    if session.get_bind().dialect.name == "postgresql":  # one array parameter, not hundreds to render and parse
        of_articles = ArticleUrl.article_id == any_(bindparam("article_ids", article_ids, type_=ARRAY(BigInteger)))
    else:
        of_articles = ArticleUrl.article_id.in_(article_ids)
    read = ("url", *(name for name in fields if name != "url"))  # the URL first: ``also_at`` needs it
    times = [name for name in _PLACEMENT_TIMES if name in fields]
    rows = session.connection().execute(
        select(ArticleUrl.article_id, ArticleUrl.id, Article.url, Article.canonical_url,
               *[getattr(ArticleUrl, name) for name in read])
        .join(Article, Article.id == ArticleUrl.article_id)
        .where(of_articles).order_by(ArticleUrl.article_id, first, ArticleUrl.id)).all()
    url_shown = "url" in fields
    for article_id, _, _, _, *values in rows:
        shown = dict(zip(read, values, strict=True))
        if not url_shown:
            del shown["url"]
        for name in times:
            if shown[name] is not None:
                shown[name] = shown[name].isoformat()
        placed[article_id].append(shown)
    for article_id, _, representative, canonical, url, *_ in sorted(rows, key=lambda row: row[1]):
        found = urls[article_id]
        if url not in (representative, canonical) and url not in found:
            found.append(url)
    return placed, urls


def outlets(placements: list[dict]) -> int:
    """How many outlets an article ran on: distinct site names (the host where unknown)."""
    return len({(p["site_name"] or _host(p["url"])).casefold() for p in placements if p["fetched"]}) or 1
