"""What every spider of www.sc.gov.cn shares: its start page and scope, the start request, the
site-only link check, the errback and its counting, the raw response as the archive keeps it.

A spider of this site subclasses `SiteSpider` and sets `name`, `start_url` and
`scope_prefixes`; its callbacks say what to follow and what to yield. Crawl policy only: what a
page says is read by `govcrawler.extract`.

Start page and scope, most specific first: the spider argument (`scrapy crawl NAME -a
start_url=URL -a scope_prefixes=/a/,/b/`, or `govcrawler crawl --spider NAME --start-url URL`),
then the settings `GOVCRAWLER_START_URL` / `GOVCRAWLER_SCOPE_PREFIXES` (which apply to every
spider of a process, so `govcrawler crawl` takes them only for one spider), then the class.
"""

from __future__ import annotations

import codecs
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from govcrawler.crawl.faults import KillSwitch
from govcrawler.extract.encoding import page_text
from govcrawler.extract.urls import canonical_url, in_scope, is_page_url, is_site_url
from govcrawler.items import Fetch
from govcrawler.runs.plan import CrawlPlan, load_plan

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

LIST_PRIORITY = 10  # lists before articles: news is found first, and names before pages


class SiteSpider(scrapy.Spider):
    """Base of the spiders of www.sc.gov.cn (no `name`: Scrapy does not list it)."""

    allowed_domains: ClassVar[list[str]] = ["www.sc.gov.cn"]
    start_url: str = ""
    scope_prefixes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plan = CrawlPlan()
        self.kill_switch = KillSwitch("")
        self.scope: tuple[str, ...] = type(self).scope_prefixes

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.start_url, spider.scope = cls.configured(crawler.settings, kwargs)
        spider.kill_switch = KillSwitch.from_settings(crawler.settings)
        return spider

    @classmethod
    def configured(
        cls, settings: BaseSettings, arguments: dict[str, Any]
    ) -> tuple[str, tuple[str, ...]]:
        """Start page and scope from the spider arguments, else the settings, else the class;
        a `ValueError` for a start page off the site or a scope that is not path prefixes."""
        url = arguments.get("start_url") or settings.get("GOVCRAWLER_START_URL") or cls.start_url
        prefixes = arguments.get("scope_prefixes") or settings.getlist("GOVCRAWLER_SCOPE_PREFIXES")
        return start_page(url), scope(prefixes or cls.scope_prefixes)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        """The start page, read by `parse`; a subclass may add requests after it."""
        self.plan = self._load_plan()
        if self.plan.recovering:
            self.logger.info("the previous run did not finish: reading every list page")
        yield self.request(self.start_url, self.parse, priority=LIST_PRIORITY)

    def _load_plan(self) -> CrawlPlan:
        """This run's plan; in a distributed crawl, the one all workers of the job share
        (`govcrawler.distributed.scheduler.JobScheduler.job_plan`)."""
        engine = self.crawler.engine
        shared = getattr(engine.scheduler if engine else None, "job_plan", None)
        return shared if isinstance(shared, CrawlPlan) else load_plan(self.settings, self.name)

    def request(self, url: str, callback: Any, **kwargs: Any) -> scrapy.Request:
        """A request whose errors are counted by `failed`."""
        return scrapy.Request(url, callback=callback, errback=self.failed, **kwargs)

    def failed(self, failure: Failure) -> None:
        """A request that ended in an error no middleware turned into an outcome: one log
        line and a counter (refusals and blocks are counted where they happen)."""
        if failure.check(HttpError):  # a status no callback handles: dropped, by status
            status = failure.value.response.status
            self.count(f"dropped/http_{status}")
            self.logger.info("dropped (HTTP %s): %s", status, failure.value.response.url)
            return
        if failure.check(IgnoreRequest):
            return
        name = type(failure.value).__name__
        self.count(f"failed/{name}")
        request = getattr(failure, "request", None)
        self.logger.warning("request failed (%s): %s", name, request.url if request else "?")

    def site_url(self, href: str, base: str) -> str | None:
        """The canonical URL of an in-scope page link; None for anything not to follow."""
        url = canonical_url(href, base)
        if url is None or not is_page_url(url):
            return None
        if not is_site_url(url):
            self.count("links/offsite")
            return None
        return url if in_scope(url, self.scope) else None

    def text(self, response: TextResponse) -> str:
        """The page decoded by `page_text`, counting where it overrode Scrapy's decoding."""
        content_type = response.headers.get("Content-Type")
        text, encoding = page_text(
            response.body, content_type.decode("latin-1") if content_type else None
        )
        if response.body and codecs.lookup(encoding).name != codecs.lookup(response.encoding).name:
            self.count(f"encoding/corrected/{response.encoding}->{encoding}")
        return text

    def count(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"govcrawler/{key}")


def start_page(url: str) -> str:
    """The canonical start URL; a `ValueError` unless it is a page of www.sc.gov.cn."""
    canonical = canonical_url(url) if url else None
    if canonical is None or not is_site_url(canonical):
        raise ValueError(f"the start URL must be a www.sc.gov.cn page, not {url!r}")
    return canonical


def scope(prefixes: Any) -> tuple[str, ...]:
    """Path prefixes from a list or a comma-separated string (`-a scope_prefixes=/a/,/b/`)."""
    items = prefixes.split(",") if isinstance(prefixes, str) else list(prefixes)
    cleaned = tuple(prefix.strip() for prefix in items if prefix.strip())
    if not cleaned or not all(prefix.startswith("/") for prefix in cleaned):
        raise ValueError(f"the scope must be path prefixes like /10462/10758/, not {prefixes!r}")
    return cleaned


def fetch_of(response: Response) -> Fetch:
    """The raw response as the archive keeps it: requested and final URL, status, headers."""
    headers = {
        key.decode("latin-1"): b", ".join(values).decode("latin-1")
        for key, values in response.headers.items()
    }
    requested = (response.request.meta.get("redirect_urls") if response.request else None) or [
        response.url
    ]
    return Fetch(
        url=requested[0],
        final_url=response.url,
        status=response.status,
        fetched_at=datetime.now(UTC),
        body=response.body,
        headers=headers,
    )
