"""Full-text search over the title and text of articles, on SQLite and on PostgreSQL.

The indexes belong to the database (migrations 0003 and 0011): on SQLite two FTS5 tables
kept in step by triggers (``articles_fts``: words, porter stemming; ``articles_tri``:
trigrams, for Chinese and substrings), the trigram table's vocabulary
(``articles_tri_vocab``) and indexes on the last two characters of title and text; on
PostgreSQL a ``tsvector`` expression index (English stemming), a ``pg_trgm`` index
(substrings) and an index of the two-character CJK pieces of title and text. A query is
split into terms; an article matches when every term matches as a (stemmed) word or as a
substring. User input is never query syntax: each term goes to FTS5 as one quoted phrase,
to PostgreSQL through ``phraseto_tsquery`` and bound parameters, to LIKE with ``%``, ``_``
and ``\\`` escaped.

Order: on SQLite, the articles a term matches as a word first, by BM25 (title weighed 5,
text 1), then the others by the number of terms in the title (Chinese terms are found this
way); on PostgreSQL, the number of terms in the title first, then
``ts_rank_cd``; newest first within equal ranks. ``matching_ids`` finds a page of results
without ranking every match: SQLite scores only the articles that pass the filters;
PostgreSQL scores only the articles with as many title hits as the page's last one.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Text,
    bindparam,
    case,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from wicnews.models import Article

MAX_TERMS = 16  # a query's further terms are ignored
DOC_SQL = "(coalesce(articles.title, '') || ' ' || articles.text)"  # frozen in migration 0003
SEARCH_TABLES = ("articles_fts", "articles_tri")  # SQLite FTS5 tables and their shadow tables
PG_VECTOR = "search_vector"  # PostgreSQL: to_tsvector('english', DOC_SQL), a generated column (migration 0011)
TRIGRAM_VOCAB = "articles_tri_vocab"  # SQLite: the trigrams of articles_tri (migration 0011)
MAX_TRIGRAMS = 5000  # a two-character term followed by more distinct characters is looked for by a scan
# The characters of the CJK pieces indexed on PostgreSQL (migration 0011): a two-character
# term of these only is found through that index.
CJK_RANGES = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK = re.compile(f"[{CJK_RANGES}]{{2}}")


def is_search_object(name: str | None) -> bool:
    """True for the backend-specific search objects of migrations 0003 and 0011 (not in the models)."""
    return name is not None and (name == PG_VECTOR or name.startswith((*SEARCH_TABLES, "ix_articles_search_", "wicnews_")))


def terms(query: str) -> list[str]:
    """The search terms of a user's query: NFKC-normalised, control characters (NUL included)
    dropped, split on white space, at most ``MAX_TERMS``, duplicates once."""
    clean = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in unicodedata.normalize("NFKC", query))
    return list(dict.fromkeys(clean.split()))[:MAX_TERMS]


def fts5_phrase(term: str) -> str:
    """``term`` as one FTS5 string: never an operator, column filter or prefix."""
    return '"' + term.replace('"', '""') + '"'


def like_pattern(term: str) -> str:
    """``%term%`` with LIKE's wildcards and the escape character escaped (ESCAPE '\\')."""
    return "%" + re.sub(r"([\\%_])", r"\\\1", term) + "%"


def caseless_pair(term: str) -> bool:
    """True for a two-character term with no letter case (Chinese, Japanese, Korean ...): the
    index can find it as the start of a trigram or the end of a title or text, and LIKE
    compares it exactly."""
    return len(term) == 2 and all(unicodedata.category(ch) == "Lo" for ch in term)


def newest() -> ColumnElement:
    return func.coalesce(Article.published_at, Article.first_seen_at)


def title_hits(query_terms: list[str]) -> ColumnElement:
    """How many of the terms the title holds (as substrings; LIKE: ASCII letters in any case)."""
    hits = [case((Article.title.like(like_pattern(t), escape="\\"), 1), else_=0) for t in query_terms]
    return sum(hits[1:], hits[0])


def matching_ids(session: Session, candidates: Select, query_terms: list[str], limit: int | None) -> list[int]:
    """The ids of the articles among ``candidates`` (a ``select(Article.id)`` with the
    filters) that every term matches, best first; at most ``limit``."""
    if session.get_bind().dialect.name == "postgresql":
        return _pg_ids(session, candidates, query_terms, limit)
    return _sqlite_ids(session, candidates, query_terms, limit)


# --- SQLite ------------------------------------------------------------------------------

class _Ids:
    """SQL of a set of article ids (a UNION ALL of SELECTs) and the values it binds, named
    with ``prefix`` (distinct within one statement)."""

    def __init__(self, prefix: str = "p") -> None:
        self.prefix = prefix
        self.parts: list[str] = []
        self.values: dict[str, str] = {}

    def bind(self, value: str) -> str:
        name = f"{self.prefix}{len(self.values)}"
        self.values[name] = value
        return ":" + name

    def fts5(self, table_name: str, match: str) -> _Ids:
        self.parts.append(f"SELECT rowid FROM {table_name} WHERE {table_name} MATCH {self.bind(match)}")
        return self

    def ending(self, column_name: str, pair: str) -> _Ids:
        """The articles whose column ends with ``pair`` (an index on ``substr(column, -2)``)."""
        self.parts.append(f"SELECT id FROM articles WHERE substr({column_name}, -2) = {self.bind(pair)}")
        return self

    def sql(self) -> str:
        """The set's parts as one SELECT: a membership test needs no deduplication (UNION ALL:
        no temporary B-tree of each part's ids)."""
        return " UNION ALL ".join(self.parts)

    def contain(self) -> ColumnElement[bool]:
        """``articles.id IN (these ids)``."""
        return _id_in(self.sql(), self.values)


def _id_in(sql: str, values: dict[str, str]) -> ColumnElement[bool]:
    clause = text(sql).bindparams(*[bindparam(k, v, unique=True) for k, v in values.items()])
    return Article.id.in_(clause.columns(column("rowid", Integer)))


def _in_all(sets: list[_Ids]) -> ColumnElement[bool]:
    """``articles.id IN`` every one of ``sets``, as one IN of their intersection (INTERSECT),
    so that only the ids in all of them are looked up in ``articles``. (One IN per set looks
    up every id of the first set, and reading the filters' columns, stored after the text,
    walks each article's overflow pages.)"""
    if len(sets) == 1:
        return sets[0].contain()
    named = ", ".join(f"{s.prefix}ids(id) AS ({s.sql()})" for s in sets)
    common = " INTERSECT ".join(f"SELECT id FROM {s.prefix}ids" for s in sets)
    return _id_in(f"WITH {named} {common}", {k: v for s in sets for k, v in s.values.items()})


def _pair_trigrams(session: Session, term: str) -> list[str] | None:
    """The indexed trigrams a caseless pair starts; None when there are more than
    ``MAX_TRIGRAMS`` (the pair is then looked for by a scan)."""
    grams = list(session.scalars(text(f"SELECT term FROM {TRIGRAM_VOCAB} WHERE term >= :lo AND term <= :hi"),
                                 {"lo": term, "hi": term + "\U0010ffff"}))
    return grams if len(grams) <= MAX_TRIGRAMS else None


def _sqlite_terms(query_terms: list[str], pairs: dict[str, list[str] | None], words: bool = True,
                  ) -> list[ColumnElement[bool]]:
    """The conditions of the articles every term matches as a word (unless not ``words``) or
    as a substring. A term found through the indexes is a set of ids: a trigram phrase for a
    term of three characters or more; the trigrams it starts, or the end of the title or
    text, for a caseless pair (``pairs``: ``_pair_trigrams`` of each). Those sets are
    intersected (``_in_all``); another short term is a scan with LIKE."""
    sets: list[_Ids] = []
    scans: list[ColumnElement[bool]] = []
    for n, term in enumerate(query_terms):
        ids = _Ids(f"t{n}_")
        if words:
            ids.fts5("articles_fts", fts5_phrase(term))
        if len(term) >= 3:
            sets.append(ids.fts5("articles_tri", fts5_phrase(term)))
            continue
        if caseless_pair(term):
            grams = pairs[term]
            if grams is not None:
                ids.ending("title", term).ending("text", term)
                if grams:
                    ids.fts5("articles_tri", " OR ".join(fts5_phrase(g) for g in grams))
                sets.append(ids)
                continue
        pattern = like_pattern(term)
        scan = or_(Article.title.like(pattern, escape="\\"), Article.text.like(pattern, escape="\\"))
        scans.append(or_(ids.contain(), scan) if ids.parts else scan)
    return ([_in_all(sets)] if sets else []) + scans


def _sqlite_ids(session: Session, candidates: Select, query_terms: list[str], limit: int | None) -> list[int]:
    # First the articles some term matches as a word (BM25 < 0), scored only when they pass
    # the filters: "+rowid" keeps that test out of FTS5's xBestIndex (which would run the
    # query once per candidate) and in the scan of the matches.
    anyword = " OR ".join(fts5_phrase(t) for t in query_terms)
    pairs = {t: _pair_trigrams(session, t) for t in query_terms if caseless_pair(t)}  # looked up once
    matched = candidates.where(*_sqlite_terms(query_terms, pairs)) if len(query_terms) > 1 else candidates
    fts = table("articles_fts", column("rowid"))
    ranked = select(fts.c.rowid.label("rid"), literal_column("bm25(articles_fts, 5.0, 1.0)").label("score")) \
        .where(literal_column("articles_fts").op("MATCH")(bindparam("anyword", anyword, unique=True)))
    if matched.whereclause is not None:
        ranked = ranked.where(literal_column("+articles_fts.rowid").in_(matched.correlate(None)))
    scores = ranked.subquery("fts_rank")
    stmt = select(Article.id).join(scores, scores.c.rid == Article.id) \
        .order_by(scores.c.score, newest().desc(), Article.id.desc())
    ids = list(session.scalars(stmt.limit(limit) if limit else stmt))
    if limit and len(ids) >= limit:
        return ids
    # Then the articles every term matches as a substring, none as a word: those with more
    # terms in their title first (Chinese is found this way), newest first.
    substrings = [*_sqlite_terms(query_terms, pairs, words=False), ~_Ids("w").fts5("articles_fts", anyword).contain()]
    order = (title_hits(query_terms).desc(), newest().desc(), Article.id.desc())
    wanted = limit - len(ids) if limit else None
    in_titles = _in_titles(query_terms, pairs) if wanted else None
    if in_titles is not None:
        # The order puts every article with a term in its title before every other: when
        # ``wanted`` of them match, the page is theirs, found through the titles' trigrams
        # (named first: SQLite looks up the articles of the first id set) without reading
        # every article the terms match (as on PostgreSQL).
        first = candidates.where(in_titles, *substrings, title_hits(query_terms) > 0).order_by(*order).limit(wanted)
        found = list(session.scalars(first))
        if len(found) == wanted:
            return ids + found
    rest = candidates.where(*substrings).order_by(*order)
    return ids + list(session.scalars(rest.limit(wanted) if wanted else rest))


def _in_titles(query_terms: list[str], pairs: dict[str, list[str] | None]) -> ColumnElement[bool] | None:
    """``articles.id IN`` the articles whose title may hold one of the terms (a superset of
    those ``title_hits`` counts: the trigrams fold case as LIKE does, and more), found through
    the title column of the trigram index; None when a term cannot be found that way."""
    ids = _Ids("h")
    for term in query_terms:
        if len(term) >= 3:
            ids.fts5("articles_tri", "{title} : " + fts5_phrase(term))
        elif caseless_pair(term):
            grams = pairs[term]
            if grams is None:
                return None
            ids.ending("title", term)
            if grams:
                ids.fts5("articles_tri", "{title} : (" + " OR ".join(fts5_phrase(g) for g in grams) + ")")
        else:
            return None
    return ids.contain()


# --- PostgreSQL --------------------------------------------------------------------------

def _pg_doc() -> ColumnElement:
    return literal_column(DOC_SQL)


def _pg_vector() -> ColumnElement:
    return literal_column(f"articles.{PG_VECTOR}")


def _pg_term(term: str) -> list[ColumnElement[bool]]:
    """The conditions of an article ``term`` matches: as a word, or as a substring (LIKE,
    through the trigram index; for a CJK pair, a superset found through the index of CJK
    pairs comes first, so that LIKE only reads the articles it finds)."""
    # a phrase: the words of "title:Wuzhen" next to each other, as FTS5 reads a quoted term
    word = _pg_vector().op("@@")(func.phraseto_tsquery(literal_column("'english'::regconfig"), term))
    substring = func.lower(_pg_doc()).like(func.lower(like_pattern(term)), escape="\\")
    found = [or_(word, substring)]
    if _CJK.fullmatch(term):
        pairs: ColumnElement = literal_column(f"wicnews_cjk_pairs({DOC_SQL})")
        found.insert(0, or_(pairs.op("@>")(bindparam("pair", [term], type_=ARRAY(Text), unique=True)), word))
    return found


# Memory for the bitmap of the articles an index finds, for this transaction only. At the
# server's default (4 MB) the bitmap of a common Chinese pair (85 000 articles at 1M) turns
# lossy, and PostgreSQL rechecks every row of the lossy pages by computing the CJK pairs of
# its whole text: 4.3 s instead of 0.11 s.
PG_WORK_MEM = "32MB"


def _pg_ids(session: Session, candidates: Select, query_terms: list[str], limit: int | None) -> list[int]:
    session.execute(text(f"SET LOCAL work_mem = '{PG_WORK_MEM}'"))
    session.execute(text("SET LOCAL jit = off"))  # compiling would cost more than this query's run
    title = func.lower(func.coalesce(Article.title, ""))
    if limit:
        # The order puts every article with a term in its title before every other: when
        # ``limit`` of them match, the page is theirs, found through the titles' trigram
        # index (migration 0013) without reading every article the terms match.
        # (the same test as ``title_hits`` below: the term lowered here, LIKE as containment)
        in_title = or_(*[title.like(like_pattern(t.lower()), escape="\\") for t in query_terms])
        ids = _pg_ranked(session, candidates.where(in_title), query_terms, limit)
        if len(ids) == limit:
            return ids
    return _pg_ranked(session, candidates, query_terms, limit)


def _pg_ranked(session: Session, candidates: Select, query_terms: list[str], limit: int | None) -> list[int]:
    title = func.lower(func.coalesce(Article.title, ""))
    hits = [case((func.strpos(title, t.lower()) > 0, 1), else_=0) for t in query_terms]
    title_hits = sum(hits[1:], hits[0]).label("title_hits")
    matched = candidates.add_columns(title_hits, newest().label("newest")).where(*[c for t in query_terms for c in _pg_term(t)]) \
        .cte("matched").prefix_with("MATERIALIZED")
    rank = func.ts_rank_cd(_pg_vector(), func.plainto_tsquery(literal_column("'english'::regconfig"), " ".join(query_terms)))
    stmt = select(matched.c.id).join(Article, Article.id == matched.c.id) \
        .order_by(matched.c.title_hits.desc(), rank.desc(), matched.c.newest.desc(), matched.c.id.desc())
    if limit:
        # Only the articles with at least the title hits of the page's last one can be on the page.
        last = select(matched.c.title_hits).order_by(matched.c.title_hits.desc()).offset(limit - 1).limit(1)
        stmt = stmt.where(matched.c.title_hits >= func.coalesce(last.scalar_subquery(), 0)).limit(limit)
    return list(session.scalars(stmt))


_QUOTES = "\"'“”‘’„«»「」『』"


def snippet(article_title: str | None, article_text: str, query_terms: list[str], width: int = 160) -> str:
    """A window of the text around the first term found (word or stem), the hits in
    ``[brackets]``; the text's beginning when no term is found verbatim."""
    body = " ".join(article_text.split())
    # the terms without a quoted query's quotes, and the stems of long English words
    needles = [edge for t in query_terms if (edge := t.lower().strip(_QUOTES))]
    needles += [n[:max(3, len(n) - 3)] for n in needles if n.isascii() and len(n) > 4]
    # found in ``body`` itself (case ignored character by character): positions stay
    # positions of ``body`` whatever case folding would make of its characters (ß, ﬁ)
    hits = [(found.start(), n) for n in needles if (found := re.search(re.escape(n), body, re.IGNORECASE))]
    if not hits:
        return body[:width] + ("…" if len(body) > width else "")
    start = max(0, min(hits)[0] - width // 3)
    if start:
        start = body.find(" ", start) + 1 if body.find(" ", start, start + 20) >= 0 else start
    window = body[start:start + width]
    # a needle of three letters or more at the start of a word marks the word (a stem finds
    # its forms); otherwise only itself (a substring: "in" in "province")
    marked = re.sub("|".join(rf"\b{re.escape(n)}\w*|{re.escape(n)}" if n.isascii() and len(n) >= 3 else re.escape(n)
                             for n in sorted(set(needles), key=len, reverse=True)),
                    lambda m: f"[{m.group(0)}]", window, flags=re.IGNORECASE)
    return ("…" if start else "") + marked + ("…" if start + width < len(body) else "")
