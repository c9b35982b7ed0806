"""Distributed crawl: several `govcrawler crawl` workers, on one machine or many, share one
crawl through Redis and write into one archive.

scrapy-redis as it is does the sharing: its `Scheduler`, its `PriorityQueue` and its
`RFPDupeFilter`, configured by `DistributedAddon` through scrapy-redis's own settings, with
the keys of the job the worker joined (`jobs`); the scheduler only gains a guard, so a Redis
lost mid-run stops the worker with one line (`scheduler`). What scrapy-redis lacks and the
site needs is added beside it: one pace for the site across all workers (`pace`), one worker
per id (the lock file of `govcrawler.cli.lock`, and the worker key in Redis for other hosts:
`workers`), and a worker's part in its job (`membership`).

Durability lives in the archive, not in Redis: a request a killed worker had taken is lost
with it, and so is what it had not committed. The job it leaves is unfinished, so the next
run reads every list page and fetches what the archive lacks, as after a crashed
single-process run.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import TYPE_CHECKING

import redis
from scrapy.exceptions import NotConfigured, ScrapyDeprecationWarning

from govcrawler.cli.lock import valid_worker_id
from govcrawler.distributed.jobs import Job, JobKeys, join
from govcrawler.distributed.membership import JobMembership
from govcrawler.distributed.pace import GlobalPaceMiddleware
from govcrawler.distributed.workers import (
    default_worker_id,
    redis_client,
    started_now,
    unavailable,
    worker_holder,
    worker_value,
)
from govcrawler.exceptions import WorkerIdInUse
from govcrawler.runs.plan import CrawlPlan, load_plan

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

PACE_MIDDLEWARE_ORDER = 950  # last before the download: the wait ends as the request leaves
WORKER_CONCURRENCY = 2  # requests a worker holds at once (see _configure)
MEMBERSHIP_ORDER = -1  # before the run recorder (0): it reads the job's summed counts
# "spider" priority: above the project's settings.py, below `-s` on the command line.
PRIORITY = "spider"


def archive_plan(settings: BaseSettings, spider: str) -> CrawlPlan:
    """What the archive knows, for this worker (each worker reads it itself)."""
    return load_plan(settings, spider)


class DistributedAddon:
    """With `GOVCRAWLER_REDIS_URL` set: join or start the spider's job, and run scrapy-redis
    on the job's keys, with the global pace and the job membership."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.server: redis.Redis | None = None
        self.keys: JobKeys | None = None
        self.job: Job | None = None
        self.plan: CrawlPlan | None = None
        self.created = False
        self.value = ""
        self.ttl_ms = 60_000

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def update_settings(self, settings: BaseSettings) -> None:
        url = settings.get("GOVCRAWLER_REDIS_URL")
        if not url:
            raise NotConfigured
        worker = settings.get("GOVCRAWLER_WORKER_ID") or default_worker_id()
        if not valid_worker_id(worker):
            raise ValueError(f"GOVCRAWLER_WORKER_ID: letters, digits, . _ -, not {worker!r}")
        prefix = settings.get("GOVCRAWLER_REDIS_PREFIX") or "govcrawler"
        spider = self.crawler.spidercls.name
        self.keys = keys = JobKeys(prefix, spider, worker, started_now())
        self.ttl_ms = max(1000, int(settings.getfloat("GOVCRAWLER_WORKER_TIMEOUT", 60) * 1000))
        plan = archive_plan(settings, spider)
        self.server = redis_client(url)
        try:
            holder = worker_holder(url, prefix, worker)
            if holder:
                raise WorkerIdInUse(worker, holder)
            fresh = Job(0, plan.full, plan.recovering, plan.now)
            self.job, self.created = join(self.server, keys, fresh, self.ttl_ms)
        except redis.RedisError as error:
            raise unavailable(url, error) from None
        job = self.job
        self.value = worker_value(keys.tag(job.id), keys.member, keys.since)
        self.plan = dataclasses.replace(plan, full=job.full, recovering=job.recovering, now=job.now)
        self._configure(settings, url, keys, job)

    def _configure(self, settings: BaseSettings, url: str, keys: JobKeys, job: Job) -> None:
        settings.set("REDIS_URL", url, PRIORITY)
        settings.set("SCHEDULER", "govcrawler.distributed.scheduler.JobScheduler", PRIORITY)
        settings.set("SCHEDULER_QUEUE_CLASS", "scrapy_redis.queue.PriorityQueue", PRIORITY)
        settings.set("DUPEFILTER_CLASS", "scrapy_redis.dupefilter.RFPDupeFilter", PRIORITY)
        settings.set("SCHEDULER_QUEUE_KEY", keys.template(job.id, "requests"), PRIORITY)
        settings.set("SCHEDULER_DUPEFILTER_KEY", keys.template(job.id, "dupefilter"), PRIORITY)
        # A worker that closes leaves the queue and fingerprints to the others; the job's
        # end deletes them (`jobs.leave`).
        settings.set("SCHEDULER_PERSIST", True, PRIORITY)
        # The engine takes requests from the scheduler while the downloader has room: with
        # Scrapy's 8, one worker would pull most of the shared queue into its own downloader
        # (waiting there for the site's pace) and leave the others idle. Two: one fetching,
        # one waiting for its slot; the rest stays in Redis for any worker.
        settings.set("CONCURRENT_REQUESTS", WORKER_CONCURRENCY, PRIORITY)
        settings.set("GOVCRAWLER_FULL", job.full, "cmdline")  # the job's, for the run record
        settings.set_in_component_priority_dict(
            "DOWNLOADER_MIDDLEWARES", GlobalPaceMiddleware, PACE_MIDDLEWARE_ORDER
        )
        settings.set_in_component_priority_dict("EXTENSIONS", JobMembership, MEMBERSHIP_ORDER)
        # scrapy-redis 0.9 passes `spider=` to the stats, which Scrapy 2.19 deprecates.
        warnings.filterwarnings(
            "ignore",
            message="Passing a 'spider' argument",
            category=ScrapyDeprecationWarning,
            module="scrapy_redis",
        )
