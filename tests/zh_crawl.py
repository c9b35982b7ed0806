"""A replay crawl with sc_zwgk whose items are collected instead of archived, for the tests.

`python -m tests.zh_crawl OUT.json DATABASE_URL DIR [DIR ...]` crawls the copies `DIR` (upper
first) and writes what the spider asked for and got: every request scheduled and every request
that reached the downloader (method, URL, body), the items by type with their URL, the stats."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from scrapy import signals
from scrapy.crawler import CrawlerProcess

from govcrawler.cli.runner import crawl_settings

ITEMS: list[dict[str, Any]] = []


class CollectPipeline:
    """Keeps each item's type and URL; archives nothing."""

    def process_item(self, item: Any) -> Any:
        document = getattr(item, "document", None)
        fetch = getattr(item, "fetch", None)
        ITEMS.append(
            {
                "type": type(item).__name__,
                "url": document.url if document else getattr(fetch, "url", None),
                "layout": document.layout if document else None,
            }
        )
        return item


def main(out: str, database: str, *dirs: str) -> None:
    settings = crawl_settings(
        {
            "GOVCRAWLER_REPLAY_DIR": os.pathsep.join(dirs),
            "GOVCRAWLER_DATABASE_URL": database,
            "ITEM_PIPELINES": {f"{__name__}.CollectPipeline": 100},
            "LOG_LEVEL": "INFO",
        }
    )
    process = CrawlerProcess(settings)
    crawler = process.create_crawler("sc_zwgk")
    scheduled: list[list[str]] = []
    downloaded: list[list[str]] = []

    def seen(into: list[list[str]]) -> Any:
        def record(request: Any, spider: Any = None) -> None:
            into.append([request.method, request.url, request.body.decode("utf-8")])

        return record

    receivers = [seen(scheduled), seen(downloaded)]  # (signals hold weak references)
    crawler.signals.connect(receivers[0], signal=signals.request_scheduled)
    crawler.signals.connect(receivers[1], signal=signals.request_reached_downloader)
    process.crawl(crawler)
    process.start()
    assert crawler.stats is not None
    stats = {k: v for k, v in crawler.stats.get_stats().items() if isinstance(v, int)}
    result = {"scheduled": scheduled, "downloaded": downloaded, "items": ITEMS, "stats": stats}
    with open(out, "w", encoding="utf-8") as file:
        json.dump(result, file, ensure_ascii=False)


if __name__ == "__main__":
    main(*sys.argv[1:])
