"""Running the spiders in-process, one after the other, and reading what each did from its
stats."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings
from scrapy.spiderloader import get_spider_loader
from scrapy.utils.reactor import install_reactor
from twisted.internet import defer
from twisted.python.failure import Failure

from govcrawler.cli import logs
from govcrawler.exceptions import BadSetting
from govcrawler.runs.records import EXIT_FAILED  # also what a spider that could not run ends with

logger = logging.getLogger(__name__)

_OUTCOMES = (
    "new",
    "new_version",
    "unchanged",
    "new_alias",
    "alias_seen",
    "near_duplicate",
    "withdrawn",
)


def crawl_settings(overrides: dict[str, Any]) -> Settings:
    """The project's settings with command-line overrides on top."""
    settings = Settings()
    settings.setmodule("govcrawler.settings", priority="project")
    settings.setdict(overrides, priority="cmdline")
    delay = settings.get("GOVCRAWLER_DOWNLOAD_DELAY")
    if delay not in (None, ""):
        # "cmdline": above replay's 0 (an add-on at "spider" priority)
        settings.set("DOWNLOAD_DELAY", float(delay), priority="cmdline")
    return settings


def spider_classes(settings: Settings) -> dict[str, type]:
    """Every spider of `SPIDER_MODULES`, by name, in name order (the order they crawl in)."""
    loader = get_spider_loader(settings)
    return {name: loader.load(name) for name in sorted(loader.list())}


def run_crawls(
    names: Sequence[str],
    overrides: dict[str, Any],
    spider_args: dict[str, str] | None = None,
    log_file: Path | None = None,
    max_runtime: int | None = None,
) -> list[CrawlResult]:
    """Crawl with each spider in turn in one process (Twisted's reactor runs once), blocking
    until all are done; each spider's stats come back in its `CrawlResult`.

    A spider that fails to run is a result with its error, and the next one runs. A shutdown
    (SIGINT/SIGTERM) or the end of `max_runtime` (seconds, for all of them together) starts no
    further spider. With `log_file`, the log goes there (rotated at 10 MB, 5 files kept)
    instead of stderr.
    """
    settings = crawl_settings(overrides)
    logs.install(settings, log_file)
    # Installed first, so that a spider failing before its crawler installs it stops no other.
    install_reactor(settings["TWISTED_REACTOR"], settings["ASYNCIO_EVENT_LOOP"])
    process = CrawlerProcess(settings)
    deadline = time.monotonic() + max_runtime if max_runtime else None
    results: list[CrawlResult] = []

    failures: list[Failure] = []

    def chain() -> None:
        crawls = _one_after_another(process, names, spider_args or {}, deadline, results)
        defer.Deferred.fromCoroutine(crawls).addErrback(failures.append).addBoth(_stop_reactor)

    from twisted.internet import reactor

    reactor.callWhenRunning(chain)
    process.start(stop_after_crawl=False)
    if failures:  # a setting of the whole crawl that cannot work: no spider may run
        failures[0].raiseException()
    return results


async def _one_after_another(
    process: CrawlerProcess,
    names: Sequence[str],
    spider_args: dict[str, str],
    deadline: float | None,
    results: list[CrawlResult],
) -> None:
    for name in names:
        left = None if deadline is None else deadline - time.monotonic()
        stopped = any(result.finish_reason == "shutdown" for result in results)
        if stopped or (left is not None and left <= 0):
            why = "the crawl was shut down" if stopped else "the --max-runtime was used up"
            results.append(CrawlResult(name, {}, not_started=why))
            continue
        crawler = process.create_crawler(name)
        if left is not None:
            crawler.settings.set("CLOSESPIDER_TIMEOUT", left, priority="cmdline")
        try:
            await process.crawl(crawler, **spider_args)
        except BadSetting:  # the same for every spider (a mistyped replay directory): fail closed
            raise
        except Exception as error:  # one spider's failure must not stop the others
            logger.error("spider %s could not run: %s: %s", name, type(error).__name__, error)
            logger.debug("spider %s could not run", name, exc_info=True)
            results.append(CrawlResult(name, _stats(crawler), f"{type(error).__name__}: {error}"))
            continue
        results.append(CrawlResult(name, _stats(crawler)))


def _stats(crawler: Crawler) -> dict[str, Any]:
    stats = crawler._stats  # None when the crawl failed before it had any
    return dict(stats.get_stats()) if stats is not None else {}


def _stop_reactor(result: Any) -> Any:
    from twisted.internet import reactor
    from twisted.internet.error import ReactorNotRunning

    with contextlib.suppress(ReactorNotRunning):  # a second SIGINT stopped it already
        reactor.stop()  # type: ignore[misc]
    return result


def crawl_and_wait(process: CrawlerProcess, crawler: Crawler, **kwargs: Any) -> None:
    """Run `crawler` to its end; a crawl that failed to start (a `BadSetting` from an add-on,
    say) raises here, instead of ending as an "Unhandled error in Deferred" traceback."""
    failures: list[Failure] = []
    process.crawl(crawler, **kwargs).addErrback(failures.append)
    process.start()
    if failures:
        failures[0].raiseException()


@dataclass(frozen=True)
class CrawlResult:
    spider: str
    stats: dict[str, Any]
    error: str | None = None  # why the spider could not run at all
    not_started: str | None = None  # why it was not started (a shutdown, the runtime used up)

    @property
    def finish_reason(self) -> str:
        return str(self.stats.get("finish_reason", "unknown"))

    @property
    def exit_status(self) -> int:
        """The run's verdict (see `govcrawler.runs.health` and `govcrawler.runs.records`);
        0 for a spider not started, as for one stopped by a shutdown or the runtime."""
        if self.not_started is not None:
            return 0
        return int(self.stats.get("govcrawler/run/exit_status", EXIT_FAILED))

    @property
    def problems(self) -> list[str]:
        return list(self.stats.get("govcrawler/run/problems", []))

    def count(self, key: str) -> int:
        return int(self.stats.get(key, 0))

    def with_prefix(self, prefix: str) -> dict[str, int]:
        return {
            key.removeprefix(prefix): int(value)
            for key, value in sorted(self.stats.items())
            if key.startswith(prefix)
        }

    def summary(self) -> str:
        """A few lines for the operator, headed by the spider: what was fetched, stored and
        dropped."""
        if self.error is not None:
            return f"spider: {self.spider}\ncould not run: {self.error}"
        if self.not_started is not None:
            return f"spider: {self.spider}\nnot started: {self.not_started}"
        files = self.with_prefix("govcrawler/files/status/")
        statuses = {  # pages only: the files' answers are counted on their own line
            status: n - files.get(status, 0)
            for status, n in self.with_prefix("downloader/response_status_count/").items()
            if n > files.get(status, 0)
        }
        archived = self.with_prefix("govcrawler/archive/")
        dropped = self.with_prefix("govcrawler/dropped/") | {
            f"http_{status}": count
            for status, count in self.with_prefix(
                "httperror/response_ignored_status_count/"
            ).items()
        }
        refused = sum(self.with_prefix("govcrawler/refused/").values()) + self.count(
            "offsite/filtered"
        )
        lines = [
            f"spider: {self.spider}",
            f"pages fetched: {self.count('downloader/response_count') - sum(files.values())} "
            f"({_pairs(statuses) or 'none'})",
            "articles: " + ", ".join(f"{archived.get(o, 0)} {o}" for o in _OUTCOMES),
            f"captures: {archived.get('capture_stored', 0)} stored, "
            f"{archived.get('capture_revisit', 0)} revisits (no second body); list pages "
            f"{archived.get('list_stored', 0)} stored, {archived.get('list_revisit', 0)} revisits",
            *self._file_lines(archived),
            f"gone (404/410): {_pairs(self.with_prefix('govcrawler/gone/')) or 'none'}"
            f" ({archived.get('withdrawn', 0)} newly withdrawn, "
            f"{archived.get('still_gone', 0)} still gone, "
            f"{archived.get('not_archived', 0)} never archived)",
            f"dropped: {_pairs(dropped) or 'none'}",
            f"offsite: {self.count('govcrawler/links/offsite')} links not followed, "
            f"{refused} requests refused",
            f"extraction: {_pairs(self.with_prefix('govcrawler/extraction/')) or 'none'}",
            *self._document_lines(),
            f"finished: {self.finish_reason}",
        ]
        return "\n".join(lines)

    def _file_lines(self, archived: dict[str, int]) -> list[str]:
        """The files of the archived pages: what became of them, their kinds, their text."""
        outcomes = {k[len("file_") :]: v for k, v in archived.items() if k.startswith("file_")}
        outcomes = {k: v for k, v in outcomes.items() if "/" not in k}
        if not outcomes and not self.with_prefix("govcrawler/files/"):
            return []  # no file was asked about this run
        kinds = {k[len("file_kind/") :]: v for k, v in archived.items() if "file_kind/" in k}
        texts = {k[len("file_text/") :]: v for k, v in archived.items() if "file_text/" in k}
        fetched = self.with_prefix("govcrawler/files/status/")
        return [
            f"files fetched: {sum(fetched.values())} ({_pairs(fetched) or 'none'}); archived: "
            f"{_pairs(outcomes) or 'none'}; stored by kind: {_pairs(kinds) or 'none'}; "
            f"{self.count('govcrawler/files/known_skipped')} links to files not due",
            f"file text: {_pairs(texts) or 'none'}",
        ]

    def _document_lines(self) -> list[str]:
        """What a spider of 政务公开 documents read: documents by metadata layout and by where
        their validity came from, list pages by shape, the list API's answers."""
        lines = []
        if "govcrawler/coverage/documents" in self.stats:
            lines += [
                f"documents: {self.count('govcrawler/coverage/documents')} extracted; layout "
                f"{_pairs(self.with_prefix('govcrawler/documents/layout/')) or 'none'}",
                "validity from: "
                + (_pairs(self.with_prefix("govcrawler/documents/validity_source/")) or "none"),
                "metadata found: "
                + (_pairs(self.with_prefix("govcrawler/coverage/document/")) or "none")
                + "; kept raw, unread: "
                + (_pairs(self.with_prefix("govcrawler/documents/unparsed/")) or "none"),
            ]
        for label, prefix in (("lists by shape", "lists/shape/"), ("list API", "api/")):
            counts = self.with_prefix("govcrawler/" + prefix)
            if counts:
                lines.append(f"{label}: {_pairs(counts)}")
        sentinels = self.count("govcrawler/boilerplate/sentinel_in_body")
        if sentinels:
            lines.append(f"boilerplate: {sentinels} bodies still carry a footer line")
        return lines


def _pairs(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} {value}" for key, value in counts.items())
