"""Placements, revisions and the near-duplicate race, on SQLite and the real PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone

import pytest
from conftest import REPO, seed
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wicnews.db import engine as db
from wicnews.db.articles import StorePolicy, store_article
from wicnews.db.queries import article_detail, coverage
from wicnews.db.revisions import RecheckPolicy, change_summary, recheck_candidates, recheck_due
from wicnews.models import Article, ArticleRevision, ArticleUrl
from wicnews.pipelines.dedupe import bands, shingles, similarity, text_key
from wicnews.urls import url_key

T0 = datetime(2022, 11, 10, 11, 30, tzinfo=timezone.utc)
BODY = seed()[1]
NEAR = StorePolicy(near_dup_threshold=0.75)


def page(url: str, text: str, canonical: str | None = None, title: str = "Original headline", site: str = "Outlet",
         published: datetime | None = T0, **extra) -> dict:
    canonical = canonical or url
    values = dict(url=url, canonical_url=canonical, url_key=url_key(canonical), text_key=text_key(text), title=title,
                  authors=["A. Writer"], published_at=published, site_name=site, language="en", description=None,
                  image=None, tags=[], text=text, relevant=True, relevance_level="coverage", matched_terms=["WIC"], source="src",
                  first_seen_at=datetime.now(timezone.utc), run_id=None)
    values.update(extra)
    return values


@pytest.fixture
def engine(db_url):
    engine = db.open_database(db_url)
    yield engine
    engine.dispose()


def store(engine, values, *fetched, hints=None):
    mine = shingles(values["text"])
    fetched = fetched or (values["url"],)
    with Session(engine) as s, s.begin():
        return store_article(s, values, {url_key(u): u for u in fetched}, bands=bands(values["text"]),
                             score=lambda text: similarity(mine, shingles(text)), policy=NEAR,
                             hints={url_key(u): k for u, k in (hints or {}).items()})


def test_every_copy_is_a_placement_with_its_own_outlet_headline_and_time(engine):
    orig = "http://scmp/article/1"
    article_id, outcome = store(engine, page(orig, BODY, site="SCMP", title="WIC tilts towards business"))
    assert outcome == "new"
    # a syndicated copy naming the original as canonical; an aggregator copy (same text); a
    # republished near-copy with another headline; the AMP edition resolved to the original
    wire = page("http://wire/c", BODY, canonical=orig, site="Asia Tech Wire", title="Wire headline",
                published=T0 + timedelta(hours=12))
    assert store(engine, wire, "http://wire/c") == (article_id, "duplicate")
    digest = page("http://digest/d", BODY, site="Daily Digest", title="WIC 2022: business", published=T0 + timedelta(days=1))
    assert store(engine, digest) == (article_id, "duplicate")
    mirror_text = BODY.replace("Coinciding with the conference,", "Alongside the conference,") + \
        "\n\nThis article was first published by the South China Morning Post."
    mirror = page("http://mirror/m", mirror_text, site="Global Mirror", title="Wuzhen's business turn",
                  published=T0 + timedelta(days=2))
    assert store(engine, mirror) == (article_id, "near_duplicate")
    assert store(engine, page(orig, BODY, site="SCMP", title="WIC tilts towards business"), orig, "http://scmp/amp/article/1",
                 hints={"http://scmp/amp/article/1": "amp"}) == (article_id, "duplicate")

    [row] = coverage(engine, None)
    assert row["placements"][0]["url"] == orig and row["placements"][0]["kind"] == "original"
    by_url = {p["url"]: p for p in row["placements"]}
    assert {u: p["kind"] for u, p in by_url.items()} == {
        orig: "original", "http://wire/c": "copy", "http://digest/d": "copy", "http://mirror/m": "copy",
        "http://scmp/amp/article/1": "amp"}
    assert (by_url["http://mirror/m"]["site_name"], by_url["http://mirror/m"]["title"]) == ("Global Mirror",
                                                                                            "Wuzhen's business turn")
    assert by_url["http://mirror/m"]["published_at"] == (T0 + timedelta(days=2)).isoformat()
    assert by_url["http://wire/c"]["title"] == "Wire headline" and by_url["http://wire/c"]["authors"] == ["A. Writer"]
    assert sorted(row["also_at"]) == sorted(u for u in by_url if u != orig)


def test_the_table_reads_only_what_it_shows_and_prints_the_same(engine):
    """``wicnews new`` reads for its table only the fields the table declares: the table it
    prints from them is the one it prints from everything."""
    import io

    from wicnews.db.queries import Shown
    from wicnews.output import ARTICLE_FIELDS
    from wicnews.output.table import articles as table

    orig = "http://scmp/article/2"
    store(engine, page(orig, BODY, site="SCMP", title="WIC tilts towards business",
                       relevance={"score": 7.5, "level": "coverage", "explanation": [
                           {"term": "World Internet Conference", "field": "title", "count": 2, "counted": True}]}))
    store(engine, page("http://wire/c2", BODY, canonical=orig, site="Asia Tech Wire", title="Wire"), "http://wire/c2")
    zh = "第九届世界互联网大会乌镇峰会开幕。\n\n" + "会议讨论了数字经济。" * 20
    store(engine, page("http://zh/1", zh, site="新华网", title="世界互联网大会\x1b[31m乌镇峰会开幕", language="zh",
                       published=None, relevance_level="mention", relevant=False, matched_terms=["乌镇"]))
    shown = Shown(*ARTICLE_FIELDS["table"])
    every, few = coverage(engine, None, include_all=True), coverage(engine, None, include_all=True, shown=shown)
    assert len(every) == len(few) == 2
    assert {"text", "authors", "description"} <= set(every[0]) and not {"text", "authors", "description"} & set(few[0])
    assert set(few[0]) == {*shown.fields, "also_at", "placements"}
    assert all(set(p) == set(shown.placement_fields) for row in few for p in row["placements"])
    printed_every, printed_few = io.StringIO(), io.StringIO()
    table(every, printed_every)
    table(few, printed_few)
    assert printed_few.getvalue() == printed_every.getvalue()
    assert "[2 outlets]" in printed_few.getvalue() and "\\x1b" in printed_few.getvalue()
    with pytest.raises(ValueError, match="text_key"):
        Shown(("title", "text_key"))


def test_a_copy_first_then_its_original(engine):
    """The copy names the original: the original's URL is a placement with no page metadata
    until it is fetched; then it takes over and the copy's own metadata stays the copy's."""
    orig = "http://scmp/article/2"
    article_id, _ = store(engine, page("http://wire/2", BODY, canonical=orig, site="Wire", title="Wire headline"),
                          "http://wire/2")
    [row] = coverage(engine, None)
    named = {p["url"]: p for p in row["placements"]}[orig]
    assert (named["kind"], named["fetched"], named["title"], named["site_name"]) == ("original", False, None, None)
    assert store(engine, page(orig, BODY, site="SCMP", title="The original"))[0] == article_id
    [row] = coverage(engine, None)
    assert row["url"] == orig and row["placements"][0]["url"] == orig
    by_url = {p["url"]: p for p in row["placements"]}
    assert (by_url[orig]["title"], by_url[orig]["site_name"], by_url[orig]["fetched"]) == ("The original", "SCMP", True)
    assert (by_url["http://wire/2"]["kind"], by_url["http://wire/2"]["title"]) == ("copy", "Wire headline")


def test_an_earlier_original_found_by_text_demotes_the_copy(engine):
    article_id, _ = store(engine, page("http://digest/3", BODY, site="Digest", published=T0 + timedelta(days=1)))
    assert store(engine, page("http://scmp/3", BODY, site="SCMP", published=T0))[0] == article_id
    [row] = coverage(engine, None)
    assert [(p["url"], p["kind"]) for p in row["placements"]] == [("http://scmp/3", "original"), ("http://digest/3", "copy")]


# --- revisions ---------------------------------------------------------------------------

PARAS = BODY.split(". ")
V1 = "\n\n".join(". ".join(PARAS[i:i + 3]) for i in range(0, len(PARAS), 3))


def test_change_summary():
    assert change_summary("T", V1, "T", V1.replace("\n\n", "\n")) is None  # re-wrapped only
    assert change_summary("T", V1, "t.", V1.upper()) is None  # case and punctuation
    paras = V1.split("\n\n")
    edited = "\n\n".join([paras[0] + " Updated with a correction.", *paras[1:-1], "A new closing paragraph."])
    assert change_summary("T", V1, "New T", edited) == "title changed; 1 paragraph added, 1 paragraph removed, " \
        "1 paragraph edited"
    assert change_summary("T", V1, "T", V1 + "\n\nOne more paragraph.") == "1 paragraph added"
    assert change_summary("T", V1, "T", "\n\n".join(paras[1:])) == "1 paragraph removed"


def test_an_edited_page_is_a_new_revision_and_a_broken_one_is_not(engine):
    url = "http://scmp/article/9"
    article_id, _ = store(engine, page(url, V1, title="First title"))
    assert store(engine, page(url, V1, title="First title")) == (article_id, "duplicate")  # unchanged
    v2 = V1 + "\n\nUpdate: the organisers published the list of speakers on Friday."
    assert store(engine, page(url, v2, title="Second title")) == (article_id, "revised")
    # an error page served with status 200: most of the text gone, never taken
    assert store(engine, page(url, "Sorry, this page is temporarily unavailable. " * 3, title="Error")) == \
        (article_id, "duplicate")
    detail = article_detail(engine, str(article_id))
    assert (detail["title"], detail["text"]) == ("Second title", v2)
    revs = detail["revisions"]
    assert [(r["number"], r["title"], r["text"]) for r in revs] == [(1, "First title", V1), (2, "Second title", v2)]
    assert revs[1]["summary"] == "title changed; 1 paragraph added"
    assert article_detail(engine, url)["id"] == article_id and article_detail(engine, "#999") is None
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(ArticleRevision)) == 2
        assert s.scalar(select(Article.text_key).where(Article.id == article_id)) == text_key(v2)


def test_an_article_never_revised_shows_one_revision(engine):
    article_id, _ = store(engine, page("http://x/1", V1, title="Only"))
    assert [(r["number"], r["title"]) for r in article_detail(engine, str(article_id))["revisions"]] == [(1, "Only")]


def test_recheck_policy(engine):
    now = datetime.now(timezone.utc)
    policy = RecheckPolicy(after=(3600, 6 * 3600))
    assert not policy.due(now, None, now)
    assert policy.due(now - timedelta(hours=2), None, now)
    assert not policy.due(now - timedelta(hours=2), now - timedelta(minutes=30), now)  # checked after the 1 h mark
    assert policy.due(now - timedelta(hours=7), now - timedelta(hours=5), now)         # the 6 h mark not yet covered
    assert not RecheckPolicy(after=()).due(now - timedelta(days=9), None, now)
    assert RecheckPolicy(after=(), always=True).due(now, now, now)

    url = "http://scmp/article/r"
    store(engine, page(url, V1, first_seen_at=now - timedelta(hours=2)), url, "http://wire/r")
    with Session(engine) as s, s.begin():
        assert recheck_due(s, url_key("http://never/seen"), policy) is None
        assert recheck_due(s, url_key("http://wire/r"), policy) is False  # only the representative page
        assert recheck_due(s, url_key(url), policy) is True
    with Session(engine) as s, s.begin():
        assert recheck_due(s, url_key(url), policy) is False  # done for this mark
        assert s.scalar(select(ArticleUrl.checked_at).where(ArticleUrl.url == url)) is not None


def test_recheck_candidates_read_many_urls_as_recheck_due_would(engine):
    """The skip-seen middleware's batch look-up: None and False as ``recheck_due`` says, True
    only where a recheck looks due (``recheck_due`` then decides it), without writing."""
    now = datetime.now(timezone.utc)
    policy = RecheckPolicy(after=(3600,))
    old, fresh = "http://scmp/article/old", "http://scmp/article/fresh"
    store(engine, page(old, V1, first_seen_at=now - timedelta(hours=2)), old, "http://wire/old")
    store(engine, page(fresh, "Another story altogether. " * 30, first_seen_at=now), fresh)
    keys = [url_key(u) for u in ("http://never/seen", "http://wire/old", old, fresh, old)]
    with engine.connect() as conn:
        answers = recheck_candidates(conn, keys, policy)
        assert answers == {keys[0]: None, keys[1]: False, keys[2]: True, keys[3]: False}
        assert recheck_candidates(conn, keys, RecheckPolicy(after=(), always=True))[keys[3]] is True
    with Session(engine) as s:
        assert s.scalar(select(ArticleUrl.checked_at).where(ArticleUrl.url == old)) is None  # nothing recorded
        assert [recheck_due(s, key, policy) if answers[key] else answers[key] for key in keys] == \
            [None, False, True, False, False]  # the same URL twice in a batch: due once


# --- the race: two processes, one article --------------------------------------------------

WORKER = textwrap.dedent('''
    import sys
    from datetime import datetime, timezone
    from sqlalchemy.orm import Session
    from wicnews.db.engine import open_database
    from wicnews.db.articles import StorePolicy, store_article
    from wicnews.pipelines.dedupe import bands, shingles, similarity, text_key
    from wicnews.urls import url_key

    db_url, url, text, hold = sys.argv[1], sys.argv[2], open(sys.argv[3], encoding="utf-8").read(), sys.argv[4] == "hold"
    print("starting", flush=True)
    engine = open_database(db_url)  # on SQLite this waits for the other writer already
    mine = shingles(text)
    values = dict(url=url, canonical_url=url, url_key=url_key(url), text_key=text_key(text), title=url, authors=[],
                  published_at=None, site_name=url, language="en", description=None, image=None, tags=[], text=text,
                  relevant=True, matched_terms=[], source="race", first_seen_at=datetime.now(timezone.utc), run_id=None)
    with Session(engine) as s, s.begin():
        result = store_article(s, values, {url_key(url): url}, bands=bands(text),
                               score=lambda t: similarity(mine, shingles(t)), policy=StorePolicy(near_dup_threshold=0.75))
        print("stored", *result, flush=True)
        if hold:
            sys.stdin.readline()  # keep the transaction open until told
    print("committed", flush=True)
''')


def _wait_for(predicate, what: str, deadline: float = 60.0):
    end = time.monotonic() + deadline
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.e2e  # worker processes
def test_two_processes_storing_near_copies_at_once_make_one_article(db_url, tmp_path):
    """A stores its copy and holds its transaction open; B stores a near-copy meanwhile; A
    commits. Whatever B saw, the end is one article with two placements."""
    engine = db.open_database(db_url)  # schema first, so the workers do not race on migrations
    script = tmp_path / "worker.py"
    script.write_text(WORKER, encoding="utf-8")
    text_a, text_b = tmp_path / "a.txt", tmp_path / "b.txt"
    text_a.write_text(BODY, encoding="utf-8")
    text_b.write_text(BODY.replace("Coinciding with the conference,", "Alongside the conference,") +
                      " This article first appeared in the South China Morning Post.", encoding="utf-8")

    def worker(url, path, hold):
        return subprocess.Popen([sys.executable, str(script), db_url, url, str(path), hold], cwd=REPO,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    a = worker("http://outlet-a/story", text_a, "hold")
    b = None
    try:
        assert a.stdout.readline().strip() == "starting"
        assert a.stdout.readline().split()[0] == "stored"
        b = worker("http://outlet-b/story", text_b, "go")
        assert b.stdout.readline().strip() == "starting"
        if engine.dialect.name == "postgresql":  # B must be waiting for A's band lock, or done
            from sqlalchemy import text

            def b_blocked_or_done():
                with engine.connect() as conn:
                    waiting = conn.scalar(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"))
                return waiting > 0 or b.poll() is not None
            _wait_for(b_blocked_or_done, "worker B to block or finish")
        a.stdin.write("\n")
        a.stdin.flush()
        out_a, _ = a.communicate(timeout=120)
        out_b, _ = b.communicate(timeout=120)
        assert a.returncode == 0 and b.returncode == 0, (out_a, out_b)
        assert "stored" in out_b and "near_duplicate" in out_b, out_b
        with Session(engine) as s:
            assert s.scalar(select(func.count()).select_from(Article)) == 1
            assert set(s.scalars(select(ArticleUrl.url))) == {"http://outlet-a/story", "http://outlet-b/story"}
    finally:
        for proc in (a, b):
            if proc is not None:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                for pipe in (proc.stdin, proc.stdout):
                    if pipe and not pipe.closed:
                        pipe.close()
        engine.dispose()
