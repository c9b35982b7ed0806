"""A Scrapy extension for the benchmarks: what the crawl holds in its scheduler, once a second.

Enabled by `measure.govcrawler_crawl(..., probe=path)` (it adds itself to EXTENSIONS, as an
operator would in settings.py); it writes one JSON line a second to `path`: seconds since the
engine started, the requests waiting in the scheduler (Scrapy's own stats: enqueued −
dequeued), the responses so far and those of them that were files (the spider's
`govcrawler/files/status/*` counts), and the responses Scrapy's scraper holds at once (its
private `slot.active`, when it has one). RSS is not read here: measure.py samples it.
"""

from __future__ import annotations

import json
import os
import time
from typing import TYPE_CHECKING, Any

from scrapy import signals
from twisted.internet import task

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

ENV = "GOVCRAWLER_BENCH_PROBE"


class SchedulerProbe:
    def __init__(self, crawler: Crawler, path: str) -> None:
        self.crawler, self.path = crawler, path
        self.start = time.monotonic()
        self.loop: task.LoopingCall | None = None
        crawler.signals.connect(self.opened, signals.engine_started)
        crawler.signals.connect(self.closed, signals.engine_stopped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SchedulerProbe:
        from scrapy.exceptions import NotConfigured

        path = os.environ.get(ENV)
        if not path:
            raise NotConfigured
        return cls(crawler, path)

    def opened(self) -> None:
        self.start = time.monotonic()
        self.out = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (closed in `closed`)
        self.loop = task.LoopingCall(self.sample)
        self.loop.start(1.0)

    def sample(self) -> None:
        stats: Any = self.crawler.stats
        get = stats.get_value
        line = {
            "t": round(time.monotonic() - self.start, 2),
            "waiting": (get("scheduler/enqueued", 0) - get("scheduler/dequeued", 0)),
            "responses": get("response_received_count", 0),
            "file_responses": sum(
                value for key, value in stats.get_stats().items()
                if key.startswith("govcrawler/files/status/")
            ),
        }  # fmt: skip
        # Scrapy's own (private) count of the responses its scraper holds: diagnostics only
        slot = getattr(getattr(self.crawler.engine, "scraper", None), "slot", None)
        if slot is not None:
            line["in_scraper"] = len(getattr(slot, "active", ()))
        self.out.write(json.dumps(line) + "\n")
        self.out.flush()

    def closed(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.out.close()
