"""Start pages: what became of a run's first request, for the health checks.

A run whose start page fails (unreachable, 404, 5xx, blocked, refused, redirected off the site)
archives nothing, yet finishes like a healthy one. These components write its fate into the
stats, where `govcrawler.runs.health` turns a failure into a problem:

- `StartPageSpiderMiddleware.process_start` tags the spider's first start request (meta
  `START_META`) and keeps its URL (`govcrawler/start_url`); later start requests (revisits of
  known articles) are not start pages.
- `StartPageMiddleware`, the downloader middleware nearest the engine, sees the final answer
  after retries and redirects: `govcrawler/start/<status>` for a response,
  `govcrawler/start/<error name>` for an error nobody turned into one (`refused` for an
  `IgnoreRequest`: robots.txt, the site-only guard). `govcrawler/start_detail` says more.
- A block page is dropped in `politeness` before it gets here: it calls `record_fate` itself.
  A redirect off the site is dropped when scheduled (Scrapy's OffsiteMiddleware), before any
  middleware sees it: `StartPageSpiderMiddleware` watches `request_scheduled` for it.

Every fate is a summed counter, so the counts of a distributed job add up across workers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from scrapy import Request, signals
from scrapy.exceptions import IgnoreRequest

from govcrawler.extract.urls import is_site_url

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.statscollectors import StatsCollector

START_META = "govcrawler_start_page"
FATE_PREFIX = "govcrawler/start/"
START_URL = "govcrawler/start_url"
START_DETAIL = "govcrawler/start_detail"


def record_fate(stats: StatsCollector, request: Request, fate: str, detail: str = "") -> None:
    """Count `fate` if `request` is a start page (anything else is left alone)."""
    if not request.meta.get(START_META):
        return
    stats.inc_value(FATE_PREFIX + fate)
    if detail:
        stats.set_value(START_DETAIL, detail)


class StartPageSpiderMiddleware:
    """Tags the first request the spider's `start()` yields as the run's start page, and
    records a redirect of it off the site."""

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        assert crawler.stats is not None
        middleware = cls(crawler.stats)
        crawler.signals.connect(middleware.request_scheduled, signals.request_scheduled)
        return middleware

    def request_scheduled(self, request: Request) -> None:
        if request.meta.get("redirect_urls") and not is_site_url(request.url):
            record_fate(self.stats, request, "refused", f"redirected off the site: {request.url}")
            request.meta.pop(START_META, None)  # counted once, whoever drops it

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        tagged = False
        async for item_or_request in start:
            if not tagged and isinstance(item_or_request, Request):
                item_or_request.meta[START_META] = True
                self.stats.set_value(START_URL, item_or_request.url)
                tagged = True
            yield item_or_request


class StartPageMiddleware:
    """Records the final answer to the start page (register it nearest the engine)."""

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_response(self, request: Request, response: Response) -> Response:
        moved = response.url != request.meta.get("redirect_urls", [response.url])[0]
        detail = f"redirected to {response.url}" if moved else ""
        record_fate(self.stats, request, str(response.status), detail)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        fate = "refused" if isinstance(exception, IgnoreRequest) else type(exception).__name__
        record_fate(self.stats, request, fate, " ".join(str(exception).split()))
