"""One pace for the site across every worker: what scrapy-redis does not do.

Before each request a worker reserves the host's next slot in Redis (`<prefix>:pace:<host>`,
shared by every spider of the archive, since the delay is owed to the site) and waits for it
without blocking the reactor. The slot is the worker's own slot delay after the previous one,
so robots.txt's Crawl-delay, AutoThrottle and the 5xx back-off of
`govcrawler.crawl.politeness` still set it; a Retry-After holds the host for every worker.
The reservation runs on Redis's clock, so machines need not agree on the time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import redis
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import DeferredLock
from twisted.internet.task import deferLater

from govcrawler.crawl.politeness import response_retry_after
from govcrawler.distributed.workers import redis_client

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

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


class GlobalPaceMiddleware:
    """Each request reserves the host's next slot and waits for it. One request per host at a
    time leaves a worker while a delay is set, so the reservation is the moment it is sent."""

    def __init__(self, crawler: Crawler, server: redis.Redis) -> None:
        self.crawler = crawler
        self.server = server
        self.prefix = crawler.settings.get("GOVCRAWLER_REDIS_PREFIX") or "govcrawler"
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
        return f"{self.prefix}:pace:{urlparse_cached(request).hostname or ''}"

    async def process_request(self, request: Request) -> None:
        assert self.crawler.engine is not None
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


async def _sleep(seconds: float) -> None:
    from twisted.internet import reactor  # the one Scrapy installed, once it has

    await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))
