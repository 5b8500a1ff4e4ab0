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
    wicnews:<spider>:lost           set when a cycle lost work (a worker died in it, a stale
                                    cycle was taken over or cleared): the next cycle reads
                                    its sources in full (``reread:<id>``, no conditional GET)

A worker is *busy* from the moment it pops a request (one script: the request leaves the
queue and the worker enters ``busy`` at once) until its engine is idle again. A worker with
nothing in hand leaves as soon as the queue is empty and no other worker is busy (after
``MAX_IDLE_TIME_BEFORE_CLOSE`` seconds, ``WICNEWS_REDIS_IDLE_SECONDS``, default 0): nobody is
left who could queue more. The last live worker to leave ends the cycle and deletes its keys.

A worker killed with requests in hand takes them with it (popped from the queue, claimed in
the fingerprint set). A cycle whose workers all stopped beating (killed, machine lost) is
*stale*: the next process to start takes it over: a new cycle id, the queue kept, the
fingerprint set rebuilt from the queued requests alone, the sources read again, so that what
the dead workers had in hand is claimed and fetched again (what was stored is skipped by the
skip-seen store). A cycle that ends with workers that never left, or is taken over or
cleared, marks ``lost``: the next cycle reads its sources in full (no conditional GET: the
others stored the validators of the feeds whose articles the dead worker had in hand).
``wicnews queue clear`` drops a stale cycle instead of resuming it.

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
    from collections.abc import Callable

    import redis

logger = logging.getLogger(__name__)

PREFIX = "wicnews"
# A worker beats every HEARTBEAT seconds; one silent for ALIVE_SECONDS is taken for dead.
HEARTBEAT = 1.0
ALIVE_SECONDS = 5.0

# End a cycle: only the cycle that is still the current one, with no live worker (heartbeat
# since ARGV[2]) and nothing queued. Workers that never left died in it: its work is lost.
_END_CYCLE = """
if redis.call('get', KEYS[1]) ~= ARGV[1] or redis.call('zcount', KEYS[4], ARGV[2], '+inf') > 0
    or redis.call('zcard', KEYS[2]) > 0 then
  return 0
end
if redis.call('zcard', KEYS[4]) > 0 then
  redis.call('set', KEYS[8], ARGV[1])
end
redis.call('del', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7])
return 1
"""
# Take a stale cycle over (compare-and-set): one of the processes starting at once wins. Its
# fingerprint set becomes that of the queued requests (ARGV[3...]): what the dead workers had
# in hand is not claimed any more.
_TAKE_OVER = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('set', KEYS[1], ARGV[2])
redis.call('set', KEYS[6], ARGV[1])
redis.call('del', KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[7])
for i = 3, #ARGV, 5000 do
  redis.call('sadd', KEYS[5], unpack(ARGV, i, math.min(i + 4999, #ARGV)))
end
return 1
"""
# Win a cycle's seed marker; the winner turns a lost cycle's mark into this cycle's reread
# marker, which the others read (the same step: none of them can miss it).
_SEED = """
local won = redis.call('set', KEYS[1], ARGV[1], 'NX')
if won and redis.call('get', KEYS[3]) then
  redis.call('set', KEYS[2], '1')
  redis.call('del', KEYS[3])
end
return {won and 1 or 0, redis.call('get', KEYS[2]) and 1 or 0}
"""
# Pop the first request of the shared queue (a sorted set, scrapy-redis PriorityQueue) and
# mark the worker busy in one step: no moment when a request is neither queued nor in the
# hands of a busy worker.
_POP = """
local first = redis.call('zrange', KEYS[1], 0, 0)
if #first == 0 then
  return false
end
redis.call('zremrangebyrank', KEYS[1], 0, 0)
redis.call('zadd', KEYS[2], ARGV[1], ARGV[2])
redis.call('zadd', KEYS[3], ARGV[1], ARGV[2])
return first[1]
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

    @property
    def lost(self) -> str:
        return self._key("lost")

    def seeded(self, cycle_id: str) -> str:
        return self._key(f"seeded:{cycle_id}")

    def reread(self, cycle_id: str) -> str:
        return self._key(f"reread:{cycle_id}")


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
    lost: str | None = None  # the cycle that lost work: the next one reads its sources in full

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
        lost=_text(server.get(keys.lost)),
    )


def clear_queue(server: redis.Redis, spider: str = "monitor", force: bool = False) -> QueueStatus:
    """Drop the cycle, its queue and fingerprints; refused while workers are alive unless ``force``.
    What was dropped is lost work: the next cycle reads its sources in full. Returns what was there."""
    status = queue_status(server, spider)
    if status.alive and not force:
        raise ConfigError(f"{len(status.alive)} worker(s) of cycle {status.cycle_id} are running "
                          f"({', '.join(status.alive)}); stop them first, or clear with --force")
    keys = Keys(spider)
    stale_markers = [*server.scan_iter(match=keys.seeded("*")), *server.scan_iter(match=keys.reread("*"))]
    if status.cycle_id or status.queued:
        server.set(keys.lost, status.cycle_id or "cleared")
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
    reread: bool = False  # the cycle before lost work: read the sources in full
    busy: bool = False  # requests in hand: from a pop (``pop``) until the engine is idle (``settle``); the seeder from the start
    _stop: threading.Event | None = None

    def start_beating(self) -> None:
        """Beat every ``HEARTBEAT`` seconds from a thread until ``leave``: a worker whose
        reactor is busy (starting, extracting a long page) is still alive, and still busy."""
        self._stop = stop = threading.Event()

        def run() -> None:
            while not stop.wait(HEARTBEAT):
                try:
                    self.beat()
                except Exception as exc:  # a Redis hiccup must not end the beat
                    logger.warning("cycle %s: heartbeat failed: %s", self.id, exc)

        threading.Thread(target=run, name="wicnews-heartbeat", daemon=True).start()

    def beat(self, busy: bool | None = None) -> None:
        """Heartbeat: alive, and busy (True), idle (False), or as it was (None: the heartbeat
        thread only refreshes a busy mark, ``ZADD XX``, so that it never undoes a ``settle``
        or a ``pop`` of the reactor thread)."""
        if busy is not None:
            self.busy = busy
        now = time.time()
        with self.server.pipeline(transaction=False) as pipe:
            pipe.zadd(self.keys.workers, {self.worker: now})
            if busy is False:
                pipe.zrem(self.keys.busy, self.worker)
            else:
                pipe.zadd(self.keys.busy, {self.worker: now}, xx=busy is None)
            pipe.execute()

    def pop(self) -> bytes | None:
        """The first queued request (encoded), this worker busy from now on; None when the queue is empty."""
        data = self.server.eval(_POP, 3, self.keys.requests, self.keys.busy, self.keys.workers, time.time(), self.worker)
        if data is None:
            return None
        self.busy = True
        return data

    def queued(self) -> int:
        return self.server.zcard(self.keys.requests)

    def others_busy(self) -> int:
        """How many other live workers have requests in hand (their callbacks may queue more)."""
        busy = self.server.zrangebyscore(self.keys.busy, time.time() - ALIVE_SECONDS, "+inf")
        return sum(1 for w in busy if _text(w) != self.worker)

    def settle(self) -> tuple[int, int]:
        """This worker has nothing in hand: it is marked idle. Returns ``(queued requests, other
        workers busy)``, in the same round trip."""
        self.busy = False
        now = time.time()
        with self.server.pipeline(transaction=False) as pipe:
            pipe.zadd(self.keys.workers, {self.worker: now})
            pipe.zrem(self.keys.busy, self.worker)
            pipe.zcard(self.keys.requests)
            pipe.zrangebyscore(self.keys.busy, now - ALIVE_SECONDS, "+inf")
            *_, queued, busy = pipe.execute()
        return queued, sum(1 for w in busy if _text(w) != self.worker)

    def leave(self) -> bool:
        """This worker is done. The last live one, with the queue empty, ends the cycle
        (deletes its keys). Returns whether it did."""
        if self._stop is not None:
            self._stop.set()
        with self.server.pipeline(transaction=False) as pipe:
            pipe.zrem(self.keys.workers, self.worker)
            pipe.zrem(self.keys.busy, self.worker)
            pipe.execute()
        keys = self.keys
        ended = self.server.eval(_END_CYCLE, 8, keys.cycle, keys.requests, keys.dupefilter, keys.workers, keys.busy,
                                 keys.seeded(self.id), keys.reread(self.id), keys.lost, self.id,
                                 time.time() - ALIVE_SECONDS)
        return bool(ended)


def join_cycle(server: redis.Redis, spider: str = "monitor", worker: str | None = None,
               fingerprint: Callable[[bytes], str | None] | None = None) -> Cycle:
    """Join the cycle in progress, or start one. The first process of a cycle wins its seed
    marker (``SET NX``) and reads the sources; the others take requests from the queue. A
    stale cycle (no worker alive) is taken over: its queue is kept, its fingerprint set
    becomes that of the queued requests (``fingerprint(encoded request)``, the
    dupefilter's; without it the set is emptied), the sources are read again."""
    keys = Keys(spider)
    worker = worker or worker_id()
    taken_over = 0
    for _ in range(10):  # the last worker of a cycle may end it between our reads: try again
        status = queue_status(server, spider)
        if status.stale and status.cycle_id:
            fresh = new_cycle_id()
            queued: list[bytes] = server.zrange(keys.requests, 0, -1)  # type: ignore[assignment]
            prints = sorted({fp for fp in map(fingerprint, queued) if fp}) if fingerprint else []
            if server.eval(_TAKE_OVER, 7, keys.cycle, keys.seeded(status.cycle_id), keys.workers, keys.busy,
                           keys.dupefilter, keys.lost, keys.reread(status.cycle_id), status.cycle_id, fresh, *prints):
                taken_over = len(queued)
                logger.warning("cycle %s was left by workers that stopped beating, %d request(s) queued: "
                               "resumed as cycle %s, the sources read again (`wicnews queue clear` drops such "
                               "a queue instead)", status.cycle_id, len(queued), fresh)
        server.set(keys.cycle, new_cycle_id(), nx=True)
        cycle_id = _text(server.get(keys.cycle))
        if cycle_id:
            break
    else:  # pragma: no cover - ten cycles ending in a row
        raise DatabaseError("could not join a distributed cycle in Redis")
    seeder, reread = server.eval(_SEED, 3, keys.seeded(cycle_id), keys.reread(cycle_id), keys.lost, worker)
    cycle = Cycle(server, keys, cycle_id, worker, seeder=bool(seeder), taken_over=taken_over, reread=bool(reread))
    # the seeder counts as busy from the start: the others wait for its first requests
    cycle.beat(busy=cycle.seeder)
    cycle.start_beating()
    logger.info("cycle %s: %s %s%s", cycle_id, worker, "reads the sources" if cycle.seeder else "joins",
                " (in full: the cycle before lost work)" if cycle.reread else "")
    return cycle
