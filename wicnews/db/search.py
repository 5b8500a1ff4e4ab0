"""Full-text search over the title and text of articles, on SQLite and on PostgreSQL.

The indexes belong to the database (migration 0003): on SQLite two FTS5 tables kept in step
by triggers (``articles_fts``: words, porter stemming; ``articles_tri``: trigrams, for
Chinese and substrings); on PostgreSQL a ``tsvector`` expression index (English stemming)
and a ``pg_trgm`` index (substrings). A query is split into terms; an article matches when
every term matches as a (stemmed) word or as a substring. User input is never query syntax:
each term goes to FTS5 as one quoted phrase, to PostgreSQL through ``plainto_tsquery`` and
bound parameters, to LIKE with ``%``, ``_`` and ``\\`` escaped.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import ColumnElement, Float, Integer, case, column, func, literal_column, or_, text
from sqlalchemy.sql import Select

from wicnews.models import Article

MAX_TERMS = 16  # a query's further terms are ignored
DOC_SQL = "(coalesce(articles.title, '') || ' ' || articles.text)"  # frozen in migration 0003
SEARCH_TABLES = ("articles_fts", "articles_tri")  # SQLite FTS5 tables and their shadow tables


def is_search_object(name: str | None) -> bool:
    """True for the backend-specific search objects of migration 0003 (not in the models)."""
    return name is not None and name.startswith((*SEARCH_TABLES, "ix_articles_search_"))


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


def _fts5_rows(table: str, term: str) -> ColumnElement[bool]:
    """``articles.id IN (rows of the FTS5 table matching the term as one phrase)``."""
    match = text(f"SELECT rowid FROM {table} WHERE {table} MATCH :q").bindparams(q=fts5_phrase(term))
    return Article.id.in_(match.columns(column("rowid", Integer)))


def _sqlite_term(term: str) -> ColumnElement:
    substring: ColumnElement[bool]
    if len(term) >= 3:
        substring = _fts5_rows("articles_tri", term)
    else:  # trigrams need 3 characters: a scan for shorter terms
        pattern = like_pattern(term)
        substring = or_(Article.title.like(pattern, escape="\\"), Article.text.like(pattern, escape="\\"))
    return or_(_fts5_rows("articles_fts", term), substring)


def _pg_doc() -> ColumnElement:
    return literal_column(DOC_SQL)


def _pg_term(term: str) -> ColumnElement:
    vector = func.to_tsvector(literal_column("'english'::regconfig"), _pg_doc())
    word = vector.op("@@")(func.plainto_tsquery(literal_column("'english'::regconfig"), term))
    substring = func.lower(_pg_doc()).like(func.lower(like_pattern(term)), escape="\\")
    return or_(word, substring)


def apply(stmt: Select, dialect: str, query_terms: list[str]) -> Select:
    """``stmt`` (over ``Article``) restricted to the articles every term matches, best first."""
    if dialect == "postgresql":
        stmt = stmt.where(*[_pg_term(t) for t in query_terms])
        vector = func.to_tsvector(literal_column("'english'::regconfig"), _pg_doc())
        rank = func.ts_rank_cd(vector, func.plainto_tsquery(literal_column("'english'::regconfig"), " ".join(query_terms)))
        title = func.lower(func.coalesce(Article.title, ""))
        title_hits = [case((func.strpos(title, t.lower()) > 0, 1), else_=0) for t in query_terms]
        return stmt.order_by(sum(title_hits[1:], title_hits[0]).desc(), rank.desc())
    stmt = stmt.where(*[_sqlite_term(t) for t in query_terms])
    phrase = " OR ".join(fts5_phrase(t) for t in query_terms)
    ranks = text("SELECT rowid AS rid, bm25(articles_fts, 5.0, 1.0) AS score FROM articles_fts "
                 "WHERE articles_fts MATCH :all").bindparams(all=phrase).columns(
        column("rid", Integer), column("score", Float)).subquery("fts_rank")
    return stmt.outerjoin(ranks, ranks.c.rid == Article.id).order_by(func.coalesce(ranks.c.score, 0.0))


def snippet(article_title: str | None, article_text: str, query_terms: list[str], width: int = 160) -> str:
    """A window of the text around the first term found (word or stem), the hits in
    ``[brackets]``; the text's beginning when no term is found verbatim."""
    body = " ".join(article_text.split())
    folded = body.casefold()
    needles = [t.casefold() for t in query_terms]
    needles += [n[:max(3, len(n) - 3)] for n in needles if n.isascii() and len(n) > 4]
    hits = [(folded.find(n), n) for n in needles if n and folded.find(n) >= 0]
    if not hits:
        return body[:width] + ("…" if len(body) > width else "")
    start = max(0, min(hits)[0] - width // 3)
    if start:
        start = body.find(" ", start) + 1 if body.find(" ", start, start + 20) >= 0 else start
    window = body[start:start + width]
    marked = re.sub("|".join(re.escape(n) + (r"\w*" if n.isascii() else "")
                             for n in sorted(set(needles), key=len, reverse=True) if n),
                    lambda m: f"[{m.group(0)}]", window, flags=re.IGNORECASE)
    return ("…" if start else "") + marked + ("…" if start + width < len(body) else "")
