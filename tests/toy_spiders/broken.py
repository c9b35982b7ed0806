"""toy_broken: a spider that cannot start (its class is wrong), for the test that one spider's
failure does not stop the others."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from govcrawler.spiders.site import SiteSpider

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler


class BrokenSpider(SiteSpider):
    name = "toy_broken"
    start_url = "https://www.sc.gov.cn/10462/broken/index.shtml"
    scope_prefixes = ("/10462/broken/",)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        raise RuntimeError("this toy spider always fails to start")
