"""The baseline of B1: a bare Scrapy spider over the same saved site, no pipelines.

    .venv/bin/python -m benchmarks.bare_spider /tmp/site

It fetches what govcrawler fetches (the home page, the channel, every list page through its
pager, every article page) through the same replay download handler, parses title, date and
body with parsel, and yields plain dicts that go nowhere. It prints the crawl's stats as JSON.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response

SCOPE = re.compile(r"^https?://www\.sc\.gov\.cn/10462/(?:10758/10760|newsdlb|syftyg)/")
ARTICLE = re.compile(r"/\d{4}/\d{1,2}/\d{1,2}/(?:\d{8}|[0-9a-f]{32})\.shtml$")
PAGER = re.compile(r"createPageHTML\('[^']*',(\d+),(\d+),'([^']+)','([^']+)'")
BODIES = ("#cmsArticleContent ucapcontent", "div.contText", "div.artleft .TRS_Editor")
TITLES = ("ucaptitle::text", "div.contTitle h2::text", "div.artleft h1::text")
UPDATED = re.compile(r"Updated:(\d{4})\.(\d{2})\.(\d{2})")


class BareSpider(scrapy.Spider):
    name = "bare"
    start_urls = ["https://www.sc.gov.cn/10462/10758/index.shtml"]

    def parse(self, response: Response) -> Iterator[scrapy.Request]:
        """A home, channel or list page: follow in-scope links and the script pager."""
        for href in response.css("a::attr(href)").getall():
            url = response.urljoin(href).replace("http://", "https://", 1)
            if not SCOPE.match(url):
                continue
            if ARTICLE.search(url):
                yield scrapy.Request(url, callback=self.parse_article)
            elif url.endswith(".shtml"):
                yield scrapy.Request(url, callback=self.parse)
        pager = PAGER.search(response.text)
        if pager:
            count, stem, ext = int(pager[1]), pager[3], pager[4]
            for number in range(2, count + 1):
                yield response.follow(f"{stem}_{number}.{ext}", callback=self.parse)

    def parse_article(self, response: Response) -> Iterator[dict[str, Any]]:
        title = next((t for sel in TITLES if (t := response.css(sel).get())), None)
        body = next((b for sel in BODIES if (b := response.css(sel))), None)
        updated = UPDATED.search(response.text)
        yield {
            "url": response.url,
            "title": (title or "").strip(),
            "date": "-".join(updated.groups()) if updated else None,
            "column": response.css("meta[name=ColumnName]::attr(content)").get(),
            "body": "\n".join(t.strip() for t in body.css("p ::text").getall()) if body else "",
        }


def settings(site: str, concurrency: int) -> dict[str, Any]:
    """Scrapy's defaults, with what govcrawler's replay crawl sets that bears on cost."""
    handler = "govcrawler.crawl.replay.ReplayDownloadHandler"
    return {
        "GOVCRAWLER_REPLAY_DIR": site,
        "DOWNLOAD_HANDLERS": {"http": handler, "https": handler},
        "CONCURRENT_REQUESTS": concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "CONCURRENT_ITEMS": 8,
        "DOWNLOAD_DELAY": 0,
        "ROBOTSTXT_OBEY": True,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    process = CrawlerProcess(settings(args.site, args.concurrency), install_root_handler=True)
    crawler = process.create_crawler(BareSpider)
    process.crawl(crawler)
    process.start()
    assert crawler.stats is not None
    stats = crawler.stats.get_stats()
    print(json.dumps({key: value for key, value in stats.items() if isinstance(value, int)}))


if __name__ == "__main__":
    main()
