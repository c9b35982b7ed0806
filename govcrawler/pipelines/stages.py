"""The four pipelines: clean → validate → dedupe → archive, each looking the item's path up.

Every drop names its reason in the crawl stats (`govcrawler/dropped/<reason>`); the archive is
written in batched transactions (captures, versions, search index and near-duplicate links
together), so what is committed is always whole articles.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem

from govcrawler.crawl.seen import DigestSet
from govcrawler.pipelines.path import ItemPath, Paths
from govcrawler.pipelines.registry import item_paths

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)


class _Stage:
    """Base of the pipelines: the paths, stats from the crawler, drops counted by reason."""

    def __init__(self, stats: StatsCollector, paths: Paths) -> None:
        self.stats = stats
        self.paths = paths

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        assert crawler.stats is not None
        return cls(crawler.stats, item_paths(crawler.settings))

    def path(self, item: Any) -> ItemPath[Any]:
        path = self.paths.get(type(item))
        if path is None:
            kind = type(item)
            raise TypeError(
                f"{type(self).__name__}: no path for item type {kind.__module__}."
                f"{kind.__qualname__} (give it an ItemPath: GOVCRAWLER_ITEM_PATHS)"
            )
        return path

    def drop(self, reason: str, url: str) -> DropItem:
        self.stats.inc_value(f"govcrawler/dropped/{reason}")
        return DropItem(f"{reason}: {url}")


class CleanPipeline(_Stage):
    def process_item(self, item: Any) -> Any:
        path = self.path(item)
        return path.clean(item) if path.clean else item


class ValidatePipeline(_Stage):
    def process_item(self, item: Any) -> Any:
        path = self.path(item)
        reason = path.validate(item) if path.validate else None
        if reason:
            raise self.drop(reason, path.url(item) or "<no url>")
        return item


class DedupePipeline(_Stage):
    """Drops a page already processed in this run (two requests that landed on one URL).

    Identity across URLs (same id, same body elsewhere) needs the archive and is decided by
    `storage.record_article` inside the write transaction, which keeps the extra URL as an
    alias rather than dropping it.

    A URL is remembered by its 16-byte BLAKE2b digest (no collision to fear at 128 bits) in a
    `DigestSet` on disk: an in-memory set grew by ~9 MB per 100,000 articles (B4).
    """

    def __init__(self, stats: StatsCollector, paths: Paths) -> None:
        super().__init__(stats, paths)
        self.seen_urls = DigestSet()

    def close_spider(self) -> None:
        self.seen_urls.close()

    def process_item(self, item: Any) -> Any:
        path = self.path(item)
        if not path.dedupe:
            return item
        url = path.url(item)
        key = hashlib.blake2b(f"{path.item_type.__qualname__} {url}".encode(), digest_size=16)
        if not self.seen_urls.add(key.digest()):
            raise self.drop("duplicate_in_run", url)
        return item
