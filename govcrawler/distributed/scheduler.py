"""scrapy-redis's scheduler, its behaviour unchanged, with two additions a worker needs.

- Redis going away mid-run: every engine call into the scheduler would raise and log a
  traceback (a dozen a second) until something stopped the worker; here the first error
  stops it at once, with one line (finish reason `redis_error`: outcome `failed`, exit 3).
- `job_plan`: the job's plan, where the spider looks for it (`_load_plan`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import redis
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis.scheduler import Scheduler

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler

    from govcrawler.runs.plan import CrawlPlan

logger = logging.getLogger(__name__)
T = TypeVar("T")


class JobScheduler(Scheduler):
    crawler: Crawler | None = None
    job_plan: CrawlPlan | None = None
    lost = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        scheduler: Self = super().from_crawler(crawler)
        scheduler.crawler = crawler
        return scheduler

    def enqueue_request(self, request: Request) -> bool:
        return self._guarded(super().enqueue_request, False, request)

    def next_request(self) -> Request | None:
        return self._guarded(super().next_request, None)

    def has_pending_requests(self) -> bool:
        return self._guarded(super().has_pending_requests, False)

    def _guarded(self, call: Callable[..., T], default: T, *args: Any) -> T:
        if self.lost:
            return default
        try:
            return call(*args)
        except redis.RedisError as error:
            self.lose(error)
            return default

    def lose(self, error: Exception) -> None:
        """Redis failed: close the spider (`redis_error`), once. The job is left unfinished,
        so the next run reads every list page."""
        if self.lost:
            return
        self.lost = True
        logger.error("Redis failed (%s): stopping this worker", error)
        engine = self.crawler.engine if self.crawler is not None else None
        if engine is not None and engine.spider is not None:
            deferred_from_coro(engine.close_spider_async(reason="redis_error"))
