"""Several crawl processes, one cycle: the shared state in Redis that scrapy-redis does not keep.

scrapy-redis (its ``Scheduler``, see ``wicnews.redisqueue``, + ``RFPDupeFilter``) holds the shared
request queue and fingerprint set; ``redis_settings`` sets them for one run (never in
``wicnews.settings``: single-process crawls keep Scrapy's scheduler). Around them, a cycle:

    wicnews:<spider>:requests       the shared request queue (scrapy-redis PriorityQueue)
    wicnews:<spider>:dupefilter     the shared fingerprint set (scrapy-redis RFPDupeFilter)
    wicnews:<spider>:cycle          the id of the cycle in progress (created with SET NX)
    wicnews:<spider>:seeded:<id>    the seed marker of a cycle: SET NX by the process that reads the sources
    wicnews:<spider>:workers        sorted set: worker -> time of its last heartbeat (alive)
    wicnews:<spider>:busy           sorted set: worker -> last time it had requests in hand

A cycle whose workers all stopped beating (killed, machine lost) with requests still queued is
*stale*: the next process to start takes it over (a new cycle id, the queue kept, the sources
read again); ``wicnews queue clear`` drops it instead. The last live worker to leave an empty
queue ends the cycle and deletes its keys.

This module imports redis-py only (no Scrapy): ``wicnews queue`` uses it too.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from wicnews.errors import ConfigError, DatabaseError

if TYPE_CHECKING:
    import redis

logger = logging.getLogger(__name__)

PREFIX = "wicnews"
# A worker beats every HEARTBEAT seconds; one silent for ALIVE_SECONDS is taken for dead.
HEARTBEAT = 1.0
ALIVE_SECONDS = 5.0

# End a cycle (compare-and-delete): only the cycle that is still the current one.
_END_CYCLE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('del', unpack(KEYS))
  return 1
end
return 0
"""
# Take a stale cycle over (compare-and-set): one of the processes starting at once wins.
_TAKE_OVER = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  redis.call('set', KEYS[1], ARGV[2])
  return 1
end
return 0
"""


@dataclass(frozen=True)
class Keys:
    """The Redis keys of one spider's distributed crawls."""

    spider: str

    def _key(self, name: str) -> str:
        return f"{PREFIX}:{self.spider}:{name}"

    @property
    def requests(self) -> str:
        return self._key("requests")

    @property
    def dupefilter(self) -> str:
        return self._key("dupefilter")

    @property
    def cycle(self) -> str:
        return self._key("cycle")

    @property
    def workers(self) -> str:
        return self._key("workers")

    @property
    def busy(self) -> str:
        return self._key("busy")

    def seeded(self, cycle_id: str) -> str:
        return self._key(f"seeded:{cycle_id}")


def check_database(db_url: str) -> None:
    """Workers on several machines share one database: PostgreSQL, never SQLite."""
    if not db_url.strip().lower().startswith(("postgresql", "postgres:")):
        raise ConfigError("--redis needs a shared PostgreSQL database (--db postgresql://...); "
                          "SQLite cannot be shared by several processes or machines")


def redis_settings(redis_url: str, idle_seconds: int) -> dict[str, Any]:
    """The scrapy-redis settings of one distributed run."""
    return {
        "SCHEDULER": "wicnews.redisqueue.SharedScheduler",  # scrapy_redis.scheduler.Scheduler
        # a priority queue: its pop never blocks the reactor (the FIFO queue's BRPOP would)
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
        "SCHEDULER_QUEUE_KEY": f"{PREFIX}:%(spider)s:requests",
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_DUPEFILTER_KEY": f"{PREFIX}:%(spider)s:dupefilter",
        # one worker closing must not flush the queue the others still work on: the cycle's
        # last worker deletes it (``leave``)
        "SCHEDULER_PERSIST": True,
        "SCHEDULER_FLUSH_ON_START": False,
        "SCHEDULER_IDLE_BEFORE_CLOSE": 0,
        "REDIS_URL": redis_url,
        "MAX_IDLE_TIME_BEFORE_CLOSE": idle_seconds,
    }


def connect(url: str) -> redis.Redis:
    """A client of the Redis at ``url``, checked with a PING."""
    import redis

    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"--redis: expected a URL such as redis://HOST:6379/0, got {url!r}")
    try:
        server = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10)
        server.ping()
    except (redis.RedisError, ValueError) as exc:
        raise DatabaseError(f"cannot use Redis at {url}: {exc}") from None
    return server


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def new_cycle_id() -> str:
    """``20261129T111500Z-3fa1``: sortable, unique enough between machines."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(2)


def _text(value: Any) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


@dataclass
class QueueStatus:
    """What Redis holds for one spider's distributed crawls."""

    cycle_id: str | None
    seeded_by: str | None
    queued: int
    fingerprints: int
    alive: list[str]
    busy: list[str]

    @property
    def stale(self) -> bool:
        """A cycle is recorded but no worker is alive: its workers crashed or were killed."""
        return self.cycle_id is not None and not self.alive


def queue_status(server: redis.Redis, spider: str = "monitor") -> QueueStatus:
    keys = Keys(spider)
    now = time.time()
    cycle_id = _text(server.get(keys.cycle))
    return QueueStatus(
        cycle_id=cycle_id,
        seeded_by=_text(server.get(keys.seeded(cycle_id))) if cycle_id else None,
        queued=server.zcard(keys.requests),
        fingerprints=server.scard(keys.dupefilter),
        alive=sorted(_text(w) or "" for w in server.zrangebyscore(keys.workers, now - ALIVE_SECONDS, "+inf")),
        busy=sorted(_text(w) or "" for w in server.zrangebyscore(keys.busy, now - ALIVE_SECONDS, "+inf")),
    )


def clear_queue(server: redis.Redis, spider: str = "monitor", force: bool = False) -> QueueStatus:
    """Drop the cycle, its queue and fingerprints; refused while workers are alive unless ``force``.
    Returns what was there."""
    status = queue_status(server, spider)
    if status.alive and not force:
        raise ConfigError(f"{len(status.alive)} worker(s) of cycle {status.cycle_id} are running "
                          f"({', '.join(status.alive)}); stop them first, or clear with --force")
    keys = Keys(spider)
    stale_markers = list(server.scan_iter(match=keys.seeded("*")))
    server.delete(keys.requests, keys.dupefilter, keys.cycle, keys.workers, keys.busy, *stale_markers)
    return status


@dataclass
class Cycle:
    """One process's part in a distributed cycle."""

    server: redis.Redis
    keys: Keys
    id: str
    worker: str
    seeder: bool
    taken_over: int = 0  # requests left queued by a crashed cycle, now this one's
    busy: bool = False  # requests in hand (the spider sets it); the seeder is busy from the start
    _stop: threading.Event | None = None

    def start_beating(self) -> None:
        """Beat every ``HEARTBEAT`` seconds from a thread until ``leave``: a worker whose
        reactor is busy (starting, extracting a long page) is still alive."""
        self._stop = stop = threading.Event()

        def run() -> None:
            while not stop.wait(HEARTBEAT):
                try:
                    self.beat()
                except Exception as exc:  # a Redis hiccup must not end the beat
                    logger.warning("cycle %s: heartbeat failed: %s", self.id, exc)

        threading.Thread(target=run, name="wicnews-heartbeat", daemon=True).start()

    def beat(self, busy: bool | None = None) -> None:
        """Heartbeat: alive, and busy or not."""
        if busy is not None:
            self.busy = busy
        busy = self.busy
        now = time.time()
        with self.server.pipeline(transaction=False) as pipe:
            pipe.zadd(self.keys.workers, {self.worker: now})
            if busy:
                pipe.zadd(self.keys.busy, {self.worker: now})
            else:
                pipe.zrem(self.keys.busy, self.worker)
            pipe.execute()

    def queued(self) -> int:
        return self.server.zcard(self.keys.requests)

    def others_busy(self) -> int:
        """How many other live workers have requests in hand (their callbacks may queue more)."""
        busy = self.server.zrangebyscore(self.keys.busy, time.time() - ALIVE_SECONDS, "+inf")
        return sum(1 for w in busy if _text(w) != self.worker)

    def leave(self) -> bool:
        """This worker is done. The last live one, with the queue empty, ends the cycle
        (deletes its keys). Returns whether it did."""
        if self._stop is not None:
            self._stop.set()
        with self.server.pipeline(transaction=False) as pipe:
            pipe.zrem(self.keys.workers, self.worker)
            pipe.zrem(self.keys.busy, self.worker)
            pipe.execute()
        if self.server.zcount(self.keys.workers, time.time() - ALIVE_SECONDS, "+inf") or self.queued():
            return False
        keys = self.keys
        ended = self.server.eval(_END_CYCLE, 6, keys.cycle, keys.requests, keys.dupefilter, keys.workers, keys.busy,
                                 keys.seeded(self.id), self.id)
        return bool(ended)


def join_cycle(server: redis.Redis, spider: str = "monitor", worker: str | None = None) -> Cycle:
    """Join the cycle in progress, or start one. The first process of a cycle wins its seed
    marker (``SET NX``) and reads the sources; the others take requests from the queue. A
    stale cycle (no worker alive) is taken over: its queue is kept, the sources are read again."""
    keys = Keys(spider)
    worker = worker or worker_id()
    taken_over = 0
    for _ in range(10):  # the last worker of a cycle may end it between our reads: try again
        status = queue_status(server, spider)
        if status.stale and status.cycle_id:
            fresh = new_cycle_id()
            if server.eval(_TAKE_OVER, 1, keys.cycle, status.cycle_id, fresh):
                server.delete(keys.seeded(status.cycle_id), keys.workers, keys.busy)
                taken_over = status.queued
                logger.warning("cycle %s was left by workers that stopped beating, %d request(s) queued: "
                               "resumed as cycle %s (`wicnews queue clear` drops such a queue instead)",
                               status.cycle_id, status.queued, fresh)
        server.set(keys.cycle, new_cycle_id(), nx=True)
        cycle_id = _text(server.get(keys.cycle))
        if cycle_id:
            break
    else:  # pragma: no cover - ten cycles ending in a row
        raise DatabaseError("could not join a distributed cycle in Redis")
    cycle = Cycle(server, keys, cycle_id, worker, seeder=False, taken_over=taken_over)
    # the seeder counts as busy from the start: the others wait for its first requests
    cycle.seeder = bool(server.set(keys.seeded(cycle_id), worker, nx=True))
    cycle.beat(busy=cycle.seeder)
    cycle.start_beating()
    logger.info("cycle %s: %s %s", cycle_id, worker, "reads the sources" if cycle.seeder else "joins")
    return cycle
