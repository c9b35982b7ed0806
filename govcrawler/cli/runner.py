"""Running the spider in-process and reading what it did from its stats."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings
from twisted.python.failure import Failure

from govcrawler.cli import logs
from govcrawler.spiders.sc_open_governance import OpenGovernanceSpider

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


def run_crawl(overrides: dict[str, Any], log_file: Path | None = None) -> CrawlResult:
    """Crawl once, blocking until done; the crawl's stats come back in a `CrawlResult`.

    With `log_file`, the log goes there (rotated at 10 MB, 5 files kept) instead of stderr
    (`govcrawler.cli.logs`).
    """
    settings = crawl_settings(overrides)
    logs.install(settings, log_file)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(OpenGovernanceSpider)
    crawl_and_wait(process, crawler)
    assert crawler.stats is not None
    return CrawlResult(dict(crawler.stats.get_stats()))


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
    stats: dict[str, Any]

    @property
    def finish_reason(self) -> str:
        return str(self.stats.get("finish_reason", "unknown"))

    @property
    def exit_status(self) -> int:
        """The run's verdict (see `govcrawler.runs.health` and `govcrawler.runs.records`)."""
        return int(self.stats.get("govcrawler/run/exit_status", 3))

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

    def summary(self, where: str) -> str:
        """A few lines for the operator: what was fetched, stored and dropped, and where."""
        statuses = self.with_prefix("downloader/response_status_count/")
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
            f"archive: {where}",
            f"pages fetched: {self.count('downloader/response_count')} "
            f"({_pairs(statuses) or 'none'})",
            "articles: " + ", ".join(f"{archived.get(o, 0)} {o}" for o in _OUTCOMES),
            f"captures: {archived.get('capture_stored', 0)} stored, "
            f"{archived.get('capture_revisit', 0)} revisits (no second body)",
            f"gone (404/410): {_pairs(self.with_prefix('govcrawler/gone/')) or 'none'}"
            f" ({archived.get('withdrawn', 0)} newly withdrawn, "
            f"{archived.get('still_gone', 0)} still gone, "
            f"{archived.get('not_archived', 0)} never archived)",
            f"dropped: {_pairs(dropped) or 'none'}",
            f"offsite: {self.count('govcrawler/links/offsite')} links not followed, "
            f"{refused} requests refused",
            f"extraction: {_pairs(self.with_prefix('govcrawler/extraction/')) or 'none'}",
            f"finished: {self.finish_reason}",
        ]
        return "\n".join(lines)


def _pairs(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} {value}" for key, value in counts.items())
