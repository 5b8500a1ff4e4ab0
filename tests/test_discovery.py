"""Topic search sources end to end over loopback: a Google News-like feed whose links are
redirect pages of each kind and one dead end (kept as a stub, upgraded later by the real
article from another feed), a GDELT-like API walked by ``wicnews backfill`` (time slices
split under the cap, interrupted with SIGINT and resumed, a second run adds nothing), and a
listing page without article links counted as ``no_links``."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest
from conftest import CHINESE_PATH, FAST, REPO, SEED_PATH, SEED_TITLE

sys.path.insert(0, str(Path(__file__).parent))
from aggregator_server import DEAD_OUTLET, DEAD_TITLE, TARGETS

API = [*FAST, "-s", "WICNEWS_API_DELAY=0"]


class Aggregator:
    def __init__(self, base: str):
        self.base = base

    def get(self, path: str):
        with urllib.request.urlopen(self.base + path, timeout=30) as resp:
            return json.load(resp) if path == "/__calls" else resp.read()

    def calls(self, api: str) -> list[dict]:
        return [c for c in self.get("/__calls") if c["api"] == api]


@pytest.fixture(scope="module")
def aggregator(site):
    proc = subprocess.Popen([sys.executable, str(Path(__file__).parent / "aggregator_server.py"), "--site", site.base,
                             "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("http://127.0.0.1:"), line
        yield Aggregator(line)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


def articles(wicnews, db) -> list[dict]:
    return json.loads(wicnews("new", "--db", db, "--format", "json", "--all", "--since", "3650d", check=True).stdout)


def last_run(wicnews, db) -> dict:
    return json.loads(wicnews("runs", "--db", db, "--format", "json", check=True).stdout)[0]


def test_google_news_redirects_lead_to_articles_and_a_dead_link_to_a_stub_upgraded_later(
        aggregator, site, wicnews, db_url, tmp_path):
    sources = tmp_path / "sources.toml"
    sources.write_text(f"""
[[source]]
name = "gn-wic"
kind = "google_news"
query = '"World Internet Conference" OR "Wuzhen Summit"'
language = "en"
api_url = "{aggregator.base}/rss/search"
""", encoding="utf-8")
    aggregator.get("/__reset")
    result = wicnews("crawl", "--sources", str(sources), "--db", db_url, *API)
    assert result.returncode == 0, result.stderr
    [call] = aggregator.calls("google_news")
    assert call["hl"] == "en-US" and call["gl"] == "US" and call["ceid"] == "US:en" and "Wuzhen Summit" in call["q"]

    stored = {a["canonical_url"]: a for a in articles(wicnews, db_url)}
    expected = {site.url(path) for path in TARGETS.values()}
    assert expected <= set(stored), sorted(stored)
    seed = stored[site.url(SEED_PATH)]
    assert seed["title"] == SEED_TITLE and seed["text_status"] == "full" and len(seed["text"]) > 1000
    assert stored[site.url(CHINESE_PATH)]["text_status"] == "full"  # through <meta http-equiv=refresh>
    for kind in ("canonical", "script", "encoded"):
        assert stored[site.url(TARGETS[kind])]["text"], kind
    # the encoded target was fetched directly: the aggregator's /gn/url page never was
    stubs = [a for a in stored.values() if a["text_status"] == "stub"]
    assert len(stubs) == 1, stubs
    stub = stubs[0]
    assert stub["title"] == DEAD_TITLE  # " - Zhejiang Daily" taken off
    assert stub["site_name"] == DEAD_OUTLET
    assert stub["published_at"] == "2024-11-20T05:30:00+00:00"
    assert stub["url"] == aggregator.base + "/gn/dead/6" and stub["text"] == ""
    assert stub["relevant"] is True and "Wuzhen Summit" in stub["matched_terms"]  # judged by its title
    run = last_run(wicnews, db_url)
    assert run["articles_new"] == 6 and run["error_counts"].get("http_404") == 1, run

    # the same feed again: nothing new, the stub is not duplicated
    again = wicnews("crawl", "--sources", str(sources), "--db", db_url, *API)
    assert again.returncode == 0, again.stderr
    assert last_run(wicnews, db_url)["articles_new"] == 0
    assert len(articles(wicnews, db_url)) == len(stored)

    # the outlet's own feed brings the article: the stub becomes it, same id
    publisher = tmp_path / "publisher.toml"
    publisher.write_text(f"""
[[source]]
name = "zhejiang-daily"
kind = "feed"
url = "{aggregator.base}/publisher/feed.rss"
""", encoding="utf-8")
    later = wicnews("crawl", "--sources", str(publisher), "--db", db_url, *API)
    assert later.returncode == 0, later.stderr
    after = articles(wicnews, db_url)
    assert len(after) == len(stored)
    [upgraded] = [a for a in after if a["id"] == stub["id"]]
    assert upgraded["text_status"] == "full" and "World Internet Conference" in upgraded["text"]
    assert upgraded["canonical_url"] == aggregator.base + "/publisher/wuzhen-ai-agenda.html"
    assert upgraded["title"] == DEAD_TITLE
    assert not [a for a in after if a["text_status"] == "stub"]


def _slices(db_url: str) -> set[tuple[str, str]]:
    """The checkpointed slices, as the API's ``startdatetime``/``enddatetime`` values."""
    from sqlalchemy import create_engine, text

    from wicnews.models import UTCDateTime

    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    column = UTCDateTime()
    try:
        with engine.connect() as conn:
            rows = conn.execute(text('SELECT start, "end" FROM backfill_slices')).all()
    except Exception:
        return set()
    finally:
        engine.dispose()

    def stamp(value) -> str:
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return column.process_result_value(value, engine.dialect).strftime("%Y%m%d%H%M%S")

    return {(stamp(start), stamp(end)) for start, end in rows}


def _count_slices(db_url: str) -> int:
    return len(_slices(db_url))


def _gdelt_sources(aggregator, tmp_path, query: str, more: str = ""):
    """A sources file: the GDELT stand-in searched for ``query`` (source ``gdelt-wic``), then ``more``."""
    sources = tmp_path / "sources.toml"
    sources.write_text(f"""
[[source]]
name = "gdelt-wic"
kind = "gdelt"
query = '{query}'
api_url = "{aggregator.base}/api/v2/doc/doc"
{more}""", encoding="utf-8")
    return sources


def test_gdelt_backfill_slices_under_the_cap_resumes_after_sigint_and_adds_nothing_twice(
        aggregator, wicnews, db_url, tmp_path):
    sources = _gdelt_sources(aggregator, tmp_path, '("World Internet Conference" OR "Wuzhen Summit")', f"""
[[source]]
name = "plain-feed"
kind = "feed"
url = "{aggregator.base}/publisher/feed.rss"
""")
    args = ["backfill", "--from", "2024-11-15", "--to", "2024-11-24", "--sources", str(sources), "--db", db_url,
            *API, "-s", "WICNEWS_GDELT_MAX_RECORDS=3", "-s", "CONCURRENT_REQUESTS=2"]
    aggregator.get("/__reset")
    aggregator.get("/__hold?from=6")  # the articles of the last four days wait
    home = tmp_path / "home"
    env = {"WICNEWS_HOME": str(home), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "wicnews.cli", *args, "--progress"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**{k: v for k, v in __import__("os").environ.items() if not k.startswith("WICNEWS_")},
                                 **env})
    try:
        deadline = time.monotonic() + 120
        # interrupted once the first slices are checkpointed and the crawl is either well on or
        # stuck behind held pages (two held requests fill both slots: it cannot go further)
        while time.monotonic() < deadline and proc.poll() is None and not (
                _count_slices(db_url) >= 1 and (_count_slices(db_url) >= 6 or int(aggregator.get("/__held")) >= 2)):
            time.sleep(0.2)
        assert _count_slices(db_url) >= 1, "the first slices were never checkpointed"
        proc.send_signal(signal.SIGINT)
    finally:
        aggregator.get("/__release")
        out, err = proc.communicate(timeout=120)
    assert proc.returncode != 0, (out, err)
    assert "Traceback" not in err, err
    assert "backfill [" in err  # the progress bar (--progress)
    done_first = _slices(db_url)
    assert len(done_first) < 20, "the backfill ended before it was interrupted"

    aggregator.get("/__reset")
    resumed = wicnews(*args)
    assert resumed.returncode == 0, resumed.stderr
    assert _count_slices(db_url) == 20  # ten days, each halved once under the cap of 3
    calls = aggregator.calls("gdelt")
    assert calls and all(c["maxrecords"] == 3 and c["returned"] <= 3 for c in calls)
    # the slices completed before the interruption are not asked for again, nor their days
    asked = {(c["start"], c["end"]) for c in calls}
    assert not asked & done_first
    assert not {start[:8] for start, _ in asked} & {start[:8] for start, _ in done_first if start[8:] == "000000"
                                                    and (start, start[:8] + "120000") in done_first
                                                    and any(s == start[:8] + "120000" for s, _ in done_first)}

    stored = articles(wicnews, db_url)
    assert len(stored) == 32  # 40 in the corpus, 8 off topic (the query leaves them out)
    assert {a["site_name"] for a in stored} <= {"Loopback Herald"} | {f"outlet{i}.example" for i in range(3)}
    assert all(a["source"] == "gdelt-wic" and a["text_status"] == "full" for a in stored)
    assert "plain-feed" not in resumed.stderr  # a feed takes no time range: not walked

    aggregator.get("/__reset")
    again = wicnews(*args)
    assert again.returncode == 0, again.stderr
    assert aggregator.calls("gdelt") == []  # every slice is checkpointed
    assert len(articles(wicnews, db_url)) == 32
    assert last_run(wicnews, db_url)["articles_new"] == 0


def _one_day_of_gdelt(aggregator, pg_url: str, tmp_path):
    """The backfill of one day (four articles, one slice) from the GDELT stand-in into
    ``pg_url``, whose schema is made first; and an engine on it for the test's own SQL."""
    from sqlalchemy import create_engine

    from wicnews.db import engine as db

    sources = _gdelt_sources(aggregator, tmp_path, '"World Internet Conference"')
    db.open_database(pg_url).dispose()
    args = ["backfill", "--from", "2024-11-15", "--to", "2024-11-15", "--sources", str(sources), "--db", pg_url, *API]
    return args, create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"))


def test_a_backfill_killed_before_its_articles_are_committed_fetches_them_when_resumed(
        aggregator, wicnews, pg_url, tmp_path):
    """A slice is checkpointed only once its articles are stored: killed (SIGKILL) while the
    store waits for the database, the backfill leaves the slice unchecked, and the resumed
    backfill stores every article of it."""
    from sqlalchemy import text

    args, admin = _one_day_of_gdelt(aggregator, pg_url, tmp_path)
    aggregator.get("/__reset")
    with admin.connect() as locker, admin.connect() as watcher:
        locker.execute(text("LOCK TABLE articles IN SHARE MODE"))  # read, never written, until rollback
        env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("WICNEWS_")}
        proc = subprocess.Popen([sys.executable, "-m", "wicnews.cli", *args], cwd=tmp_path, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                env={**env, "WICNEWS_HOME": str(tmp_path / "home"), "PYTHONPATH": str(REPO)})
        try:
            def store_waits() -> bool:
                return bool(watcher.execute(text(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'articles'::regclass")).scalar())

            deadline = time.monotonic() + 120
            while proc.poll() is None and time.monotonic() < deadline and not (
                    int(aggregator.get("/__served")) == 4 and store_waits()):
                time.sleep(0.1)
            assert proc.poll() is None and store_waits(), "the store never waited for the locked table"
            # every page of the slice has been fetched: a slice checkpointed on parsing would
            # appear now (a bounded look: on a loaded machine it can only miss that bug)
            seen = time.monotonic()
            while time.monotonic() - seen < 3:
                assert _count_slices(pg_url) == 0, "the slice was checkpointed before its articles were stored"
                time.sleep(0.1)
        finally:
            proc.kill()
            proc.communicate(timeout=60)
            locker.rollback()
    admin.dispose()

    resumed = wicnews(*args)
    assert resumed.returncode == 0, resumed.stderr
    stored = articles(wicnews, pg_url)
    assert len(stored) == 4 and all(a["text_status"] == "full" for a in stored), stored
    assert _count_slices(pg_url) == 1


def test_an_article_the_store_could_not_take_leaves_its_slice_for_the_next_backfill(
        aggregator, wicnews, pg_url, tmp_path):
    """The database refuses one article of a slice (a trigger here; a lock timeout or a lost
    connection in life): the others are stored, the slice is not checkpointed, and the next
    backfill stores the refused one."""
    from sqlalchemy import text

    args, admin = _one_day_of_gdelt(aggregator, pg_url, tmp_path)
    with admin.begin() as conn:
        conn.execute(text("CREATE FUNCTION refuse_two() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                          "IF NEW.title LIKE '%number 2' THEN RAISE EXCEPTION 'refused for the test'; END IF; "
                          "RETURN NEW; END $$"))
        conn.execute(text("CREATE TRIGGER refuse_two BEFORE INSERT ON articles FOR EACH ROW EXECUTE FUNCTION refuse_two()"))
    aggregator.get("/__reset")
    first = wicnews(*args)
    assert "could not store" in first.stderr, first.stderr
    assert len(articles(wicnews, pg_url)) == 3 and _count_slices(pg_url) == 0
    with admin.begin() as conn:
        conn.execute(text("DROP TRIGGER refuse_two ON articles"))
    admin.dispose()
    second = wicnews(*args)
    assert second.returncode == 0, second.stderr
    stored = articles(wicnews, pg_url)
    assert len(stored) == 4 and any(a["title"].endswith("number 2") for a in stored) and _count_slices(pg_url) == 1


def test_gdelt_answers_are_split_until_under_the_cap(aggregator, wicnews, sqlite_url, tmp_path):
    sources = _gdelt_sources(aggregator, tmp_path, '"World Internet Conference"')
    aggregator.get("/__reset")
    result = wicnews("backfill", "--from", "2024-11-15", "--to", "2024-11-16", "--sources", str(sources), "--db",
                     sqlite_url, *API, "-s", "WICNEWS_GDELT_MAX_RECORDS=2")
    assert result.returncode == 0, result.stderr
    calls = aggregator.calls("gdelt")
    windows = [(c["start"], c["end"]) for c in calls]
    assert ("20241115000000", "20241116000000") in windows  # the day, at the cap: split
    assert all(c["returned"] < 2 for c in calls if (c["start"], c["end"]) not in
               {(a["start"], a["end"]) for a in calls if a["returned"] >= 2})
    assert len(articles(wicnews, sqlite_url)) == 7  # day 1: 4 on topic; day 2: 3 (n=4 is off topic)


def test_listing_page_without_article_links_is_a_counted_warning(site, wicnews, sqlite_url, tmp_path):
    sources = tmp_path / "sources.toml"
    sources.write_text(f"""
[[source]]
name = "topic-page"
kind = "page"
url = "{site.url('/scmp/topics/world-internet-conference.html')}"
link_pattern = "/no-such-section/\\\\d+"
""", encoding="utf-8")
    result = wicnews("crawl", "--sources", str(sources), "--db", sqlite_url, *FAST)
    assert result.returncode == 0, result.stderr
    assert "source topic-page: the listing page has no article links (no_links)" in result.stderr
    run = last_run(wicnews, sqlite_url)
    assert run["error_counts"] == {"no_links": 1} and run["errors"] == 1
    [health] = json.loads(wicnews("sources", "--db", sqlite_url, "--format", "json", check=True).stdout)
    assert health["name"] == "topic-page" and health["last_error_kind"] == "no_links"
    assert health["consecutive_failures"] == 0 and health["last_success_at"]  # read, with a warning


def test_backfill_usage_mistakes_are_one_line(wicnews, sqlite_url, tmp_path):
    assert "give --from DATE and --to DATE" in wicnews("backfill", "--db", sqlite_url).stderr
    bad = wicnews("backfill", "--from", "2024-11-20", "--to", "2024-11-10", "--db", sqlite_url)
    assert bad.returncode == 2 and bad.stderr.strip() == "wicnews: --to 2024-11-10 is before --from 2024-11-20"
    unknown = wicnews("backfill", "--summit", "1999", "--db", sqlite_url)
    assert unknown.returncode == 2 and "no summit 1999" in unknown.stderr and "Traceback" not in unknown.stderr
