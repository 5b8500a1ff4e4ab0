"""Run one monitoring cycle in this process: ``run_crawl(settings, sources) -> CrawlResult``.

The CLI, the demo and the tests call this; the scheduler runs ``wicnews crawl`` in a
subprocess per cycle (a Twisted reactor cannot be restarted in one process).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from wicnews.errors import ConfigError, DatabaseError

if TYPE_CHECKING:
    from scrapy.settings import Settings

    from wicnews.sources import Source


@dataclass
class CrawlResult:
    """How a crawl ended: its run row's id, status and counts (the ``runs`` columns)."""

    run_id: int | None
    status: str  # finished, failed, interrupted, skipped, unknown (no run recorded), or Scrapy's close reason
    counts: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Finished, or skipped because another crawl was already at it."""
        return self.status in ("finished", "skipped")


def crawl_sources(settings: Settings, feeds=(), sitemaps=(), pages=()) -> list[Source]:
    """The sources of a crawl: those given on the command line, else the sources file's."""
    from wicnews.sources import adhoc_sources, load_sources

    return adhoc_sources(feeds, sitemaps, pages) or load_sources(settings.get("WICNEWS_SOURCES"))


_stop_signals: list[int] = []


def _remember(signum, _frame) -> None:
    _stop_signals.append(signum)


def defer_stop_signals() -> None:
    """From here until Scrapy installs its own handlers, SIGTERM and SIGINT are remembered
    instead of ending the process: ``run_crawl`` first writes the run row, then acts on them
    (the run says ``interrupted``). Call it as early as possible in a crawl process."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, _remember)


def _after_start(crawler) -> None:
    """Once the reactor runs, Scrapy's signal handlers are in place: wrap them so that a stop
    first drops the downloads still waiting in the downloader's queues (with a download
    delay, a graceful stop would otherwise wait for each one); then send again a stop asked
    for during start-up, so Scrapy stops the crawl gracefully."""
    import os
    import signal

    from twisted.internet import reactor

    for sig in (signal.SIGTERM, signal.SIGINT):
        scrapy_handler = signal.getsignal(sig)
        if callable(scrapy_handler):
            def handler(signum, frame, _scrapy=scrapy_handler):
                reactor.callFromThread(_drop_queued, crawler)
                _scrapy(signum, frame)

            signal.signal(sig, handler)
    if _stop_signals:
        os.kill(os.getpid(), _stop_signals[0])


def _drop_queued(crawler) -> None:
    """Fail the requests queued in the downloader with ``Stopped`` (``skipped_stopped``);
    those that come later are refused by ``wicnews.polling.SourcePolling``."""
    from twisted.python.failure import Failure

    from wicnews.failures import Stopped

    crawler.wicnews_stopping = True
    try:
        slots = crawler.engine.downloader.slots
    except (AttributeError, RuntimeError):  # no engine yet
        return
    for slot in list(slots.values()):
        while slot.queue:
            _request, deferred = slot.queue.popleft()
            deferred.errback(Failure(Stopped("the crawl was stopped before this download")))


def _record(engine, sources: list[Source], status: str, counts: dict | None = None) -> int:
    from sqlalchemy.orm import Session

    from wicnews.db import runs

    with Session(engine) as session, session.begin():
        run_id = runs.start_run(session, "monitor", [s.name for s in sources])
        if status != "running":
            runs.finish_run(session, run_id, status, counts or {})
    return run_id


def _finish(engine, run_id: int, status: str) -> None:
    from sqlalchemy.orm import Session

    from wicnews.db import runs

    with Session(engine) as session, session.begin():
        runs.finish_run(session, run_id, status, {})


def run_crawl(settings: Settings, sources: list[Source], **spider_args) -> CrawlResult:
    """Crawl ``sources``: see ``_run_crawl``. The extraction workers' server starts first, so
    that it imports the extraction while this process starts the crawl; the cyclic garbage
    collector waits until the crawl runs (start-up makes objects that live as long as the
    process: tracing them again and again is wasted time)."""
    import gc

    from wicnews.extraction import start_workers
    from wicnews.pool import stop_server

    defer_stop_signals()
    collecting = gc.isenabled()
    gc.disable()
    try:
        start_workers(settings)
        return _run_crawl(settings, sources, spider_args, collecting)
    finally:
        stop_server(kill=True)  # the crawl is over (its pool stopped it), or never started
        if collecting:
            gc.enable()


def _run_crawl(settings: Settings, sources: list[Source], spider_args: dict, collecting: bool) -> CrawlResult:
    """Crawl ``sources`` with ``settings`` (see ``wicnews.config.build_settings``). The
    database is opened (and its schema checked) once, before the crawl, and shared by every
    component. ``spider_args`` go to the spider (``backfill=``, see ``wicnews.backfill``).
    Raises ``ConfigError`` or ``DatabaseError`` before anything is fetched.

    The run row is written first, before anything that a signal can interrupt. Then the
    crawl takes the lock of its sources (``wicnews.db.locks``): when another crawl holds it,
    the run is recorded as ``skipped`` and the result is ok (nothing to do). The workers of a
    distributed cycle (``WICNEWS_REDIS_URL``) take no lock: Redis coordinates them (the first
    seeds the sources, the others join), and together they are one crawl."""
    import logging

    from sqlalchemy.exc import SQLAlchemyError

    from wicnews.config import parse_spans
    from wicnews.db.engine import open_database, reason, safe_url
    from wicnews.db.locks import crawl_lock, sources_key
    from wicnews.topic import load_topic

    defer_stop_signals()
    if not sources:
        raise ConfigError("no enabled sources to crawl")
    parse_spans(settings.get("WICNEWS_RECHECK_AFTER"), "WICNEWS_RECHECK_AFTER")  # a mistake stops here, not mid-crawl
    load_topic(settings.get("WICNEWS_TOPIC") or None)  # so does a bad topic file, before the database is made
    if redis_url := settings.get("WICNEWS_REDIS_URL"):  # a distributed crawl: PostgreSQL, a reachable Redis
        from wicnews.distributed import check_database, connect

        check_database(settings.get("WICNEWS_DATABASE_URL") or "")
        connect(redis_url).close()
    engine = open_database(settings.get("WICNEWS_DATABASE_URL"), auto_upgrade=settings.getbool("WICNEWS_AUTO_UPGRADE"))
    try:
        run_id = _record(engine, sources, "running")
        if _stop_signals:
            _finish(engine, run_id, "interrupted")
            return CrawlResult(run_id=run_id, status="interrupted")
        if redis_url:
            return _crawl(settings, sources, engine, run_id, spider_args, collecting)
        with crawl_lock(engine, sources_key(s.url for s in sources)) as held:
            if not held:
                logging.getLogger(__name__).warning(
                    "another crawl holds the lock on these %d source(s): run #%d skipped", len(sources), run_id)
                _finish(engine, run_id, "skipped")
                return CrawlResult(run_id=run_id, status="skipped")
            return _crawl(settings, sources, engine, run_id, spider_args, collecting)
    except SQLAlchemyError as exc:  # the run row cannot be written (a full disk, a lost server): one line
        raise DatabaseError(f"cannot record the run in database {safe_url(str(engine.url))}: {reason(exc)}") from exc
    finally:
        engine.dispose()


# Scrapy components that raise NotConfigured unless a setting turns them on. When it is off
# they are left out of the component lists, not imported for nothing (the remote control
# imports aiohttp; the cookies middleware tldextract and requests).
OPTIONAL_COMPONENTS = {
    "EXTENSIONS": {"scrapy.extensions.remote_control.RemoteControl": "REMOTE_CONTROL_ENABLED",
                   "scrapy.extensions.telnet.TelnetConsole": "TELNETCONSOLE_ENABLED"},
    "DOWNLOADER_MIDDLEWARES": {"scrapy.downloadermiddlewares.cookies.CookiesMiddleware": "COOKIES_ENABLED"},
}


def crawl_settings(settings: Settings) -> Settings:
    """``settings`` as the crawl's process uses them: the components turned off left out
    (``OPTIONAL_COMPONENTS``), and only the monitor spider's module to import (not the
    distributed variant's, which imports scrapy-redis; ``MonitorSpider`` composes it on demand)."""
    settings = settings.copy()
    for name, components in OPTIONAL_COMPONENTS.items():
        off = {path for path, enabling in components.items() if not settings.getbool(enabling)}
        for key in (f"{name}_BASE", name):
            kept = {path: order for path, order in settings.getdict(key).items() if path not in off}
            settings.set(key, kept, priority=settings.getpriority(key) or 0)
    settings.set("SPIDER_MODULES", ["wicnews.spiders.monitor"], priority="cmdline")
    return settings


@contextmanager
def _stack_without_source():
    """``inspect.stack()`` gives the frames without their source lines. Importing Scrapy's
    download handler makes deprecated aliases, and each asks ``inspect.stack()`` for the
    module that makes it: reading and placing the source of every frame on a deep stack of
    imports takes a fifth of a second. Only the frames are used."""
    import inspect
    import sys
    from types import FrameType

    def frames(context: int = 1) -> list[inspect.FrameInfo]:
        frame: FrameType | None = sys._getframe(1)
        records = []
        while frame is not None:
            records.append(inspect.FrameInfo(frame, frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name,
                                             None, None))
            frame = frame.f_back
        return records

    stack, inspect.stack = inspect.stack, frames
    try:
        yield
    finally:
        inspect.stack = stack


def _crawl(settings: Settings, sources: list[Source], engine, run_id: int, spider_args: dict,
           collecting: bool) -> CrawlResult:
    import gc

    with _stack_without_source():
        import scrapy.core.downloader.handlers.http11  # noqa: F401  (the downloader's, imported here)
    from scrapy.crawler import CrawlerProcess

    from wicnews.crawldb import attach_engine
    from wicnews.db.runs import run_counts
    from wicnews.runlog import adopt_run

    process = CrawlerProcess(crawl_settings(settings))
    crawler = process.create_crawler("monitor")
    attach_engine(crawler, engine)
    adopt_run(crawler, run_id)
    process.crawl(crawler, source_list=sources, **spider_args)
    from twisted.internet import reactor  # installed by now (create_crawler)

    reactor.callWhenRunning(reactor.callLater, 0, _after_start, crawler)  # after Scrapy's handlers
    reactor.callWhenRunning(gc.freeze)  # what start-up made lives on: never traced again
    if collecting:
        reactor.callWhenRunning(gc.enable)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    status = stats.get("wicnews/status")
    if status is None:  # the spider never closed (stopped or broken while opening): close the run here
        status = "interrupted" if _stop_signals else "failed"
        _finish(engine, run_id, status)
    return CrawlResult(run_id=run_id, status=status, counts=run_counts(stats))


def record_run_of_args(argv: list[str], status: str) -> int:
    """Record a run of ``wicnews crawl ARGV`` that never got to record itself (the
    scheduler's crawl died of a signal during start-up); returns its id."""
    import argparse

    from wicnews.commands import add_source_options
    from wicnews.config import build_settings
    from wicnews.db.engine import open_database

    parser = argparse.ArgumentParser(prog="wicnews crawl", add_help=False, exit_on_error=False)
    add_source_options(parser)
    try:
        args, _ = parser.parse_known_args(argv)
    except (argparse.ArgumentError, SystemExit):
        raise ConfigError(f"not crawl arguments: {argv}") from None
    settings = build_settings(args.db, args.set, WICNEWS_SOURCES=args.sources)
    engine = open_database(settings.get("WICNEWS_DATABASE_URL"), auto_upgrade=settings.getbool("WICNEWS_AUTO_UPGRADE"))
    try:
        return _record(engine, crawl_sources(settings, args.feed, args.sitemap, args.page), status)
    finally:
        engine.dispose()
