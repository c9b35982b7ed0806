"""A crawl of file URLs through the real Scrapy stack and govcrawler's spooling handler, run in
a subprocess by tests/test_spool.py (its own reactor, and a fresh process for memory peaks):
`python -m tests.spool_crawl CONFIG.json OUT.json`.

CONFIG: {"origin", "site"?, "requests": [[path, kind or null, {meta}?]], "settings": {...}}
("site": the URLs requested, when `GOVCRAWLER_GATEWAY` sends them to the origin). OUT: one
entry per response (its Spooled, and the spooled file's digest read back while it still
exists), the failures (path: exception name), the stats, and the memory growth over the crawl
(peak RSS and tracemalloc's peak).
"""

from __future__ import annotations

import hashlib
import json
import resource
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from scrapy import Request, Spider
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response
from twisted.python.failure import Failure

from govcrawler.crawl.spool import FILE_META, SPOOLED_META, Spooled


class FileSpider(Spider):
    name = "spool_files"

    def __init__(self, config: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config = config
        self.results: list[dict[str, Any]] = []
        self.failures: dict[str, str] = {}

    async def start(self) -> Any:
        tracemalloc.start()
        self.rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        # One request first, the rest after it: Scrapy 2.19's RobotsTxtMiddleware hands None
        # (allow all) to requests that wait for robots.txt with another.
        yield self.request(*self.config["requests"][0], callback=self.parse_first)

    def parse_first(self, response: Response) -> Iterator[Any]:
        yield from self.parse(response)
        for entry in self.config["requests"][1:]:
            yield self.request(*entry)

    def request(self, path: str, kind: str | None, meta: dict | None = None, **kw: Any) -> Request:
        meta = {"handle_httpstatus_all": True, "dont_redirect": True, **(meta or {})}
        if kind:
            meta[FILE_META] = kind
        url = self.config.get("site", self.config["origin"]) + path  # "site": via a gateway
        return Request(url, meta=meta, dont_filter=True, errback=self.failed, **kw)

    def failed(self, failure: Failure) -> None:
        self.failures[cast("Any", failure).request.url.split("/", 3)[3]] = type(
            failure.value
        ).__name__

    def parse(self, response: Response) -> Iterator[Any]:
        spooled: Spooled | None = response.meta.get(SPOOLED_META)
        entry: dict[str, Any] = {
            "path": response.url.split("/", 3)[3],
            "status": response.status,
            "body_length": len(response.body),
            "spooled": None,
        }
        if spooled is not None:
            on_disk = spooled.path is not None and spooled.path.is_file()
            entry["spooled"] = {
                "path": str(spooled.path) if spooled.path else None,
                "on_disk": on_disk,
                "disk_sha256": _digest(spooled.path) if on_disk and spooled.path else None,
                "length": spooled.length,
                "sha256": spooled.sha256,
                "head": spooled.head.hex(),
                "omitted": spooled.omitted,
                "declared_length": spooled.declared_length,
            }
        self.results.append(entry)
        yield from ()

    def closed(self, reason: str) -> None:
        _, peak = tracemalloc.get_traced_memory()
        rss_end = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.memory = {"traced_peak": peak, "rss_growth": (rss_end - self.rss_start) * 1024}


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as body:
        while chunk := body.read(1 << 20):
            sha.update(chunk)
    return sha.hexdigest()


def main(config_path: str, out_path: str) -> None:
    config = json.loads(Path(config_path).read_text())
    settings = {
        "DOWNLOAD_HANDLERS": {
            "http": "govcrawler.crawl.spool.SpoolingDownloadHandler",
            "https": "govcrawler.crawl.spool.SpoolingDownloadHandler",
        },
        "ROBOTSTXT_OBEY": True,
        "RETRY_TIMES": 2,
        "DOWNLOAD_DELAY": 0,
        "DOWNLOAD_TIMEOUT": 10,
        "LOG_LEVEL": "WARNING",
        "TELNETCONSOLE_ENABLED": False,
        **config.get("settings", {}),
    }
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(FileSpider)
    process.crawl(crawler, config=config)
    process.start()
    spider = crawler.spider
    assert isinstance(spider, FileSpider) and crawler.stats is not None
    out = {
        "results": spider.results,
        "failures": spider.failures,
        "memory": spider.memory,
        "stats": {k: v for k, v in crawler.stats.get_stats().items() if isinstance(v, int)},
    }
    Path(out_path).write_text(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
