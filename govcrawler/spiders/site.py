"""What every spider of www.sc.gov.cn shares: its start page and scope, the start request, the
site-only link check, the errback and its counting, the raw response as the archive keeps it;
and the policy of lists and detail pages (articles, documents): which detail pages are
requested (the incremental plan, due revisits), when a list's next page is asked for, and what a
detail page's answer means (304, 404/410, a redirect, not text) before the spider reads it
(`read_detail`).

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
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from govcrawler.crawl.faults import KillSwitch
from govcrawler.extract.encoding import page_text
from govcrawler.extract.urls import (
    article_ref,
    canonical_url,
    in_scope,
    is_page_url,
    is_site_url,
    list_page_number,
    numbered_page_url,
)
from govcrawler.items import Fetch, NotModified, PageGone, UnreadablePage
from govcrawler.runs.plan import CrawlPlan, load_plan
from govcrawler.spiders.fetch import fetch_of
from govcrawler.spiders.files import FileRequests

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

LIST_PRIORITY = 10  # lists before articles: news is found first, and names before pages
# A list's next page waits for the detail pages its page found: were it a list page like the
# first, the whole list would be read first, and every article of the site would wait in the
# scheduler's queue (a 100,000-page crawl held some 95,000 requests in memory).
NEXT_PAGE_PRIORITY = -1
NOT_MODIFIED = 304  # the answer to a conditional revisit of an unchanged page
GONE_STATUSES = [404, 410]
REDIRECTS = [301, 302, 303, 307, 308]  # a detail URL that answers these was taken down


class SiteSpider(FileRequests, scrapy.Spider):
    """Base of the spiders of www.sc.gov.cn (no `name`: Scrapy does not list it)."""

    allowed_domains: ClassVar[list[str]] = ["www.sc.gov.cn"]
    start_url: str = ""
    scope_prefixes: ClassVar[tuple[str, ...]] = ()
    count_departments: ClassVar[bool] = False  # `links/department` apart from `links/offsite`

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

    def due_requests(self) -> Iterator[scrapy.Request]:
        """Known detail pages and files due again, linked or not."""
        for due in self.plan.due_urls():
            if self.is_detail_url(due) and in_scope(due, self.scope):
                self.count("incremental/revisits")
                yield from self.detail_request(due)
        for due in self.plan.due_files():  # under a page's folder, so in its spider's scope
            if in_scope(due, self.scope):
                self.count("files/revisits")
                yield from self.file_request(due, self.plan.files[due].kind)

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
        """The canonical URL of an in-scope page link; None for anything not to follow (a link
        off the site is counted: `links/department` for a department's `*.sc.gov.cn` when
        the spider tells them apart, else `links/offsite`)."""
        url = canonical_url(href, base)
        if url is None or not is_page_url(url):
            return None
        if not is_site_url(url):
            host = (urlsplit(url).hostname or "").lower()
            department = self.count_departments and host.endswith(".sc.gov.cn")
            self.count("links/department" if department else "links/offsite")
            return None
        return url if in_scope(url, self.scope) else None

    def is_detail_url(self, url: str) -> bool:
        """A detail page (article, document), as opposed to a list; by URL shape."""
        return article_ref(url) is not None

    def next_page(
        self, response: TextResponse, count: int | None, last_new: bool, linked: set[str]
    ) -> Iterator[scrapy.Request]:
        """The list's next page, once this one has answered: pages are read one after the
        other (a pager's count is a claim, not a list of pages), until one is missing, or,
        unless every page is to be read, until `GOVCRAWLER_KNOWN_PAGES_TOLERANCE` pages in a
        row ended in a known detail page.

        Lists run newest first, so a page whose last entry is archived holds the boundary
        between new and known: what follows is known. A page ending in a new entry may
        continue on the next one. Judging by the last entry, not by any known one, keeps a
        pinned (known) entry at the top of page 1 from stopping the walk."""
        streak = 0 if last_new else response.meta.get("known_streak", 0) + 1
        following = (list_page_number(response.url) or 1) + 1
        next_url = numbered_page_url(response.url, following)
        if not ((count and following <= count) or next_url in linked):
            return
        if self.keep_paging(streak):
            yield self.request(
                next_url, self.parse, priority=NEXT_PAGE_PRIORITY, meta={"known_streak": streak}
            )

    def keep_paging(self, streak: int) -> bool:
        """Whether a list goes on after `streak` pages in a row ended in a known detail page
        (always when every page is to be read); counts the stop."""
        tolerance = self.settings.getint("GOVCRAWLER_KNOWN_PAGES_TOLERANCE", 1)
        if not self.plan.walk_all_pages and streak >= tolerance:
            self.count("incremental/paging_stopped")
            return False
        return True

    def detail_request(self, url: str, hops: int = 0) -> Iterator[scrapy.Request]:
        """A detail page, if the plan wants it, conditional on its validators."""
        if not self.plan.wanted(url):
            self.count("incremental/known_skipped")
            return
        yield self.request(
            url,
            self.parse_detail,
            headers=self.plan.conditional_headers(url),
            meta={
                "article_redirects": hops,
                "handle_httpstatus_list": [NOT_MODIFIED, *GONE_STATUSES, *REDIRECTS],
                "dont_redirect": True,  # a detail page's redirect is captured, then followed here
            },
        )

    def parse_detail(self, response: Response) -> Iterator[Any]:
        """A detail page: what `read_detail` makes of it, or a counted `NotModified`,
        `PageGone` or `UnreadablePage` (a redirect, followed if it stays in scope)."""
        fetch = fetch_of(response)
        self.kill_switch.tick("response")
        if response.status == NOT_MODIFIED:
            self.count("incremental/not_modified")
            yield NotModified(fetch)
        elif response.status in REDIRECTS:
            yield UnreadablePage(fetch, "redirect")
            yield from self._follow_redirect(response)
        elif response.status in GONE_STATUSES:
            self.count(f"gone/{response.status}")
            yield PageGone(fetch)
        elif not isinstance(response, TextResponse):
            self.count("dropped/not_text")
            yield UnreadablePage(fetch, "not_text")
        else:
            yield from self.read_detail(response, fetch)

    def read_detail(self, response: TextResponse, fetch: Fetch) -> Iterator[Any]:
        """The item of a detail page that answered 200 with text (each spider its own)."""
        raise NotImplementedError

    def _follow_redirect(self, response: Response) -> Iterator[scrapy.Request]:
        """Follow a detail page's redirect if it stays in scope on the site; count it if not."""
        location = response.headers.get("Location")
        target = canonical_url(location.decode("latin-1"), response.url) if location else None
        if target is None or not is_site_url(target) or not in_scope(target, self.scope):
            self.count("refused/offsite_redirect")
            self.logger.info("not following %s to %s", response.url, target)
            return
        hops = response.meta.get("article_redirects", 0) + 1
        if hops > self.settings.getint("REDIRECT_MAX_TIMES", 20):
            self.count("refused/redirect_limit")
            self.logger.warning("too many redirects, stopped at %s", response.url)
            return
        self.count("redirects/followed")
        yield from self.detail_request(target, hops)

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
