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
from typing import Any

import scrapy
from scrapy.http import Response, TextResponse

from govcrawler.extract.article import article_from_page
from govcrawler.extract.encoding import page_text
from govcrawler.extract.listing import Link, list_page_count, page_links
from govcrawler.extract.model import ExtractionError
from govcrawler.extract.urls import (
    article_ref,
    canonical_url,
    in_scope,
    is_page_url,
    is_site_url,
    list_column_id,
    numbered_page_url,
)
from govcrawler.items import ArticlePage, ColumnLabel, Fetch, PageGone, UnreadablePage

# Link texts that name a page of a list, not the column it belongs to.
_PAGER_TEXT = re.compile(
    r"^(?:\d+|more|more\s*>+|next|prev(?:ious)?|first|last|home|>+|<+|»|«|下一页|上一页|首页|尾页)$",
    re.IGNORECASE,
)
GONE_STATUSES = [404, 410]  # an article URL that answers these was taken down
LIST_PRIORITY = 10  # lists before articles: news is found first, and names before pages


class OpenGovernanceSpider(scrapy.Spider):
    name = "sc_open_governance"
    allowed_domains = ["www.sc.gov.cn"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.column_names: dict[str, Counter[str]] = defaultdict(Counter)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        url = canonical_url(self.settings.get("GOVCRAWLER_START_URL"))
        if url is None or not is_site_url(url):
            raise ValueError(f"GOVCRAWLER_START_URL must be a www.sc.gov.cn URL, not {url!r}")
        yield scrapy.Request(url, callback=self.parse_page, priority=LIST_PRIORITY)

    @property
    def scope(self) -> list[str]:
        return self.settings.getlist("GOVCRAWLER_SCOPE_PREFIXES")

    def parse_page(self, response: Response) -> Iterator[scrapy.Request | ColumnLabel]:
        """A home, channel or list page: follow its in-scope links and its pager."""
        if not isinstance(response, TextResponse):
            self._count("skipped/not_text")
            return
        for link in page_links(response.text):
            yield from self._follow(link, response.url)
        pages = list_page_count(response.text) or 0
        for number in range(2, pages + 1):
            yield response.follow(
                numbered_page_url(response.url, number), self.parse_page, priority=LIST_PRIORITY
            )

    def parse_article(self, response: Response) -> Iterator[Any]:
        """An article page: an `ArticlePage`, or a counted `PageGone` / `UnreadablePage`."""
        fetch = fetch_of(response)
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
        yield ArticlePage(article, fetch)

    def _text(self, response: TextResponse) -> str:
        """The page decoded by `page_text`, counting where it overrode Scrapy's decoding."""
        content_type = response.headers.get("Content-Type")
        text, encoding = page_text(
            response.body, content_type.decode("latin-1") if content_type else None
        )
        if response.body and codecs.lookup(encoding).name != codecs.lookup(response.encoding).name:
            self._count(f"encoding/corrected/{response.encoding}->{encoding}")
        return text

    def _follow(self, link: Link, base: str) -> Iterator[scrapy.Request | ColumnLabel]:
        url = canonical_url(link.href, base)
        if url is None or not is_page_url(url):
            return
        if not is_site_url(url):
            self._count("links/offsite")
            return
        if not in_scope(url, self.scope):
            return
        if article_ref(url) is not None:
            yield scrapy.Request(
                url, callback=self.parse_article, meta={"handle_httpstatus_list": GONE_STATUSES}
            )
            return
        yield from self._column_label(url, link.text)
        yield scrapy.Request(url, callback=self.parse_page, priority=LIST_PRIORITY)

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
