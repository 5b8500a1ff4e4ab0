"""Distributed crawls (``wicnews crawl --redis``): several worker processes, one cycle, the real
Redis on 127.0.0.1:6379 (a database number of its own per test) and the real PostgreSQL."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import threading
import urllib.parse
import urllib.request

import pytest
from conftest import AMP_PATH, CHINESE_PATH, FAST, SEED_PATH, SITE_DIR, SLIGHTLY_BROKEN_PATH, UNRELATED_PATH, wait_until

from wicnews import distributed
from wicnews.output.table import runs as runs_table

REDIS = "redis://127.0.0.1:6379"
ARTICLE_PATHS = {SEED_PATH, CHINESE_PATH, SLIGHTLY_BROKEN_PATH, UNRELATED_PATH}
# every worker holds one request at a time, so that "three requests waiting at the gate" means
# "each worker has one". Three workers on a 2-core machine: each extracts in its own process
# (no extraction pool of its own), so the workers do not starve each other of CPU while the
# test waits on them.
WORKER = [*FAST, "-s", "CONCURRENT_REQUESTS=1", "-s", "WICNEWS_EXTRACT_WORKERS=0"]
SCMP_ARTICLES = (SEED_PATH, UNRELATED_PATH, CHINESE_PATH)  # the articles of /feeds/scmp-china.rss


@pytest.fixture
def redis_url(request):
    """A Redis database of the test's own (``@pytest.mark.redis_db(N)``, N in 11-15), empty
    before and after."""
    import redis

    url = f"{REDIS}/{request.node.get_closest_marker('redis_db').args[0]}"
    try:
        server = redis.Redis.from_url(url)
        server.ping()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis must run in CI: {exc}")
        pytest.skip(f"Redis not available: {exc}")
    server.flushdb()
    yield url
    server.flushdb()
    server.close()


def _get(site, path: str):
    with urllib.request.urlopen(site.url(path), timeout=60) as resp:
        return json.load(resp)


class PathGate:
    """The fixture site served from this process, holding the first requests for ``paths``
    until ``release()``; ``holders[path]`` are the User-Agents of the workers that asked."""

    def __init__(self, paths):
        from wicnews.fixture_server import FixtureHandler, FixtureServer

        gate = self
        self.paths, self.holders, self.opened = set(paths), {}, threading.Event()
        self.lock = threading.Lock()

        class Handler(FixtureHandler):
            def do_GET(self) -> None:
                path = urllib.parse.urlsplit(self.path).path
                if path in gate.paths and not gate.opened.is_set():
                    with gate.lock:
                        gate.holders.setdefault(path, []).append(self.headers.get("User-Agent"))
                    gate.opened.wait(120)
                super().do_GET()

        self.server = FixtureServer(SITE_DIR)
        self.server.RequestHandlerClass = Handler
        self.base = self.server.base_url
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    def url(self, path: str) -> str:
        return self.base + path

    def held(self) -> dict[str, list[str]]:
        with self.lock:
            return {path: list(agents) for path, agents in self.holders.items()}

    def release(self) -> None:
        self.opened.set()

    def close(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gate():
    gates: list[PathGate] = []

    def make(*paths: str) -> PathGate:
        gates.append(PathGate(paths))
        return gates[-1]

    yield make
    for g in gates:
        g.close()


def start_worker(tmp_path, n: int, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WICNEWS_")}
    env.update(WICNEWS_HOME=str(tmp_path / f"home{n}"), PYTHONWARNINGS="default")
    with (tmp_path / f"worker{n}.log").open("w") as out:
        return subprocess.Popen([sys.executable, "-m", "wicnews.cli", "crawl", *args, "-s", f"USER_AGENT={agent(n)}"],
                                stdout=out, stderr=subprocess.STDOUT, env=env, cwd=tmp_path, text=True)


def agent(n: int) -> str:
    """The User-Agent of worker ``n``: the gate tells which worker holds a page."""
    return f"wicnews-test-worker-{n}"


def log(tmp_path, n: int) -> str:
    return (tmp_path / f"worker{n}.log").read_text(encoding="utf-8")


def start_three_at_the_gate(site, tmp_path, args) -> list[subprocess.Popen]:
    """Three workers started together; returns once each has a request waiting at the
    fixture server's gate (the caller releases it)."""
    _get(site, "/__hold")
    workers = [start_worker(tmp_path, n, *args) for n in range(3)]
    wait_until(lambda: _get(site, "/__held") == 3 or any(w.poll() is not None for w in workers),
               "a request of each of the three workers at the gate")
    assert all(w.poll() is None for w in workers), [log(tmp_path, n) for n in range(3)]
    return workers


def finish(workers, deadline: float = 180) -> list[int]:
    return [w.wait(timeout=deadline) for w in workers]


def stored(wicnews, db) -> list[str]:
    rows = json.loads(wicnews("new", "--db", db, "--format", "json", "--since", "1d", "--all", check=True).stdout)
    return sorted(r["canonical_url"] for r in rows)


def runs_json(wicnews, db) -> list[dict]:
    return json.loads(wicnews("runs", "--db", db, "--format", "json", check=True).stdout)


@pytest.mark.e2e
@pytest.mark.redis_db(11)
def test_three_workers_share_one_cycle(site, wicnews, pg_url, redis_url, sources_file, tmp_path):
    site.reset()
    args = ["--sources", str(sources_file), "--db", pg_url, "--redis", redis_url, *WORKER]
    try:
        workers = start_three_at_the_gate(site, tmp_path, args)
    finally:
        _get(site, "/__release")
    codes = finish(workers)
    assert codes == [0, 0, 0], [log(tmp_path, n) for n in range(3)]
    logs = [log(tmp_path, n) for n in range(3)]
    assert not any("Traceback" in text or "Warning:" in text for text in logs), logs

    hits = site.hits()
    # every page downloaded by exactly one worker: the redirect loop's pages are asked for
    # again by the loop itself, the server error once more (RETRY_TIMES=1), robots.txt once
    # by each worker
    again = {"/robots.txt", "/bad/loop-a.html", "/bad/loop-b.html", "/bad/server-error.html"}
    once = {path: n for path, n in hits.items() if path not in again}
    assert once and set(once.values()) == {1}, hits
    assert hits["/bad/server-error.html"] == 2 and hits["/bad/loop-a.html"] + hits["/bad/loop-b.html"] == 11, hits
    assert set(hits) >= ARTICLE_PATHS
    assert hits.get("/private/secret.html", 0) == 0  # robots.txt obeyed by every worker

    # every article stored once, as one process stores them
    assert stored(wicnews, pg_url) == sorted(site.url(p) for p in ARTICLE_PATHS)
    runs = runs_json(wicnews, pg_url)
    assert len(runs) == 3 and {r["status"] for r in runs} == {"finished"}
    assert len({r["cycle_id"] for r in runs}) == 1 and runs[0]["cycle_id"]
    # every worker fetched a share (more than its robots.txt)
    assert all(r["pages_fetched"] >= 2 for r in runs), runs
    assert sum(r["articles_new"] for r in runs) == 4
    # the AMP, wire, digest and mirror copies, counted once each whichever worker had which
    # page first (test_the_copies_count_the_same_when_the_amp_page_comes_first)
    assert sum(r["duplicates"] for r in runs) == 4
    errors: dict[str, int] = {}
    for r in runs:
        for kind, count in r["error_counts"].items():
            errors[kind] = errors.get(kind, 0) + count
    assert "store_failed" not in errors, errors  # no deadlock between the workers' store transactions
    # the same errors, counted once each, as in one process (test_crawl's full cycle)
    assert errors["redirect_loop"] == 1 and errors["too_large"] == 1 and errors["http_404"] == 1, errors
    assert errors["skipped_robots"] == 1, errors

    table = wicnews("runs", "--db", pg_url, check=True).stdout
    assert f"cycle {runs[0]['cycle_id']} (3 workers, finished)" in table
    # the cycle ended: nothing left in Redis
    status = wicnews("queue", "status", "--redis", redis_url, check=True).stdout
    assert "no cycle in progress; 0 queued" in status


@pytest.mark.e2e
@pytest.mark.redis_db(12)
def test_a_killed_worker_loses_nothing(gate, wicnews, pg_url, redis_url, tmp_path):
    """A worker killed (SIGKILL) with an article page in hand: the article left the shared
    queue and was claimed in the fingerprint set, so the others cannot do it; they finish
    their share and end the cycle, marked as having lost work. The next cycle reads the
    sources in full (the others stored the feeds' validators: a conditional GET would
    answer 304) and stores that article, counted as new; what was stored is skipped."""
    site = gate(CHINESE_PATH)
    feeds = [arg for feed in ("scmp-china.rss", "asiatechwire.atom", "digest.rdf")
             for arg in ("--feed", site.url(f"/feeds/{feed}"))]
    args = [*feeds, "--db", pg_url, "--redis", redis_url, *WORKER]
    workers = [start_worker(tmp_path, n, *args) for n in range(3)]
    try:
        [holder] = wait_until(lambda: site.held().get(CHINESE_PATH), "a worker holding the Chinese article")
        killed = next(n for n in range(3) if agent(n) == holder)
        workers[killed].send_signal(signal.SIGKILL)
        workers[killed].wait(timeout=60)
    finally:
        site.release()
    survivors = [n for n in range(3) if n != killed]
    assert finish([workers[n] for n in survivors]) == [0, 0], [log(tmp_path, n) for n in survivors]
    assert stored(wicnews, pg_url) == sorted(site.url(p) for p in (SEED_PATH, UNRELATED_PATH))
    status = wicnews("queue", "status", "--redis", redis_url, check=True).stdout
    assert "no cycle in progress; 0 queued" in status and "lost work" in status, status

    # the next cycle does what the killed worker had in hand
    next_cycle = start_worker(tmp_path, 3, *args)
    assert finish([next_cycle]) == [0], log(tmp_path, 3)
    assert "reads the sources (in full: the cycle before lost work)" in log(tmp_path, 3)
    assert stored(wicnews, pg_url) == sorted(site.url(p) for p in SCMP_ARTICLES)
    assert site.server.hits()[CHINESE_PATH] == 2  # once in the killed worker's hands, once done
    runs = runs_json(wicnews, pg_url)
    assert {r["status"] for r in runs} == {"finished", "running"}  # the killed one never finished
    assert len({r["cycle_id"] for r in runs}) == 2
    assert runs[0]["articles_new"] == 1 and runs[0]["error_counts"].get("skipped_not_modified") is None, runs[0]
    status = wicnews("queue", "status", "--redis", redis_url, check=True).stdout
    assert status.strip() == "no cycle in progress; 0 queued request(s)"


@pytest.mark.e2e
@pytest.mark.redis_db(14)
def test_the_last_worker_killed_leaves_a_stale_cycle_that_the_next_resumes(gate, wicnews, pg_url, redis_url, tmp_path):
    """The only worker killed with one article page in hand, two more queued: `wicnews queue
    status` shows the cycle stale once its heartbeat is old; the next process takes it over,
    does the two queued pages and, from the feed read again, the one that was in hand."""
    site = gate(*SCMP_ARTICLES)
    args = ["--feed", site.url("/feeds/scmp-china.rss"), "--db", pg_url, "--redis", redis_url, *WORKER]
    worker = start_worker(tmp_path, 0, *args)
    try:
        [in_hand] = wait_until(lambda: list(site.held()), "the worker holding an article page")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=60)
    finally:
        site.release()
    def stale_status() -> str | None:
        out = wicnews("queue", "status", "--redis", redis_url, check=True).stdout
        return out if " stale: " in out else None

    status = wait_until(stale_status, "the killed worker's heartbeat old enough")
    assert "2 queued request(s), 3 fingerprint(s)" in status, status

    next_cycle = start_worker(tmp_path, 1, *args)
    assert finish([next_cycle]) == [0], log(tmp_path, 1)
    assert "2 request(s) queued: resumed as cycle" in log(tmp_path, 1)
    assert stored(wicnews, pg_url) == sorted(site.url(p) for p in SCMP_ARTICLES)
    hits = site.server.hits()
    assert {p: hits[p] for p in SCMP_ARTICLES} == {p: 2 if p == in_hand else 1 for p in SCMP_ARTICLES}
    latest = runs_json(wicnews, pg_url)[0]
    assert latest["status"] == "finished" and latest["articles_new"] == 3, latest
    status = wicnews("queue", "status", "--redis", redis_url, check=True).stdout
    assert status.strip() == "no cycle in progress; 0 queued request(s)"


@pytest.mark.e2e
def test_redis_needs_postgresql_and_a_reachable_redis(wicnews, sqlite_url, pg_url):
    result = wicnews("crawl", "--feed", "http://127.0.0.1:9/feed.rss", "--db", sqlite_url, "--redis", f"{REDIS}/11")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("wicnews: --redis needs a shared PostgreSQL database")
    result = wicnews("crawl", "--feed", "http://127.0.0.1:9/feed.rss", env={"WICNEWS_REDIS_URL": f"{REDIS}/11"})
    assert result.returncode == 2 and "SQLite cannot be shared" in result.stderr
    result = wicnews("crawl", "--feed", "http://127.0.0.1:9/feed.rss", "--db", pg_url, "--redis", "redis://127.0.0.1:9/0")
    assert result.returncode == 3 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("wicnews: cannot use Redis at redis://127.0.0.1:9/0")


@pytest.mark.e2e
@pytest.mark.redis_db(13)
def test_a_stale_cycle_is_detected_resumed_or_cleared(wicnews, redis_url):
    server = distributed.connect(redis_url)
    crashed = distributed.join_cycle(server, worker="gone:1")
    assert crashed.seeder and not crashed.reread
    crashed._stop.set()  # it dies: no more heartbeats
    keys = distributed.Keys("monitor")
    server.zadd(keys.requests, {b"request-1": 0, b"request-2": 0})
    server.sadd(keys.dupefilter, "fp-request-1", "fp-request-2", "fp-in-hand")  # in-hand: popped, never done
    server.zadd(keys.workers, {"gone:1": 0})
    server.zadd(keys.busy, {"gone:1": 0})

    status = wicnews("queue", "status", "--redis", redis_url, check=True).stdout
    assert f"cycle {crashed.id} stale" in status and "2 queued request(s)" in status

    # the next process takes the stale cycle over: a new id, the queue kept, the fingerprints
    # those of the queued requests only, the sources read again, in full
    resumed = distributed.join_cycle(server, worker="new:2", fingerprint=lambda data: f"fp-{data.decode()}")
    try:
        assert resumed.id != crashed.id and resumed.seeder and resumed.taken_over == 2 and resumed.reread
        assert server.smembers(keys.dupefilter) == {b"fp-request-1", b"fp-request-2"}
        assert distributed.queue_status(server).alive == ["new:2"]
        joined = distributed.join_cycle(server, worker="new:3")  # another process of the same cycle
        joined._stop.set()
        assert joined.id == resumed.id and not joined.seeder and joined.reread
        refused = wicnews("queue", "clear", "--redis", redis_url)
        assert refused.returncode == 2 and "running" in refused.stderr
    finally:
        resumed._stop.set()
    server.zadd(keys.workers, {"new:2": 0, "new:3": 0})  # ... and they die too
    cleared = wicnews("queue", "clear", "--redis", redis_url, check=True).stdout
    assert "2 queued request(s)" in cleared
    # the queue dropped: the next cycle finds its work again in the sources read in full
    assert server.keys("wicnews:*") == [keys.lost.encode()]
    assert "lost work" in wicnews("queue", "status", "--redis", redis_url, check=True).stdout
    after = distributed.join_cycle(server, worker="new:4")
    after._stop.set()
    assert after.seeder and after.reread and not server.exists(keys.lost)
    assert wicnews("queue", "status").returncode == 2  # no Redis URL given


def test_queued_requests_pickle_with_their_sources():
    """scrapy-redis pickles ``request.to_dict()``: callbacks are spider methods, ``cb_kwargs``
    hold the ``Source`` and ``Entry`` dataclasses and, for an AMP page, an ``Article``."""
    import scrapy
    from scrapy.utils.request import request_from_dict
    from scrapy_redis import picklecompat

    from wicnews.feeds import Entry
    from wicnews.items import Article
    from wicnews.sources import adhoc_sources
    from wicnews.spiders.monitor import MonitorSpider

    [source] = adhoc_sources(["http://example.org/feed.rss"], [], [])
    spider = MonitorSpider(source_list=[source])
    article = Article(url="http://example.org/a", source="feed", text="text")
    request = scrapy.Request("http://example.org/a", callback=spider.parse_article, errback=spider._amp_canonical_failed,
                             dont_filter=True, meta={"wicnews_article": True},
                             cb_kwargs={"source": source, "hint": Entry(url="http://example.org/a"), "fallback": article})
    back = request_from_dict(picklecompat.loads(picklecompat.dumps(request.to_dict(spider=spider))), spider=spider)
    assert back.callback == spider.parse_article and back.errback == spider._amp_canonical_failed
    assert back.cb_kwargs == request.cb_kwargs and back.dont_filter and back.meta["wicnews_article"]
    assert pickle.loads(pickle.dumps(source)) == source

    # a stale cycle taken over keeps the claims of its queued requests (``join_cycle``): the
    # fingerprint of a queued request is the one its URL was claimed with (``_claim``)
    from types import SimpleNamespace

    from scrapy_redis.dupefilter import RFPDupeFilter

    from wicnews.spiders.distributed import DistributedMixin

    claims = SimpleNamespace(fingerprints=RFPDupeFilter(server=None, key="k"))
    queued = picklecompat.dumps(request.to_dict(spider=spider))
    assert DistributedMixin._queued_fingerprint(claims, queued) == \
        claims.fingerprints.request_fingerprint(scrapy.Request("http://example.org/a"))
    assert DistributedMixin._queued_fingerprint(claims, b"not a request") is None


def test_runs_of_a_cycle_are_shown_together():
    def run(i, cycle, pages):
        return {"id": i, "status": "finished", "started_at": "2026-11-29T10:00:00", "cycle_id": cycle, "pages_fetched": pages,
                "articles_new": 1, "duplicates": 0, "not_relevant": 0, "errors": 0, "error_counts": {}}

    import io

    out = io.StringIO()
    runs_table([run(4, None, 7), run(3, "C1", 5), run(2, "C1", 6), run(1, None, 1)], out)
    lines = out.getvalue().splitlines()
    assert lines[0].endswith("run #4 finished: 7 pages fetched, 1 new articles, 0 duplicates, 0 not relevant, 0 errors")
    assert "cycle C1 (2 workers, finished): 11 pages fetched, 2 new articles" in lines[1]
    assert lines[2].strip().startswith("- run #3") and lines[3].strip().startswith("- run #2")
    assert "run #1" in lines[4] and len(lines) == 5


def test_scrapy_redis_is_set_per_run_only():
    """Single-process crawls keep Scrapy's scheduler; ``--redis`` sets scrapy-redis's for its run."""
    from scrapy.crawler import Crawler

    from wicnews.config import build_settings
    from wicnews.errors import ConfigError
    from wicnews.spiders.monitor import MonitorSpider

    pg = "postgresql://postgres@127.0.0.1:5432/wicnews"
    alone = Crawler(MonitorSpider, build_settings(pg)).settings
    assert alone["SCHEDULER"] == "scrapy.core.scheduler.Scheduler" and "REDIS_URL" not in alone
    shared = Crawler(MonitorSpider, build_settings(pg, ["-s", "WICNEWS_REDIS_IDLE_SECONDS=7"][1:],
                                                   WICNEWS_REDIS_URL=f"{REDIS}/11")).settings
    assert shared["SCHEDULER"] == "wicnews.redisqueue.SharedScheduler"
    assert shared["DUPEFILTER_CLASS"] == "scrapy_redis.dupefilter.RFPDupeFilter"
    assert shared.getbool("SCHEDULER_PERSIST") and shared["REDIS_URL"] == f"{REDIS}/11"
    assert shared.getint("MAX_IDLE_TIME_BEFORE_CLOSE") == 7
    with pytest.raises(ConfigError, match="needs a shared PostgreSQL"):
        Crawler(MonitorSpider, build_settings("sqlite:///x.db", WICNEWS_REDIS_URL=f"{REDIS}/11"))


@pytest.mark.e2e
def test_the_copies_count_the_same_when_the_amp_page_comes_first(site, wicnews, sqlite_url):
    """What a distributed cycle may do, in one process: the AMP page is read before any source
    has named its canonical page, so it resolves to that page (one item, not two). The AMP
    page is counted as a copy all the same: 1 article, 4 copies, as when the canonical page
    comes first (test_crawl's full cycle)."""
    site.reset()
    feeds = [arg for feed in ("asiatechwire.atom", "digest.rdf", "mirror.rss") for arg in ("--feed", site.url(f"/feeds/{feed}"))]
    wicnews("crawl", *feeds, "--db", sqlite_url, *FAST, check=True)
    assert stored(wicnews, sqlite_url) == [site.url(SEED_PATH)]
    [run] = runs_json(wicnews, sqlite_url)
    assert (run["articles_new"], run["duplicates"]) == (1, 4), run  # AMP, wire, digest, mirror
    assert site.hits()[SEED_PATH] == 1 and site.hits()[AMP_PATH] == 1


# Two stories, no LSH band in common (checked below).
STORY_P = ("Engineers at a Wuzhen data centre began trials of immersion cooling on Monday, lowering racks of servers "
           "into tanks of dielectric fluid.\n\nThe operator said the pilot cut the energy used for cooling by almost "
           "a third during the first week of the summer heat.\n\nA wider roll-out depends on how the fluid ages and "
           "on the price of replacement pumps next year.")
STORY_Q = ("A Hangzhou court fined a ride-hailing platform for collecting passengers' location histories without "
           "consent, the first such ruling in the province.\n\nJudges ordered the company to delete the records and "
           "to publish an apology on its app for thirty days.\n\nLawyers expect other platforms to review how long "
           "they keep trip data after the verdict.")


def _batch(*pages: tuple[str, str]) -> list[tuple]:
    """What the store pipeline writes for these (url, text) pages, as it prepares them."""
    from itemadapter import ItemAdapter

    from wicnews.articles import prepare_item
    from wicnews.items import Article
    from wicnews.pipelines.store import article_row
    from wicnews.urls import url_key

    batch = []
    for url, text in pages:
        adapter = ItemAdapter(prepare_item(Article(url=url, source="src", text=text, title=text.split(",")[0])))
        row = article_row(adapter, None) | {"_hints": {}}
        batch.append((row, {url_key(url): url}, adapter["bands"], None))
    return batch


def test_two_workers_storing_each_others_copies_at_once_count_each_once(pg_url, monkeypatch):
    """Two workers' store transactions at the same moment: one stores story P then story Q,
    the other a copy of Q then a copy of P (other URLs, same texts). Each goes on to its
    second page once the other has stored its first or waits for a lock. Locking each page's
    bands as it came (not the batch's at once, in one order) let each hold what the other
    wanted next: PostgreSQL broke the deadlock by failing one copy (store_failed), counted
    neither as new nor as a duplicate. Now: two articles, two duplicates, no error."""
    import psycopg
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    import wicnews.pipelines.store as store_module
    from wicnews.db import engine as db
    from wicnews.db.articles import StorePolicy
    from wicnews.models import Article

    first = _batch(("http://a.example/p.html", STORY_P), ("http://a.example/q.html", STORY_Q))
    second = _batch(("http://b.example/q-copy.html", STORY_Q), ("http://b.example/p-copy.html", STORY_P))
    assert not set(first[0][2]) & set(first[1][2]), "the two stories must share no band"
    engines = [db.open_database(pg_url) for _ in range(2)]
    started: set[str] = set()
    finished: set[str] = set()
    watcher = psycopg.connect(pg_url, autocommit=True)

    def another_waits_for_a_lock() -> bool:
        return watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                               "AND wait_event_type = 'Lock'").fetchone()[0] > 0

    real = store_module.store_article

    def stepwise(session, values, *args, **kwargs):
        result = real(session, values, *args, **kwargs)
        me = threading.current_thread().name
        if me not in started:
            started.add(me)
            wait_until(lambda: len(started | finished) == 2 or another_waits_for_a_lock(),
                       "the other worker's first page stored, or the other worker waiting for a lock")
        return result

    monkeypatch.setattr(store_module, "store_article", stepwise)
    policy = StorePolicy(near_dup_threshold=0.75, canonical_min_similarity=0.3)
    results: dict[str, list] = {}

    def worker(name: str, engine, batch) -> None:
        try:
            results[name] = store_module.StorePipeline(engine, policy, keep_raw=False)._write(batch)
        finally:
            finished.add(name)

    threads = [threading.Thread(target=worker, name=name, args=(name, engine, batch))
               for name, engine, batch in zip(("one", "two"), engines, (first, second))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        outcomes = [r if isinstance(r, BaseException) else r[1] for name in ("one", "two") for r in results[name]]
        assert sorted(map(str, outcomes)) == ["duplicate", "duplicate", "new", "new"], outcomes
        with Session(engines[0]) as session:
            assert session.scalar(select(func.count()).select_from(Article)) == 2
    finally:
        watcher.close()
        for engine in engines:
            engine.dispose()
