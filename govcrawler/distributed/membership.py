"""A worker's part in its job (an extension the add-on enables).

- Keeps the worker's key alive (a LoopingCall every third of `GOVCRAWLER_WORKER_TIMEOUT`);
  a Redis that stops answering stops the worker (finish reason `redis_error`).
- Hands the job's plan to the spider (through the scheduler, where the spider looks).
- Waits while idle: scrapy-redis's scheduler makes a worker idle as soon as the shared queue
  looks empty, though another worker may be about to queue the next list page's links. As
  scrapy-redis's own RedisSpider does (`MAX_IDLE_TIME_BEFORE_CLOSE`), the worker stays open
  for `GOVCRAWLER_WORKER_IDLE` seconds without work, looking at the queue at each of the
  engine's heartbeats (5 s); a worker with no live fellow member closes at once.
- Leaves the job when it closes (after the pipelines' last commit), see `jobs`.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import redis
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from twisted.internet.task import LoopingCall

from govcrawler.distributed import jobs
from govcrawler.distributed.scheduler import JobScheduler

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler

    from govcrawler.distributed import DistributedAddon

logger = logging.getLogger(__name__)

# Reasons after which a worker has gone through its share (as for a single process's run).
DONE_REASONS = ("finished", "blocked")
# The counts summed over a job's workers, for the health checks of the one that ends it.
_SUMMED = ("govcrawler/", "downloader/", "httperror/")
_NOT_SUMMED = ("govcrawler/distributed/", "govcrawler/run/")


class JobMembership:
    def __init__(self, crawler: Crawler, addon: DistributedAddon) -> None:
        assert addon.job is not None and addon.keys is not None and addon.server is not None
        assert crawler.stats is not None
        self.crawler, self.stats = crawler, crawler.stats
        self.server, self.keys, self.job = addon.server, addon.keys, addon.job
        self.plan, self.created, self.value = addon.plan, addon.created, addon.value
        self.ttl_ms = addon.ttl_ms
        self.idle_seconds = crawler.settings.getfloat("GOVCRAWLER_WORKER_IDLE", 30.0)
        self.idle_since: float | None = None
        self.refresh = LoopingCall(self._refresh)
        self.failed = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        from govcrawler.distributed import DistributedAddon

        addon = crawler.get_addon(DistributedAddon)
        if addon is None or addon.job is None:
            raise NotConfigured("not a distributed crawl")
        member = cls(crawler, addon)
        connect = crawler.signals.connect
        connect(member.spider_opened, signal=signals.spider_opened)
        connect(member.spider_idle, signal=signals.spider_idle)
        connect(member.working, signal=signals.request_reached_downloader)
        connect(member.spider_closed, signal=signals.spider_closed)
        return member

    def spider_opened(self, spider: Spider) -> None:
        self.refresh.start(self.ttl_ms / 3000, now=True).addErrback(
            lambda failure: logger.error("worker key: %s", failure.getErrorMessage())
        )
        scheduler = self._scheduler()
        if scheduler is not None:
            scheduler.job_plan = self.plan  # where the spider looks for it
        self.stats.set_value("govcrawler/distributed/job", self.job.id)
        self.stats.set_value("govcrawler/distributed/worker", self.keys.worker)
        self.stats.set_value("govcrawler/distributed/job_created", self.created)
        logger.info(
            "worker %s %s job %s%s",
            self.keys.worker,
            "started" if self.created else "joined",
            self.job.id,
            " (recovering: the last job did not finish)" if self.job.recovering else "",
        )

    def _refresh(self) -> None:
        try:
            self.server.set(self.keys.alive, self.value, px=self.ttl_ms)
        except redis.RedisError as error:
            self._fail(error)

    def working(self, request: Any, spider: Spider) -> None:
        self.idle_since = None

    def spider_idle(self, spider: Spider) -> None:
        """Stay open while another live worker of the job may still queue requests."""
        if self.failed:
            return
        now = time.monotonic()
        if self.idle_since is None:
            self.idle_since = now
        if now - self.idle_since >= self.idle_seconds:
            return
        try:
            alone = not jobs.live_members(self.server, self.keys, self.job.id)
        except redis.RedisError as error:
            self._fail(error)
            return
        if not alone:
            raise DontCloseSpider

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.refresh.running:
            self.refresh.stop()
        if self.failed or reason == "redis_error":
            return
        try:
            if reason not in DONE_REASONS:
                jobs.stop(self.server, self.keys)
                logger.warning(
                    "worker %s stopped (%s) before the end: job %s is unfinished, "
                    "the next run reads every list page",
                    self.keys.worker,
                    reason,
                    self.job.id,
                )
                return
            outcome, summed = jobs.leave(self.server, self.keys, self.job.id, self._counts())
            dead = jobs.dead_members(self.server, self.keys, self.job.id)
        except redis.RedisError as error:
            logger.error("could not leave job %s (Redis: %s)", self.job.id, error)
            return
        self._report(outcome, summed, dead)

    def _report(self, outcome: str, summed: dict[str, int], dead: list[str]) -> None:
        self.stats.set_value("govcrawler/distributed/job_outcome", outcome)
        if outcome == "ended":
            logger.info("job %s finished here", self.job.id)
            self.stats.set_value("govcrawler/distributed/job_stats", summed)
        elif outcome == "unfinished":
            logger.warning(
                "job %s is unfinished (%s stopped before the end): "
                "the next run reads every list page",
                self.job.id,
                ", ".join(dead),
            )
        else:
            logger.info("job %s: left to the other workers", self.job.id)

    def _counts(self) -> dict[str, int]:
        """This worker's counts that the job sums."""
        return {
            key: value
            for key, value in self.stats.get_stats().items()
            if key.startswith(_SUMMED)
            and not key.startswith(_NOT_SUMMED)
            and isinstance(value, int)
            and not isinstance(value, bool)
        }

    def _fail(self, error: Exception) -> None:
        """Redis went away: stop this worker (once, whichever part noticed first)."""
        if self.failed:
            return
        self.failed = True
        if self.refresh.running:
            self.refresh.stop()
        scheduler = self._scheduler()
        if scheduler is not None:
            scheduler.lose(error)

    def _scheduler(self) -> JobScheduler | None:
        engine = self.crawler.engine
        scheduler = engine.scheduler if engine is not None else None
        return scheduler if isinstance(scheduler, JobScheduler) else None
