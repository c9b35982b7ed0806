"""sc_open_governance: the "Open Governance" section of www.sc.gov.cn, English site.

Start: the English home page (`GOVCRAWLER_START_URL`). The section is found by link shape only
(`govcrawler.extract.urls`): an in-scope URL (`GOVCRAWLER_SCOPE_PREFIXES`) shaped like an article
(`/<column path>/<YYYY>/<M>/<D>/<8-digit or 32-hex id>.shtml`) is an article page; any other
in-scope page is a channel or list page, whose links are followed and whose pager script, if it
has one, gives the numbered pages `<name>_2.shtml` … Only www.sc.gov.cn is requested, always
over https. Crawl policy only: what a page says is read by `govcrawler.extract`.
"""

from __future__ import annotations

import codecs
import re
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from govcrawler.crawl.faults import KillSwitch
from govcrawler.exceptions import ExtractionError
from govcrawler.extract.article import article_from_page
from govcrawler.extract.encoding import page_text
from govcrawler.extract.listing import list_page_count, page_links
from govcrawler.extract.model import Article
from govcrawler.extract.urls import (
    article_ref,
    canonical_url,
    in_scope,
    is_page_url,
    is_site_url,
    list_column_id,
    list_page_number,
    numbered_page_url,
)
from govcrawler.items import (
    ArticlePage,
    ColumnLabel,
    Fetch,
    NotModified,
    PageGone,
    UnreadablePage,
)
from govcrawler.runs.plan import CrawlPlan, load_plan

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

# Link texts that name a page of a list, not the column it belongs to.
_PAGER_TEXT = re.compile(
    r"^(?:\d+|more|more\s*>+|next|prev(?:ious)?|first|last|home|>+|<+|»|«|下一页|上一页|首页|尾页)$",
    re.IGNORECASE,
)
NOT_MODIFIED = 304  # the answer to a conditional revisit of an unchanged page
GONE_STATUSES = [404, 410]
REDIRECTS = [301, 302, 303, 307, 308]  # an article URL that answers these was taken down
LIST_PRIORITY = 10  # lists before articles: news is found first, and names before pages
# A list's next page waits for the articles its page found: were it a list page like the
# first, the whole list would be read first, and every article of the site would wait in the
# scheduler's queue (a 100,000-page crawl held some 95,000 requests in memory).
NEXT_PAGE_PRIORITY = -1


class OpenGovernanceSpider(scrapy.Spider):
    name = "sc_open_governance"
    allowed_domains = ["www.sc.gov.cn"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.column_names: dict[str, Counter[str]] = defaultdict(Counter)
        self.plan = CrawlPlan()
        self.kill_switch = KillSwitch("")

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.kill_switch = KillSwitch.from_settings(crawler.settings)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        url = canonical_url(self.settings.get("GOVCRAWLER_START_URL"))
        if url is None or not is_site_url(url):
            raise ValueError(f"GOVCRAWLER_START_URL must be a www.sc.gov.cn URL, not {url!r}")
        self.plan = self._load_plan()
        if self.plan.recovering:
            self.logger.info("the previous run did not finish: reading every list page")
        yield scrapy.Request(
            url, callback=self.parse_page, errback=self.failed, priority=LIST_PRIORITY
        )
        for due in self.plan.due_urls():
            if article_ref(due) and in_scope(due, self.scope):
                self._count("incremental/revisits")
                for request in self._article_request(due):
                    yield request

    def _load_plan(self) -> CrawlPlan:
        """This run's plan; in a distributed crawl, the one all workers of the job share
        (`govcrawler.distributed.JobScheduler.job_plan`)."""
        engine = self.crawler.engine
        shared = getattr(engine.scheduler if engine else None, "job_plan", None)
        return shared if isinstance(shared, CrawlPlan) else load_plan(self.settings)

    @property
    def scope(self) -> list[str]:
        return self.settings.getlist("GOVCRAWLER_SCOPE_PREFIXES")

    def parse_page(self, response: Response) -> Iterator[scrapy.Request | ColumnLabel]:
        """A home, channel or list page: follow its in-scope links and its pager."""
        if not isinstance(response, TextResponse):
            self._count("skipped/not_text")
            return
        last_article_new, linked = False, set()
        for link in page_links(response.text, response.url):
            url = self._site_url(link.href, response.url)
            if url is None:
                continue
            linked.add(url)
            ref = article_ref(url)
            if ref is not None:
                self._count(f"links/column/{ref.column_id}")
                last_article_new = not self.plan.is_known(url)
                yield from self._article_request(url)
            elif list_page_number(url) is None:  # numbered pages: one by one, below
                yield from self._column_label(url, link.text)
                yield scrapy.Request(
                    url, callback=self.parse_page, errback=self.failed, priority=LIST_PRIORITY
                )
        yield from self._next_page(response, last_article_new, linked)

    def _next_page(
        self, response: TextResponse, last_article_new: bool, linked: set[str]
    ) -> Iterator[scrapy.Request]:
        """The list's next page, once this one has answered: pages are read one after the
        other (a pager's count is a claim, not a list of pages), until one is missing, or,
        unless every page is to be read, until `GOVCRAWLER_KNOWN_PAGES_TOLERANCE` pages in a
        row ended in a known article.

        Lists run newest first, so a page whose last article is archived holds the boundary
        between new and known: what follows is known. A page ending in a new article may
        continue on the next one. Judging by the last article, not by any known article, keeps
        a pinned (known) article at the top of page 1 from stopping the walk."""
        count = list_page_count(response.text)
        streak = 0 if last_article_new else response.meta.get("known_streak", 0) + 1
        following = (list_page_number(response.url) or 1) + 1
        next_url = numbered_page_url(response.url, following)
        if not ((count and following <= count) or next_url in linked):
            return
        tolerance = self.settings.getint("GOVCRAWLER_KNOWN_PAGES_TOLERANCE", 1)
        if not self.plan.walk_all_pages and streak >= tolerance:
            self._count("incremental/paging_stopped")
            return
        yield scrapy.Request(
            next_url,
            callback=self.parse_page,
            errback=self.failed,
            priority=NEXT_PAGE_PRIORITY,
            meta={"known_streak": streak},
        )

    def _article_request(self, url: str, hops: int = 0) -> Iterator[scrapy.Request]:
        if not self.plan.wanted(url):
            self._count("incremental/known_skipped")
            return
        yield scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.failed,
            headers=self.plan.conditional_headers(url),
            meta={
                "article_redirects": hops,
                "handle_httpstatus_list": [NOT_MODIFIED, *GONE_STATUSES, *REDIRECTS],
                "dont_redirect": True,  # an article's redirect is captured, then followed here
            },
        )

    def parse_article(self, response: Response) -> Iterator[Any]:
        """An article page: an `ArticlePage`, or a counted `PageGone` / `UnreadablePage`."""
        fetch = fetch_of(response)
        self.kill_switch.tick("response")
        if response.status == NOT_MODIFIED:
            self._count("incremental/not_modified")
            yield NotModified(fetch)
            return
        if response.status in REDIRECTS:
            yield UnreadablePage(fetch, "redirect")
            yield from self._follow_redirect(response)
            return
        if response.status in GONE_STATUSES:
            self._count(f"gone/{response.status}")
            yield PageGone(fetch)
            return
        if not isinstance(response, TextResponse):
            self._count("dropped/not_text")
            yield UnreadablePage(fetch, "not_text")
            return
        try:
            article = article_from_page(self._text(response), response.url)
        except ExtractionError as error:
            reason = error.missing.replace(" ", "_")
            self._count(f"dropped/{reason}")
            self.logger.warning("no article extracted: %s", error)
            yield UnreadablePage(fetch, reason)
            return
        self._count(f"extraction/{article.extraction_path}")
        self._count_coverage(article)
        yield ArticlePage(article, fetch)

    def _count_coverage(self, article: Article) -> None:
        """How many articles had each field from the page itself (for the health checks)."""
        self._count("coverage/articles")
        if article.date_source in ("updated", "meta"):
            self._count("coverage/published_on")
        if article.column_name:
            self._count("coverage/column_name")

    def _follow_redirect(self, response: Response) -> Iterator[scrapy.Request]:
        """Follow an article's redirect if it stays in scope on the site; count it if not."""
        location = response.headers.get("Location")
        target = canonical_url(location.decode("latin-1"), response.url) if location else None
        if target is None or not is_site_url(target) or not in_scope(target, self.scope):
            self._count("refused/offsite_redirect")
            self.logger.info("not following %s to %s", response.url, target)
            return
        hops = response.meta.get("article_redirects", 0) + 1
        if hops > self.settings.getint("REDIRECT_MAX_TIMES", 20):
            self._count("refused/redirect_limit")
            self.logger.warning("too many redirects, stopped at %s", response.url)
            return
        self._count("redirects/followed")
        yield from self._article_request(target, hops)

    def failed(self, failure: Failure) -> None:
        """A request that ended in an error no middleware turned into an outcome: one log
        line and a counter (refusals and blocks are counted where they happen)."""
        if failure.check(HttpError):  # a status no callback handles: dropped, by status
            status = failure.value.response.status
            self._count(f"dropped/http_{status}")
            self.logger.info("dropped (HTTP %s): %s", status, failure.value.response.url)
            return
        if failure.check(IgnoreRequest):
            return
        name = type(failure.value).__name__
        self._count(f"failed/{name}")
        request = getattr(failure, "request", None)
        self.logger.warning("request failed (%s): %s", name, request.url if request else "?")

    def _text(self, response: TextResponse) -> str:
        """The page decoded by `page_text`, counting where it overrode Scrapy's decoding."""
        content_type = response.headers.get("Content-Type")
        text, encoding = page_text(
            response.body, content_type.decode("latin-1") if content_type else None
        )
        if response.body and codecs.lookup(encoding).name != codecs.lookup(response.encoding).name:
            self._count(f"encoding/corrected/{response.encoding}->{encoding}")
        return text

    def _site_url(self, href: str, base: str) -> str | None:
        """The canonical URL of an in-scope page link; None for anything not to follow."""
        url = canonical_url(href, base)
        if url is None or not is_page_url(url):
            return None
        if not is_site_url(url):
            self._count("links/offsite")
            return None
        return url if in_scope(url, self.scope) else None

    def _column_label(self, list_url: str, text: str) -> Iterator[ColumnLabel]:
        """A column's name: what most navigation links to its list call it.

        Yields a label each time the leading name changes, so the archive ends the crawl
        with the majority name whatever order the pages came in.
        """
        if not text or len(text) > 80 or _PAGER_TEXT.match(text):
            return
        names = self.column_names[list_column_id(list_url)]
        leader = names.most_common(1)[0][0] if names else None
        names[text] += 1
        if names.most_common(1)[0][0] != leader:
            yield ColumnLabel(list_column_id(list_url), text, list_url)

    def _count(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"govcrawler/{key}")


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
