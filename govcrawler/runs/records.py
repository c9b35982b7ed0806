"""Run records: every crawl opens a row in `crawl_run` and closes it with what it did.

A run is one spider's (`crawl_run.spider`). At the start, runs of this host left `running` by
a dead process are closed as `crashed`. At the end, the run's stats are checked against the
previous complete runs of the same spider (`govcrawler.runs.health`): another spider's columns
and fields are not this one's. The outcome, exit status, counts and problems are written. The
stats carry the verdict back to the command line: `govcrawler/run/exit_status` and
`govcrawler/run/problems`; `govcrawler/run/id` is set from the start (the archive
pipeline records changes with it).
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

import storage
from govcrawler.runs.health import Thresholds, check_run, exit_status
from storage.runs import (
    RunReport,
    close_dead_runs,
    finish_run,
    needs_recovery,
    recent_runs,
    start_run,
)

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

# How Scrapy's finish reasons map to a run's outcome.
OUTCOMES = {
    "finished": "finished",
    "closespider_timeout": "timeout",
    "shutdown": "interrupted",
    "archive_error": "failed",
    "blocked": "blocked",
    "redis_error": "failed",  # a distributed worker lost its Redis (govcrawler/distributed/)
    "start_error": "failed",  # the spider could not start (a start URL off the site, say)
}
EXIT_FAILED = 3  # the run could not do its work (e.g. the archive could not be written)
_KEPT_STATS = ("downloader/", "govcrawler/", "item_", "finish_reason", "elapsed_time_seconds")


class RunRecorder:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.database_url = crawler.settings.get("GOVCRAWLER_DATABASE_URL")
        if not self.database_url:
            raise NotConfigured("GOVCRAWLER_DATABASE_URL is not set")
        self.thresholds = Thresholds.from_settings(crawler.settings.get)
        self.host, self.run_id = socket.gethostname(), 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        recorder = cls(crawler)
        crawler.signals.connect(recorder.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        return recorder

    def spider_opened(self, spider: Spider) -> None:
        engine = storage.open_archive(self.database_url)
        try:
            with storage.session_factory(engine).begin() as session:
                now = datetime.now(UTC)
                crashed = close_dead_runs(session, self.host, _alive, now)
                if crashed:
                    logger.warning("runs %s had died without closing: marked crashed", crashed)
                run = start_run(
                    session,
                    spider.name,
                    now,
                    os.getpid(),
                    self.host,
                    full=self.crawler.settings.getbool("GOVCRAWLER_FULL"),
                    recovery=needs_recovery(session, spider.name, os.getpid(), self.host),
                )
                self.run_id = run.id
        finally:
            engine.dispose()
        # The archive pipeline records each change with the run that saw it.
        assert self.crawler.stats is not None
        self.crawler.stats.set_value("govcrawler/run/id", self.run_id)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        assert self.crawler.stats is not None
        stats = dict(self.crawler.stats.get_stats())
        stats["finish_reason"] = reason
        engine = storage.open_archive(self.database_url)
        try:
            with storage.session_factory(engine).begin() as session:
                previous = [
                    run.stats
                    for run in recent_runs(session, 10, spider.name)
                    if run.id != self.run_id and run.outcome in ("finished", "failed_health")
                ]
                report = self._report(stats, previous, reason, _recovering(spider))
                finish_run(session, self.run_id, datetime.now(UTC), report)
        finally:
            engine.dispose()
        self.crawler.stats.set_value("govcrawler/run/id", self.run_id)
        self.crawler.stats.set_value("govcrawler/run/exit_status", report.exit_status)
        self.crawler.stats.set_value("govcrawler/run/problems", report.problems)
        for problem in report.problems:
            logger.error("health check failed: %s", problem)

    def _report(
        self, stats: dict[str, Any], previous: list[Any], reason: str, recovery: bool
    ) -> RunReport:
        outcome = OUTCOMES.get(reason, reason)
        if outcome == "finished" and _int(stats, "govcrawler/archive/error"):
            outcome = "failed"  # a batch was not written (the last, at close, ends no crawl)
        judged = outcome in ("finished", "blocked")
        problems = check_run(*_judged(stats, previous), self.thresholds) if judged else []
        status = exit_status(problems) if outcome != "failed" else EXIT_FAILED
        if problems:
            outcome = "blocked" if any(p.blocked for p in problems) else "failed_health"
        return RunReport(
            outcome=outcome,
            exit_status=status,
            recovery=recovery,
            requests=_int(stats, "downloader/request_count"),
            responses_by_status=_prefixed(stats, "downloader/response_status_count/"),
            new_articles=_int(stats, "govcrawler/archive/new"),
            new_versions=_int(stats, "govcrawler/archive/new_version"),
            withdrawn=_int(stats, "govcrawler/archive/withdrawn"),
            dropped=_prefixed(stats, "govcrawler/dropped/")
            | {
                f"http_{k}": v
                for k, v in _prefixed(stats, "httperror/response_ignored_status_count/").items()
            },
            extraction_fallbacks=_int(stats, "govcrawler/extraction/generic"),
            blocked=_int(stats, "govcrawler/blocked"),
            stats={k: _plain(v) for k, v in stats.items() if k.startswith(_KEPT_STATS)},
            problems=[problem.message for problem in problems],
        )


def _judged(stats: dict[str, Any], previous: list[Any]) -> tuple[dict[str, Any], list[Any]]:
    """What the health checks compare. A worker of a distributed crawl saw only part of the
    job: the worker that finished the job judges the whole job's counts against the previous
    runs; the others only their own, against nothing (blocks, fallbacks, errors, no drops)."""
    if "govcrawler/distributed/job" not in stats:
        return stats, previous
    job = stats.get("govcrawler/distributed/job_stats")
    return (job, previous) if job else (stats, [])


def _recovering(spider: Spider) -> bool:
    plan = getattr(spider, "plan", None)
    return bool(plan and plan.recovering)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _int(stats: dict[str, Any], key: str) -> int:
    return int(stats.get(key, 0) or 0)


def _prefixed(stats: dict[str, Any], prefix: str) -> dict[str, int]:
    return {k.removeprefix(prefix): int(v) for k, v in stats.items() if k.startswith(prefix)}


def _plain(value: Any) -> Any:
    """A JSON-friendly stat value (datetimes as ISO text)."""
    return value.isoformat() if isinstance(value, datetime) else value
