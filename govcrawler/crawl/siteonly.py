"""Downloader middleware that keeps every request on www.sc.gov.cn over https."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest

from govcrawler.extract.urls import canonical_url, is_site_url

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)


class SiteOnlyMiddleware:
    """Refuses any request off www.sc.gov.cn (a redirect to a mirror included) and rewrites
    `http://` requests of the site to their canonical `https://` form."""

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_request(self, request: Request) -> Request | None:
        if not is_site_url(request.url):
            self.stats.inc_value("govcrawler/refused/offsite")
            logger.info("refused a request off www.sc.gov.cn: %s", request.url)
            raise IgnoreRequest(f"offsite: {request.url}")
        canonical = canonical_url(request.url)
        if canonical and canonical != request.url and request.url.startswith("http://"):
            self.stats.inc_value("govcrawler/rewritten/https")
            return request.replace(url=canonical)
        return None
