"""sc_open_governance: the "Open Governance" section of www.sc.gov.cn, English site.

Start: the English home page (`start_url`). The section is found by link shape only
(`govcrawler.extract.urls`): an in-scope URL (`scope_prefixes`) shaped like an article
(`/<column path>/<YYYY>/<M>/<D>/<8-digit or 32-hex id>.shtml`) is an article page; any other
in-scope page is a channel or list page, whose links are followed and whose pager script, if it
has one, gives the numbered pages `<name>_2.shtml` … Only www.sc.gov.cn is requested, always
over https. Crawl policy only: what a page says is read by `govcrawler.extract`; what every
spider of the site shares is in `govcrawler.spiders.site`.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response, TextResponse

from govcrawler.exceptions import ExtractionError
from govcrawler.extract.article import article_from_page
from govcrawler.extract.listing import list_page_count, page_links
from govcrawler.extract.model import Article
from govcrawler.extract.urls import (
    article_ref,
    canonical_url,
    in_scope,
    is_site_url,
    list_column_id,
    list_page_number,
    numbered_page_url,
)
from govcrawler.items import ArticlePage, ColumnLabel, NotModified, PageGone, UnreadablePage
from govcrawler.spiders.site import LIST_PRIORITY, SiteSpider, fetch_of

# Link texts that name a page of a list, not the column it belongs to.
_PAGER_TEXT = re.compile(
    r"^(?:\d+|more|more\s*>+|next|prev(?:ious)?|first|last|home|>+|<+|»|«|下一页|上一页|首页|尾页)$",
    re.IGNORECASE,
)
NOT_MODIFIED = 304  # the answer to a conditional revisit of an unchanged page
GONE_STATUSES = [404, 410]
REDIRECTS = [301, 302, 303, 307, 308]  # an article URL that answers these was taken down
# A list's next page waits for the articles its page found: were it a list page like the
# first, the whole list would be read first, and every article of the site would wait in the
# scheduler's queue (a 100,000-page crawl held some 95,000 requests in memory).
NEXT_PAGE_PRIORITY = -1


class OpenGovernanceSpider(SiteSpider):
    name = "sc_open_governance"
    start_url = "https://www.sc.gov.cn/10462/10758/index.shtml"
    # The Open Governance channel, and the channels that republish its articles under new URLs
    # (kept as aliases of the originals).
    scope_prefixes = ("/10462/10758/10760/", "/10462/newsdlb/", "/10462/syftyg/")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.column_names: dict[str, Counter[str]] = defaultdict(Counter)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        async for request in super().start():
            yield request
        for due in self.plan.due_urls():  # known articles due again, linked or not
            if article_ref(due) and in_scope(due, self.scope):
                self.count("incremental/revisits")
                for revisit in self._article_request(due):
                    yield revisit

    def parse(self, response: Response, **kwargs: Any) -> Iterator[scrapy.Request | ColumnLabel]:
        """A home, channel or list page: follow its in-scope links and its pager."""
        if not isinstance(response, TextResponse):
            self.count("skipped/not_text")
            return
        last_article_new, linked = False, set()
        for link in page_links(response.text, response.url):
            url = self.site_url(link.href, response.url)
            if url is None:
                continue
            linked.add(url)
            ref = article_ref(url)
            if ref is not None:
                self.count(f"links/column/{ref.column_id}")
                last_article_new = not self.plan.is_known(url)
                yield from self._article_request(url)
            elif list_page_number(url) is None:  # numbered pages: one by one, below
                yield from self._column_label(url, link.text)
                yield self.request(url, self.parse, priority=LIST_PRIORITY)
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
            self.count("incremental/paging_stopped")
            return
        yield self.request(
            next_url, self.parse, priority=NEXT_PAGE_PRIORITY, meta={"known_streak": streak}
        )

    def _article_request(self, url: str, hops: int = 0) -> Iterator[scrapy.Request]:
        if not self.plan.wanted(url):
            self.count("incremental/known_skipped")
            return
        yield self.request(
            url,
            self.parse_article,
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
            self.count("incremental/not_modified")
            yield NotModified(fetch)
            return
        if response.status in REDIRECTS:
            yield UnreadablePage(fetch, "redirect")
            yield from self._follow_redirect(response)
            return
        if response.status in GONE_STATUSES:
            self.count(f"gone/{response.status}")
            yield PageGone(fetch)
            return
        if not isinstance(response, TextResponse):
            self.count("dropped/not_text")
            yield UnreadablePage(fetch, "not_text")
            return
        try:
            article = article_from_page(self.text(response), response.url)
        except ExtractionError as error:
            reason = error.missing.replace(" ", "_")
            self.count(f"dropped/{reason}")
            self.logger.warning("no article extracted: %s", error)
            yield UnreadablePage(fetch, reason)
            return
        self.count(f"extraction/{article.extraction_path}")
        self._count_coverage(article)
        yield ArticlePage(article, fetch)

    def _count_coverage(self, article: Article) -> None:
        """How many articles had each field from the page itself (for the health checks)."""
        self.count("coverage/articles")
        if article.date_source in ("updated", "meta"):
            self.count("coverage/published_on")
        if article.column_name:
            self.count("coverage/column_name")

    def _follow_redirect(self, response: Response) -> Iterator[scrapy.Request]:
        """Follow an article's redirect if it stays in scope on the site; count it if not."""
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
        yield from self._article_request(target, hops)

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
