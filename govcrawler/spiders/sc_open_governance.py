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
from govcrawler.extract.urls import article_ref, list_column_id, list_page_number
from govcrawler.items import ArticlePage, ColumnLabel, Fetch, ListPage, UnreadablePage
from govcrawler.spiders.site import LIST_PRIORITY, SiteSpider, fetch_of

# Link texts that name a page of a list, not the column it belongs to.
_PAGER_TEXT = re.compile(
    r"^(?:\d+|more|more\s*>+|next|prev(?:ious)?|first|last|home|>+|<+|»|«|下一页|上一页|首页|尾页)$",
    re.IGNORECASE,
)


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
        for revisit in self.due_requests():  # known articles due again, linked or not
            yield revisit

    def parse(
        self, response: Response, **kwargs: Any
    ) -> Iterator[scrapy.Request | ColumnLabel | ListPage]:
        """A home, channel or list page: captured; its in-scope links and its pager followed."""
        if not isinstance(response, TextResponse):
            self.count("skipped/not_text")
            return
        yield ListPage(fetch_of(response))
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
                yield from self.detail_request(url)
            elif list_page_number(url) is None:  # numbered pages: one by one, below
                yield from self._column_label(url, link.text)
                yield self.request(url, self.parse, priority=LIST_PRIORITY)
        count = list_page_count(response.text)
        yield from self.next_page(response, count, last_article_new, linked)

    def read_detail(self, response: TextResponse, fetch: Fetch) -> Iterator[Any]:
        """An article page: an `ArticlePage` and requests for its files, or a counted
        `UnreadablePage`."""
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
        images = [(image.url, "image") for image in article.images]
        yield from self.file_requests(images + [(a.url, "attachment") for a in article.attachments])

    def _count_coverage(self, article: Article) -> None:
        """How many articles had each field from the page itself (for the health checks)."""
        self.count("coverage/articles")
        if article.date_source in ("updated", "meta"):
            self.count("coverage/published_on")
        if article.column_name:
            self.count("coverage/column_name")

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
