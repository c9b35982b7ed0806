"""Distributed crawl: several `govcrawler crawl` workers, on one machine or many, share one
frontier in Redis (scrapy-redis) and write into one archive.

Enabled by `GOVCRAWLER_REDIS_URL` (`govcrawler crawl --redis-url`): `DistributedAddon` swaps in
`JobScheduler` (queue and de-duplication in Redis), `GlobalPaceMiddleware` (one pace for the
site across all workers) and `AcknowledgingArchivePipeline` (a request is done only once what
it produced is committed). Redis is a single server (not Redis Cluster); the scripts below
name keys they compute, and run atomically.

Jobs. A crawl is a *job*. The first worker to start finds no job in Redis and creates one,
publishing its incremental plan (`govcrawler.runs.plan`: which articles the archive knows and which
are due). Workers that start while it runs join it and use that same plan, so the job makes
the decisions one process would (known articles skipped, paging stopped at known pages). The
queue and the de-duplication set belong to the job: list pages are read once per job, and the
next job (the next cron run) reads them again. The job ends when its queue is empty, no worker
holds a request it took, and no live worker is still feeding its start requests; the worker
that sees this deletes the job, and each worker then closes. A job left by workers that all
died is continued by the next worker that starts.

Reliable queue. Popping a request moves it, in one script, from the job's queue into the
worker's in-flight set in Redis. It leaves that set when Scrapy is done with it (callback or
errback run, its items through the pipelines, the requests it found queued) *and* the archive
batch holding its items is committed. Each worker refreshes a heartbeat key with a TTL
(`GOVCRAWLER_WORKER_TIMEOUT`); a worker that finds another's heartbeat expired moves that
worker's in-flight requests back to the queue. A worker that stops cleanly (`--max-runtime`,
SIGTERM) puts back what it had not finished. So a worker killed at any moment loses nothing: at
worst a page it had fetched is fetched again (a revisit, no new version).

Politeness. `GlobalPaceMiddleware` reserves the next slot for the host in Redis with a Lua
script (on Redis's clock, so machines need not agree on the time) and waits for it without
blocking the reactor: requests to the site are spaced by the delay across all workers. The
delay reserved is the worker's own slot delay, so robots.txt's Crawl-delay floor, AutoThrottle
and the 5xx back-off of `govcrawler.crawl.politeness` still set it; a Retry-After holds the site for
every worker.

Scrapy internals used: the engine's set of requests in progress (to know when a request is
done) and its `nextcall` (to look at the shared queue again without waiting for the engine's
5-second heartbeat). Without them, requests are acknowledged when the worker goes idle.
"""

from __future__ import annotations

import logging
import os
import pickle
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import redis
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy_redis import connection, defaults
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler
from twisted.internet.defer import DeferredLock
from twisted.internet.task import LoopingCall, deferLater

from govcrawler.cli.lock import valid_worker_id
from govcrawler.crawl.politeness import response_retry_after
from govcrawler.pipelines import ArchivePipeline
from govcrawler.runs.plan import CrawlPlan, load_plan

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

ARCHIVE_PIPELINE = "govcrawler.pipelines.ArchivePipeline"
PACE_MIDDLEWARE_ORDER = 950  # last before the download: the wait ends as the request leaves
POLL_SECONDS = 0.5  # how often an idle worker looks at the shared queue again
_ACK_CHUNK = 500
# The counts summed over the workers of a job (for the job's health checks).
_SUMMED = ("govcrawler/", "downloader/", "httperror/")
_NOT_SUMMED = ("govcrawler/distributed/", "govcrawler/run/")


class RedisUnavailable(Exception):
    """The Redis URL is malformed or the server cannot be reached; the message says which."""


def redis_client(url: str) -> redis.Redis:
    """A client with scrapy-redis's connection defaults (bytes in and out)."""
    return connection.get_redis(url=url, **defaults.REDIS_PARAMS)


def check_redis(url: str) -> None:
    """Raise `RedisUnavailable` with one line unless `url` names a Redis that answers."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
        client.ping()
    except ValueError as error:
        raise RedisUnavailable(f"not a Redis URL: {url!r} ({error})") from None
    except redis.RedisError as error:
        raise RedisUnavailable(f"cannot use Redis at {safe_url(url)}: {error}") from None


def worker_holder(url: str, prefix: str, worker: str) -> str | None:
    """Who runs `worker` on another host right now (its heartbeat is live), or None. On this
    host the worker's lock file already tells: a holder here is a dead predecessor."""
    try:
        holder = redis_client(url).get(alive_prefix(prefix) + worker)
    except redis.RedisError as error:
        raise RedisUnavailable(f"cannot use Redis at {safe_url(url)}: {error}") from None
    if holder is None:
        return None
    text = holder.decode("utf-8", "replace") if isinstance(holder, bytes) else str(holder)
    return None if text.startswith(socket.gethostname() + " ") else text


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    head, at, tail = url.rpartition("@")
    if not at:
        return url
    scheme, _, credentials = head.partition("://")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{tail}" if user else f"{scheme}://***@{tail}"


def default_worker_id() -> str:
    """The host name, made fit for file names and Redis keys."""
    name = "".join(c if c.isalnum() or c in "._-" else "-" for c in socket.gethostname())
    name = name.strip(".-_")[:64]
    return name if valid_worker_id(name) else "worker"


def worker_token() -> str:
    """Who holds a worker id: host, pid and start time (the heartbeat's value)."""
    started = datetime.now(UTC).isoformat(timespec="seconds")
    return f"{socket.gethostname()} {os.getpid()} {started}"


# --- Redis scripts: each runs atomically -----------------------------------------------------

# KEYS: job, counter. ARGV: plan, started_at. Returns {job id, 1 if created here}.
_JOIN = """
local id = redis.call('HGET', KEYS[1], 'id')
if id then return {id, 0} end
id = tostring(redis.call('INCR', KEYS[2]))
redis.call('HSET', KEYS[1], 'id', id, 'started_at', ARGV[2], 'plan', ARGV[1])
return {id, 1}
"""
# KEYS: alive. ARGV: token, ttl ms, host. The holder of the id if another host has it.
_CLAIM = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] and string.sub(holder, 1, #ARGV[3] + 1) ~= ARGV[3] .. ' ' then
  return holder
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
"""
# KEYS: queue, in-flight. The best request, moved into the in-flight set with its score.
_POP = """
local top = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #top == 0 then return false end
redis.call('ZREM', KEYS[1], top[1])
redis.call('ZADD', KEYS[2], top[2], top[1])
return top[1]
"""
# KEYS: queue, in-flight. Everything in the in-flight set back to the queue.
_REQUEUE = """
local entries = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
for i = 1, #entries, 2 do redis.call('ZADD', KEYS[1], entries[i + 1], entries[i]) end
redis.call('DEL', KEYS[2])
return #entries / 2
"""
# KEYS: queue, workers, seeding. ARGV: in-flight key prefix, heartbeat key prefix, this worker.
# The in-flight requests of workers whose heartbeat expired go back to the queue.
_RECLAIM = """
local moved = 0
for _, w in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if w ~= ARGV[3] and redis.call('EXISTS', ARGV[2] .. w) == 0 then
    local key = ARGV[1] .. w
    local entries = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
    for i = 1, #entries, 2 do redis.call('ZADD', KEYS[1], entries[i + 1], entries[i]) end
    moved = moved + #entries / 2
    redis.call('DEL', key)
    redis.call('SREM', KEYS[2], w)
    redis.call('SREM', KEYS[3], w)
  end
end
return moved
"""
# KEYS: job, queue, workers, seeding, seen, stats. ARGV: job id, in-flight prefix, heartbeat
# prefix. 0: work remains; 1: the job was already over; 2: it ended here (its keys are deleted,
# its summed stats kept an hour).
_FINISH = """
if redis.call('HGET', KEYS[1], 'id') ~= ARGV[1] then return 1 end
if redis.call('ZCARD', KEYS[2]) > 0 then return 0 end
for _, w in ipairs(redis.call('SMEMBERS', KEYS[4])) do
  if redis.call('EXISTS', ARGV[3] .. w) == 1 then return 0 end
end
for _, w in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  if redis.call('ZCARD', ARGV[2] .. w) > 0 then return 0 end
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
redis.call('EXPIRE', KEYS[6], 3600)
return 2
"""
# KEYS: pace. ARGV: delay ms, hold ms. Reserves the host's next slot, `delay` after the last
# one (or now, if later), at least `hold` from now; returns the wait in ms until it.
_PACE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local at = math.max(now, free)
local delay, hold = tonumber(ARGV[1]), tonumber(ARGV[2])
if hold > 0 then
  redis.call('SET', KEYS[1], math.max(free, now + hold), 'PX', hold + 60000)
  return 0
end
if delay > 0 then redis.call('SET', KEYS[1], at + delay, 'PX', at + delay - now + 60000) end
return at - now
"""


def reserve_slot(server: redis.Redis, key: str, delay: float) -> float:
    """Reserve the host's next slot, `delay` seconds after the one before it (or now): the
    seconds to wait until it."""
    return int(server.register_script(_PACE)(keys=[key], args=[int(delay * 1000), 0])) / 1000


def hold_host(server: redis.Redis, key: str, seconds: float) -> None:
    """No slot of the host starts before `seconds` from now (a Retry-After), for any worker."""
    server.register_script(_PACE)(keys=[key], args=[0, int(seconds * 1000)])


@dataclass(frozen=True)
class JobKeys:
    """The Redis keys of one job and one worker (`prefix` is per archive and spider)."""

    prefix: str
    job_id: str
    worker: str

    @property
    def queue(self) -> str:
        return f"{self.prefix}:job:{self.job_id}:queue"

    @property
    def seen(self) -> str:
        return f"{self.prefix}:job:{self.job_id}:seen"

    @property
    def workers(self) -> str:
        return f"{self.prefix}:job:{self.job_id}:workers"

    @property
    def seeding(self) -> str:
        return f"{self.prefix}:job:{self.job_id}:seeding"

    @property
    def stats(self) -> str:
        return f"{self.prefix}:job:{self.job_id}:stats"

    @property
    def inflight_prefix(self) -> str:
        return f"{self.prefix}:job:{self.job_id}:inflight:"

    @property
    def inflight(self) -> str:
        return self.inflight_prefix + self.worker


def base_prefix(settings: BaseSettings, spider_name: str) -> str:
    return f"{settings.get('GOVCRAWLER_REDIS_PREFIX') or 'govcrawler'}:{spider_name}"


def alive_prefix(prefix: str) -> str:
    return f"{prefix}:alive:"


class ReliableQueue(PriorityQueue):
    """scrapy-redis's priority queue, whose pop moves the request to the worker's in-flight
    set instead of dropping it (the multi/exec pop of the original loses it with the worker)."""

    def __init__(self, server: redis.Redis, spider: Spider, keys: JobKeys) -> None:
        super().__init__(server, spider, keys.queue)
        self.keys = keys
        self._pop = server.register_script(_POP)
        self._requeue = server.register_script(_REQUEUE)

    def pop_payload(self) -> bytes | None:
        payload = self._pop(keys=[self.keys.queue, self.keys.inflight])
        return payload or None

    def decode(self, payload: bytes) -> Request:
        return self._decode_request(payload)

    def acknowledge(self, payloads: list[bytes]) -> None:
        for start in range(0, len(payloads), _ACK_CHUNK):
            self.server.zrem(self.keys.inflight, *payloads[start : start + _ACK_CHUNK])

    def requeue_inflight(self) -> int:
        """Everything this worker took and did not finish goes back to the queue."""
        return int(self._requeue(keys=[self.keys.queue, self.keys.inflight]))


class JobDupeFilter(RFPDupeFilter):
    """scrapy-redis's fingerprint set, kept for the whole job: a worker that closes leaves it to
    the others (the job deletes it when it ends)."""

    def close(self, reason: str = "") -> None:
        return None


class JobScheduler(Scheduler):
    """scrapy-redis's scheduler, with jobs, a reliable queue and dead workers' requests
    re-queued (see the module docstring). Works around scrapy-redis 0.9 on Scrapy 2.19: stats
    without the deprecated `spider` argument, and a pop that cannot lose a request."""

    def __init__(self, server: redis.Redis, crawler: Crawler) -> None:
        super().__init__(server, persist=True, idle_before_close=0)
        self.crawler = crawler
        settings = crawler.settings
        self.stats = crawler.stats
        self.worker = settings.get("GOVCRAWLER_WORKER_ID") or default_worker_id()
        self.timeout = settings.getfloat("GOVCRAWLER_WORKER_TIMEOUT", 60.0)
        self.token = worker_token()
        self.job_plan: CrawlPlan | None = None
        self.keys: JobKeys | None = None
        self.handed_out: dict[bytes, Request] = {}
        self.archive: AcknowledgingArchivePipeline | None = None
        self.broken = False
        self._loops: list[LoopingCall] = []
        self._pushed: dict[str, int] = {}
        self._heart: Heartbeat | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        url = crawler.settings.get("GOVCRAWLER_REDIS_URL")
        if not url:
            raise NotConfigured("GOVCRAWLER_REDIS_URL is not set")
        scheduler = cls(redis_client(url), crawler)
        crawler.signals.connect(scheduler.spider_idle, signal=signals.spider_idle)
        return scheduler

    # --- opening: claim the worker id, join or start the job -----------------------------------

    def open(self, spider: Spider) -> None:
        self.spider = spider
        self.prefix = base_prefix(spider.settings, spider.name)
        alive = alive_prefix(self.prefix) + self.worker
        holder = self.server.register_script(_CLAIM)(
            keys=[alive], args=[self.token, self._ttl_ms(), socket.gethostname()]
        )
        if holder:
            raise WorkerIdInUse(self.worker, holder.decode("utf-8", "replace"))
        plan = load_plan(spider.settings)
        job_id, created = self.server.register_script(_JOIN)(
            keys=[f"{self.prefix}:job", f"{self.prefix}:job-counter"],
            args=[pickle.dumps(plan, protocol=pickle.HIGHEST_PROTOCOL), _now()],
        )
        self.keys = keys = JobKeys(self.prefix, job_id.decode(), self.worker)
        if not created:
            shared = self.server.hget(f"{self.prefix}:job", "plan")
            plan = pickle.loads(shared) if shared else plan
        self.job_plan = plan
        self.queue = ReliableQueue(self.server, spider, keys)
        self.df = JobDupeFilter(self.server, key=keys.seen, debug=False)
        self.server.sadd(keys.workers, self.worker)
        self.server.sadd(keys.seeding, self.worker)
        mine = self.queue.requeue_inflight()  # a dead predecessor under this id
        theirs = self._reclaim()
        assert self.stats is not None
        self.stats.set_value("govcrawler/distributed/job", int(keys.job_id))
        self.stats.set_value("govcrawler/distributed/worker", self.worker)
        self.stats.set_value("govcrawler/distributed/job_created", bool(created))
        logger.info(
            "worker %s %s job %s (%d requests queued, %d taken back from dead workers)",
            self.worker,
            "started" if created else "joined",
            keys.job_id,
            len(self.queue),
            mine + theirs,
        )
        self._heart = Heartbeat(self.server, alive, self.token, self._ttl_ms())
        self._heart.start()
        self._every(POLL_SECONDS, self._poll)

    def _ttl_ms(self) -> int:
        return max(1000, int(self.timeout * 1000))

    def _every(self, seconds: float, function: Any) -> None:
        loop = LoopingCall(function)
        loop.start(seconds, now=False).addErrback(
            lambda failure: logger.error("distributed: %s", failure.getErrorMessage())
        )
        self._loops.append(loop)

    def _poll(self) -> None:
        """Wake the engine, so an idle worker takes requests other workers queued."""
        _wake(self.crawler.engine)

    def _reclaim(self) -> int:
        assert self.keys is not None
        moved = int(
            self.server.register_script(_RECLAIM)(
                keys=[self.keys.queue, self.keys.workers, self.keys.seeding],
                args=[self.keys.inflight_prefix, alive_prefix(self.prefix), self.worker],
            )
        )
        if moved:
            assert self.stats is not None
            self.stats.inc_value("govcrawler/distributed/reclaimed", moved)
            logger.warning("re-queued %d requests of dead workers", moved)
        return moved

    # --- the queue -------------------------------------------------------------------------

    def enqueue_request(self, request: Request) -> bool:
        if self.broken:
            return False
        try:
            if not request.dont_filter and self.df.request_seen(request):
                self.df.log(request, self.spider)
                return False
            self.queue.push(request)
        except redis.RedisError as error:
            self._fail(error)
            return False
        assert self.stats is not None
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        if self.broken:
            return None
        try:
            payload = self.queue.pop_payload()
        except redis.RedisError as error:
            self._fail(error)
            return None
        if payload is None:
            return None
        request = self.queue.decode(payload)
        self.handed_out[payload] = request
        assert self.stats is not None
        self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        if self.broken:
            return False
        try:
            return len(self.queue) > 0
        except redis.RedisError as error:
            self._fail(error)
            return False

    # --- acknowledgement ---------------------------------------------------------------------

    def finished(self) -> list[bytes]:
        """Requests taken by this worker that Scrapy is done with: callback run, items through
        the pipelines, new requests queued. Done for good once their items are committed."""
        busy = _in_progress(self.crawler.engine)
        if busy is None:
            return []
        return [payload for payload, request in self.handed_out.items() if request not in busy]

    def acknowledge(self, payloads: list[bytes]) -> None:
        if not payloads or self.broken:
            return
        try:
            self._push_stats()
            self.queue.acknowledge(payloads)
        except redis.RedisError as error:
            self._fail(error)
            return
        for payload in payloads:
            self.handed_out.pop(payload, None)

    def _settle(self, everything: bool = False) -> None:
        """Acknowledge what is done: through the archive pipeline (which commits first), or
        directly when there is none. `everything`: the engine is idle, so all of it is."""
        if self.archive is not None:
            self.archive.commit_and_acknowledge(list(self.handed_out) if everything else None)
        else:
            self.acknowledge(list(self.handed_out) if everything else self.finished())

    # --- the end of the job ------------------------------------------------------------------

    def spider_idle(self, spider: Spider) -> None:
        """This worker has nothing to do: finish its share, then end the job if nothing is left
        anywhere, else wait for the other workers (and take over from dead ones)."""
        if self.broken or self.keys is None:
            return
        keys = self.keys
        try:
            self._settle(everything=True)
            self._push_stats()
            self.server.srem(keys.seeding, self.worker)  # its start requests are all queued
            self._reclaim()
            if len(self.queue):
                raise DontCloseSpider
            status = self.server.register_script(_FINISH)(
                keys=[
                    f"{self.prefix}:job",
                    keys.queue,
                    keys.workers,
                    keys.seeding,
                    keys.seen,
                    keys.stats,
                ],
                args=[keys.job_id, keys.inflight_prefix, alive_prefix(self.prefix)],
            )
        except redis.RedisError as error:
            self._fail(error)
            return
        if status == 0:
            raise DontCloseSpider
        logger.info(
            "job %s %s", keys.job_id, "finished here" if status == 2 else "finished elsewhere"
        )
        assert self.stats is not None
        self.stats.set_value("govcrawler/distributed/job_finished_here", status == 2)
        if status == 2:
            self._keep_job_stats()

    def _push_stats(self) -> None:
        """Add this worker's counts since the last push to the job's (before acknowledging: so
        when the job ends, every worker's counts are in)."""
        assert self.stats is not None and self.keys is not None
        pipe = self.server.pipeline(transaction=False)
        for key, value in self.stats.get_stats().items():
            if not key.startswith(_SUMMED) or key.startswith(_NOT_SUMMED):
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                continue
            if delta := value - self._pushed.get(key, 0):
                pipe.hincrby(self.keys.stats, key, delta)
                self._pushed[key] = value
        pipe.execute()

    def _keep_job_stats(self) -> None:
        """The whole job's counts, for the health checks of the worker that ended it."""
        assert self.stats is not None and self.keys is not None
        try:
            summed = self.server.hgetall(self.keys.stats)
        except redis.RedisError as error:
            logger.error("could not read the job's stats (Redis: %s)", error)
            return
        job = {key.decode(): int(value) for key, value in summed.items()}
        self.stats.set_value("govcrawler/distributed/job_stats", job)

    def close(self, reason: str) -> None:
        """Called after the pipelines closed (the last batch committed): acknowledge what is
        done, put back what is not, and leave the job to the other workers."""
        for loop in self._loops:
            if loop.running:
                loop.stop()
        if self._heart is not None:
            self._heart.stop()
        if self.keys is None or self.broken:
            return
        keys = self.keys
        try:
            if self.archive is None and not self._archive_failed():
                self.acknowledge(self.finished())
            requeued = self.queue.requeue_inflight()
            self.server.srem(keys.workers, self.worker)
            self.server.srem(keys.seeding, self.worker)
            self.server.delete(alive_prefix(self.prefix) + self.worker)
        except redis.RedisError as error:
            logger.error("could not leave the job cleanly (Redis: %s)", error)
            return
        if requeued:
            assert self.stats is not None
            self.stats.set_value("govcrawler/distributed/requeued_on_close", requeued)
            logger.info("put %d unfinished requests back in the queue", requeued)

    def _archive_failed(self) -> bool:
        assert self.stats is not None
        return bool(self.stats.get_value("govcrawler/archive/error", 0))

    def _fail(self, error: Exception) -> None:
        """Redis went away: stop this worker (outcome `redis_error`). What it had taken stays in
        its in-flight set, for another worker or the next run."""
        if self.broken:
            return
        self.broken = True
        logger.error("Redis failed (%s): stopping this worker", error)
        engine = self.crawler.engine
        if engine is not None and engine.spider is not None:
            deferred_from_coro(engine.close_spider_async(reason="redis_error"))


class Heartbeat(threading.Thread):
    """Refreshes the worker's heartbeat key every third of its TTL, from a thread of its own:
    a busy reactor (a long commit, a slow extraction) does not make a live worker look dead;
    a dead or frozen process stops it."""

    def __init__(self, server: redis.Redis, key: str, token: str, ttl_ms: int) -> None:
        super().__init__(name="govcrawler-heartbeat", daemon=True)
        self.server, self.key, self.token, self.ttl_ms = server, key, token, ttl_ms
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.ttl_ms / 3000):
            try:
                self.server.set(self.key, self.token, px=self.ttl_ms)
            except redis.RedisError as error:  # the reactor's next Redis call fails the worker
                logger.warning("heartbeat not sent (Redis: %s)", error)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=5)


class WorkerIdInUse(Exception):
    def __init__(self, worker: str, holder: str) -> None:
        super().__init__(
            f"worker id {worker!r} is in use ({holder}); give this worker another --worker-id"
        )


class AcknowledgingArchivePipeline(ArchivePipeline):
    """The archive pipeline of a distributed worker: a request is acknowledged to Redis only
    after the batch holding its items was committed. What Scrapy had finished with before a
    commit began has its items in that batch (or in an earlier one)."""

    scheduler: JobScheduler | None = None

    def open_spider(self) -> None:
        super().open_spider()
        engine = self.crawler.engine
        scheduler = engine.scheduler if engine is not None else None
        if isinstance(scheduler, JobScheduler):
            self.scheduler = scheduler
            scheduler.archive = self

    def write_pending(self) -> None:
        self.commit_and_acknowledge(None)

    def commit_and_acknowledge(self, done: list[bytes] | None) -> None:
        """Commit the pending batch, then acknowledge `done` (default: what Scrapy finished
        with before the commit began). Nothing is acknowledged if the commit failed."""
        if self.scheduler is not None and done is None:
            done = self.scheduler.finished()
        errors = self.stats.get_value("govcrawler/archive/error", 0)
        super().write_pending()
        if (
            self.scheduler is not None
            and done
            and self.stats.get_value("govcrawler/archive/error", 0) == errors
        ):
            self.scheduler.acknowledge(done)


class GlobalPaceMiddleware:
    """One pace for the site across every worker: each request reserves the host's next slot
    in Redis, its own slot delay after the previous one, and waits for it (without blocking the
    reactor). One request per host at a time leaves a worker while a delay is set, so the
    reservation is the moment it is sent. A Retry-After holds the host for every worker."""

    def __init__(self, crawler: Crawler, server: redis.Redis) -> None:
        self.crawler = crawler
        self.server = server
        self.prefix = ""
        self.max_retry_after = crawler.settings.getfloat("GOVCRAWLER_MAX_RETRY_AFTER", 600)
        self.default_delay = crawler.settings.getfloat("DOWNLOAD_DELAY", 0.0)
        self.locks: dict[str, DeferredLock] = {}
        self.holding: dict[Request, DeferredLock] = {}
        assert crawler.stats is not None
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        url = crawler.settings.get("GOVCRAWLER_REDIS_URL")
        if not url:
            raise NotConfigured("GOVCRAWLER_REDIS_URL is not set")
        return cls(crawler, redis_client(url))

    def _key(self, request: Request) -> str:
        if not self.prefix:
            assert self.crawler.spider is not None
            self.prefix = base_prefix(self.crawler.settings, self.crawler.spider.name)
        return f"{self.prefix}:pace:{urlparse_cached(request).hostname or ''}"

    async def process_request(self, request: Request) -> None:
        downloader = self.crawler.engine.downloader
        slot_key = downloader.get_slot_key(request)
        slot = downloader.slots.get(slot_key)
        delay = slot.download_delay() if slot is not None else self.default_delay
        if delay > 0:
            lock = self.locks.setdefault(slot_key, DeferredLock())
            await maybe_deferred_to_future(lock.acquire())
            self.holding[request] = lock
        wait = reserve_slot(self.server, self._key(request), delay)
        if wait > 0:
            self.stats.inc_value("govcrawler/politeness/global_wait_ms", int(wait * 1000))
            await _sleep(wait)
        if slot is not None and delay > 0:
            slot.lastseen = 0  # the wait is done here: the downloader adds none of its own

    def process_response(self, request: Request, response: Response) -> Response:
        self._release(request)
        wait = response_retry_after(response, datetime.now(UTC))
        if wait is not None and 0 < wait <= self.max_retry_after:
            hold_host(self.server, self._key(request), wait)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._release(request)

    def _release(self, request: Request) -> None:
        lock = self.holding.pop(request, None)
        if lock is not None:
            lock.release()


class DistributedAddon:
    """With `GOVCRAWLER_REDIS_URL` set: the job scheduler, the global pace and the
    acknowledging archive pipeline."""

    def update_settings(self, settings: BaseSettings) -> None:
        if not settings.get("GOVCRAWLER_REDIS_URL"):
            raise NotConfigured
        settings.set("SCHEDULER", "govcrawler.distributed.JobScheduler", "addon")
        settings.set("SCHEDULER_PERSIST", True, "addon")
        settings.replace_in_component_priority_dict(
            "ITEM_PIPELINES", ArchivePipeline, AcknowledgingArchivePipeline
        )
        settings.set_in_component_priority_dict(
            "DOWNLOADER_MIDDLEWARES", GlobalPaceMiddleware, PACE_MIDDLEWARE_ORDER
        )


def _in_progress(engine: Any) -> set[Request] | None:
    """The engine's requests not yet done with (Scrapy internals; None if they moved)."""
    return getattr(getattr(engine, "_slot", None), "inprogress", None)


def _wake(engine: Any) -> None:
    nextcall = getattr(getattr(engine, "_slot", None), "nextcall", None)
    if nextcall is not None:
        nextcall.schedule()


async def _sleep(seconds: float) -> None:
    from twisted.internet import reactor  # the one Scrapy installed, once it has

    await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
