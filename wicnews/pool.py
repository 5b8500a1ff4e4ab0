"""Extraction in worker processes, off the crawl's reactor thread.

    pool = ExtractPool(workers=2, timeout=60.0, function="wicnews.extract:extract_article")
    future = pool.submit(body, url, headers, options)   # a concurrent.futures.Future
    future.result()                                      # function(body, url, headers, **options), or PageError
    pool.close()

``ProcessPoolExecutor`` cannot stop a running task, so the pool manages its own workers:
each worker process has a slot thread in this process that hands it one page at a time over
a pipe and waits for the answer at most ``timeout`` seconds. A page that takes longer is
abandoned (``PageError(EXTRACT_TIMEOUT)``) and its worker killed and replaced; a worker
that dies on a page (a segfault in a C library, ``os._exit``, the OOM killer) gives
``PageError(EXTRACT_FAILED)`` and is replaced. An exception raised by the extraction
function comes back as ``PageError`` (its own, or ``EXTRACT_FAILED`` with the traceback).

``max_in_flight`` (default 4 per worker) is the number of pages the caller should hand over
at once; ``submit`` itself never blocks (``wicnews.extraction`` holds the semaphore).

Workers start from a forkserver that has imported the extraction function once, so a
replacement worker is ready in milliseconds, not after a second of imports. A crawl starts that
server first thing (``start_server``), so that its imports run beside the crawl's own start-up;
a worker is forked when its slot gets its first page (a crawl with nothing to extract forks
none), and ``close`` stops the workers and the server at once (a server still importing is
killed: nothing waits for it). The pool imports no Scrapy and no trafilatura itself.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from wicnews.errors import ErrorKind, PageError

logger = logging.getLogger(__name__)

DEFAULT_FUNCTION = "wicnews.extract:extract_article"
# What a crawl's workers run (``wicnews.extraction``): the extraction and every pure step after it.
PREPARE = "wicnews.articles:crawled_page"


def resolve(path: str) -> Callable[..., Any]:
    """The function named ``module:attribute``."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def default_workers() -> int:
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _server_modules(function: str, preload: str) -> list[str]:
    return ["wicnews.pool", "wicnews.pool_warmup", *(name.partition(":")[0] for name in (function, preload) if name)]


_preloaded: list[str] = []  # the modules of the server running now


def start_server(function: str = DEFAULT_FUNCTION, preload: str = "") -> None:
    """Start the forkserver the workers fork from, preloading (and warming up) ``function``
    and ``preload``: it imports them while the caller goes on with its own start-up. Returns
    at once. A server that runs already is kept if it preloads the same, else replaced.

    The server ignores Ctrl-C from its first instruction: the terminal sends it to the whole
    crawl, whose process handles it (and stops the server); the server must not die of it
    mid-import, with a traceback."""
    from multiprocessing import forkserver

    modules = _server_modules(function, preload)
    if _preloaded and _preloaded != modules:
        stop_server(kill=True)
    multiprocessing.get_context("forkserver").set_forkserver_preload(modules)
    with _sigint_ignored_by_children():
        forkserver.ensure_running()
    _preloaded[:] = modules


@contextlib.contextmanager
def _sigint_ignored_by_children():
    """Processes started inside start with SIGINT ignored (an ignored signal stays ignored
    across exec, and Python leaves it so). This process gets a Ctrl-C of that moment once
    it is over: blocked meanwhile, it waits; it is not lost."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is None:
        yield  # signal.signal only works here, and can only restore a handler set from Python
        return
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    handler = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def stop_server(kill: bool = False, grace: float = 2.0) -> None:
    """Stop the forkserver (once its workers are gone): at once with ``kill`` (it may still
    be importing), else after at most ``grace`` seconds. Its output pipes are the caller's, so
    a server left behind would keep whoever reads them waiting."""
    from multiprocessing import forkserver

    server: Any = forkserver._forkserver  # the standard library's: no public stop
    with server._lock:
        pid = server._forkserver_pid
        if pid is None:
            return
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        os.close(server._forkserver_alive_fd)  # its "alive" pipe closes: it exits once its workers have
        deadline = time.monotonic() + grace
        with contextlib.suppress(ChildProcessError):  # reaped already
            while not os.waitpid(pid, os.WNOHANG)[0]:
                if time.monotonic() > deadline:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    break
                time.sleep(0.005)
        with contextlib.suppress(OSError):
            os.unlink(server._forkserver_address)
        server._forkserver_pid = server._forkserver_alive_fd = server._forkserver_address = None
        _preloaded.clear()


def _serve(conn, function_path: str) -> None:
    """A worker's loop: one page in, one answer out, until told to stop (``None``)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the crawl's to handle
    function = resolve(function_path)
    conn.send(("ready", None))
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        body, url, headers, options = task
        try:
            answer: tuple = ("ok", function(body, url, headers, **options))
        except PageError as exc:
            answer = ("page_error", (str(exc.kind), str(exc)))
        except Exception as exc:  # a bug in extraction must not end the worker
            answer = ("failed", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}")
        conn.send(answer)


class _Worker:
    """One worker process and its end of the pipe."""

    def __init__(self, context, function_path: str):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, function_path), daemon=True, name="wicnews-extract")
        self.process.start()
        child.close()
        self.ready = False

    def wait_ready(self) -> None:
        """Until the worker has imported its function (raises EOFError if it died doing so)."""
        while not self.ready:
            if self.conn.poll(1.0):
                self.conn.recv()
                self.ready = True
            elif not self.process.is_alive():
                raise EOFError("the worker died while starting")

    def stop(self, kill: bool = False, grace: float = 2.0) -> None:
        """Tell the worker to stop (it exits as soon as it reads that) and wait at most
        ``grace`` seconds before killing it; ``kill``: at once."""
        if not kill:
            with contextlib.suppress(OSError):
                self.conn.send(None)
            self.process.join(grace)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


class ExtractPool:
    """``workers`` extraction processes, each page limited to ``timeout`` seconds."""

    def __init__(self, workers: int, timeout: float, max_in_flight: int = 0, function: str = DEFAULT_FUNCTION,
                 on_replace: Callable[[str], None] | None = None, preload: str = ""):
        self.timeout = timeout
        self.function = function
        self.on_replace = on_replace
        self.max_in_flight = max_in_flight if max_in_flight > 0 else 4 * workers
        self._tasks: queue.Queue = queue.Queue()
        self._context = multiprocessing.get_context("forkserver")
        start_server(function, preload)  # unless the caller did already (``start_server``)
        self._closed = False
        self._forked = False  # has the server forked a worker yet (then it has finished importing)
        self._busy: set[_Worker] = set()  # the workers extracting a page now
        self._threads = [threading.Thread(target=self._slot, name=f"wicnews-extract-{i}", daemon=True)
                         for i in range(max(1, workers))]
        for thread in self._threads:
            thread.start()

    def submit(self, body: bytes, url: str, headers: dict[str, str], options: dict[str, Any]) -> Future:
        """Queue one page; the future holds its ``Extracted`` or raises ``PageError``."""
        if self._closed:
            raise RuntimeError("the extraction pool is closed")
        future: Future = Future()
        self._tasks.put((future, (body, url, headers, options)))
        return future

    def close(self, grace: float = 2.0) -> None:
        """Stop the workers and their server. Pages still queued fail as ``EXTRACT_FAILED``;
        a page still being extracted after ``grace`` seconds is abandoned (its worker killed)."""
        if self._closed:
            return
        self._closed = True
        if not self._forked:  # the server may still be importing: nothing to wait for
            stop_server(kill=True)
        for _ in self._threads:
            self._tasks.put(None)
        deadline = time.monotonic() + grace
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        for worker in list(self._busy):  # its slot sees it die, abandons the page and stops
            with contextlib.suppress(OSError):
                worker.process.kill()
        for thread in self._threads:
            thread.join(grace)
        stop_server(grace=grace)

    # --- the slot threads ------------------------------------------------------------------

    def _slot(self) -> None:
        worker: _Worker | None = None
        try:
            while True:
                task = self._tasks.get()
                if task is None:
                    break
                future, page = task
                if not future.set_running_or_notify_cancel():
                    continue
                if self._closed:
                    future.set_exception(PageError(ErrorKind.EXTRACT_FAILED, "the extraction pool was closed"))
                    continue
                try:
                    worker = worker or self._fork()  # forked with the slot's first page
                except Exception as exc:
                    future.set_exception(PageError(ErrorKind.EXTRACT_FAILED, f"no extraction worker: {exc}"))
                    if self._closed:
                        continue
                    raise
                result, worker = self._run(worker, page)
                if worker is None and not self._closed:  # killed: its replacement starts now, not with the next page
                    worker = self._fork()
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)
        except Exception:  # the slot itself must never die silently with pages queued
            logger.exception("extraction slot failed")
        finally:
            if worker is not None:
                worker.stop()

    def _fork(self) -> _Worker:
        worker = _Worker(self._context, self.function)
        self._forked = True
        return worker

    def _run(self, worker: _Worker, page: tuple) -> tuple[Any, _Worker | None]:
        """One page on ``worker``: (result or PageError, the worker to use next)."""
        url = page[1]
        self._busy.add(worker)
        try:
            worker.wait_ready()  # start-up imports are not the page's time
            worker.conn.send(page)
            if worker.conn.poll(self.timeout):
                status, value = worker.conn.recv()
            else:
                worker.stop(kill=True)
                self._replaced("timeout", url)
                return PageError(ErrorKind.EXTRACT_TIMEOUT, f"extraction took longer than {self.timeout:g} s"), None
        except (EOFError, OSError, BrokenPipeError):
            worker.process.join(5)
            code = worker.process.exitcode
            worker.stop(kill=True)
            if self._closed:  # killed by ``close``: abandoned, not replaced
                return PageError(ErrorKind.EXTRACT_FAILED, "the extraction pool was closed"), None
            self._replaced("crash", url)
            return PageError(ErrorKind.EXTRACT_FAILED, f"extraction worker died (exit code {code})"), None
        finally:
            self._busy.discard(worker)
        if status == "ok":
            return value, worker
        if status == "page_error":
            kind, message = value
            return PageError(kind, message), worker
        logger.error("extraction crashed on <%s>: %s", url, value)
        return PageError(ErrorKind.EXTRACT_FAILED, "extraction crashed: " + value.splitlines()[0]), worker

    def _replaced(self, why: str, url: str) -> None:
        logger.warning("extraction worker replaced after a %s on <%s>", why, url)
        if self.on_replace is not None:
            self.on_replace(why)
