"""toy_notices: a toy second source of www.sc.gov.cn, for the tests.

Start: `/10462/toy/index.shtml`, a list of notices; scope `/10462/toy/`. Each linked notice is
a `Notice` (its own item type, archived as a capture by its own `ItemPath`). Nothing outside
this module knows it: the tests add `tests.toy_spiders.toy_notices` to SPIDER_MODULES, and the
spider names its item path in its `custom_settings`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import scrapy
from scrapy.http import Response, TextResponse
from sqlalchemy.orm import Session

from govcrawler.extract.listing import page_links
from govcrawler.items import Fetch
from govcrawler.pipelines import ItemPath, archive_capture
from govcrawler.spiders.site import SiteSpider, fetch_of

COLUMN = "toy"  # the column its notices are counted under (`govcrawler/links/column/toy`)


@dataclass(frozen=True)
class Notice:
    """A notice page and the title its list gave it."""

    fetch: Fetch
    title: str


def archive_notice(session: Session, notice: Notice) -> list[str]:
    return archive_capture(session, notice.fetch)[1]


NOTICE_PATH = ItemPath(
    Notice,
    url=lambda notice: notice.fetch.url,
    validate=lambda notice: None if notice.title else "missing_title",
    dedupe=True,
    archive=archive_notice,
)


class NoticeSpider(SiteSpider):
    name = "toy_notices"
    start_url = "https://www.sc.gov.cn/10462/toy/index.shtml"
    scope_prefixes = ("/10462/toy/",)
    custom_settings: ClassVar[dict[str, Any]] = {
        "GOVCRAWLER_ITEM_PATHS": [f"{__name__}.NOTICE_PATH"]
    }

    def parse(self, response: Response, **kwargs: Any) -> Iterator[scrapy.Request]:
        """The list: every in-scope link is a notice."""
        if not isinstance(response, TextResponse):
            return
        for link in page_links(response.text, response.url):
            url = self.site_url(link.href, response.url)
            if url is not None and url != response.url:
                self.count(f"links/column/{COLUMN}")
                yield self.request(url, self.parse_notice, cb_kwargs={"title": link.text})

    def parse_notice(self, response: Response, title: str) -> Iterator[Notice]:
        self.kill_switch.tick("response")
        yield Notice(fetch_of(response), title)
