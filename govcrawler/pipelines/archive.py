"""The last stage: every item to the archive, `GOVCRAWLER_BATCH_SIZE` per transaction, through
the archive's one writer (`pipelines.writer`: in the crawl's process, or in one of its own).

With a writer process, a batch is handed over and the crawl goes on; at most `IN_FLIGHT`
batches wait for it, beyond which the item that made a batch waits too (Scrapy then holds its
response, and the downloader slows): the crawl never runs ahead of its archive by more than a
few batches. A batch's outcomes are counted, its items released and a failed write stops the
crawl, in the order the batches were made, in the crawl's thread.
"""

from __future__ import annotations

import logging
from collections import deque
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet import defer

import storage
from govcrawler.pipelines.path import ItemPath, Paths
from govcrawler.pipelines.registry import item_paths
from govcrawler.pipelines.stages import _Stage
from govcrawler.pipelines.writer import Writer, WriterConfig, Written, open_writer, writer_kind

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

IN_FLIGHT = 2  # batches handed to a writer process and not yet written


class ArchivePipeline(_Stage):
    """Writes every item to the archive, `GOVCRAWLER_BATCH_SIZE` per commit."""

    def __init__(self, stats: StatsCollector, paths: Paths, crawler: Crawler) -> None:
        super().__init__(stats, paths)
        self.crawler = crawler
        self.database_url = crawler.settings.get("GOVCRAWLER_DATABASE_URL")
        if not self.database_url:
            raise NotConfigured("GOVCRAWLER_DATABASE_URL is not set")
        self.batch_size = crawler.settings.getint("GOVCRAWLER_BATCH_SIZE", 50)
        self.pending: list[tuple[ItemPath[Any], Any]] = []
        self.in_flight: deque[tuple[list[tuple[ItemPath[Any], Any]], Future[Written]]] = deque()
        self.waiting: deque[tuple[defer.Deferred[Any], Any]] = deque()
        self.closing = False
        self.writer_kind = writer_kind(crawler.settings)  # a bad value stops the crawl at once

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        assert crawler.stats is not None
        return cls(crawler.stats, item_paths(crawler.settings), crawler)

    def open_spider(self) -> None:
        # The schema is brought up to date here, once, before any writer opens the archive.
        storage.open_archive(self.database_url).dispose()
        config = WriterConfig.from_settings(self.crawler.settings)
        self.writer: Writer = open_writer(self.writer_kind, config)

    def close_spider(self) -> None:
        self.closing = True
        self.write_pending()
        try:
            for _batch, future in list(self.in_flight):
                future.exception()  # waits: the crawl's end is the writer's
            self.settle()
        finally:
            self.writer.close()

    def process_item(self, item: Any) -> Any:
        self.pending.append((self.path(item), item))
        if len(self.pending) >= self.batch_size:
            self.write_pending()
            if len(self.in_flight) > IN_FLIGHT:
                waiter: defer.Deferred[Any] = defer.Deferred()
                self.waiting.append((waiter, item))
                return _awaited(waiter)
        return item

    def write_pending(self) -> None:
        """Hand the batch to the writer: one transaction, all of it archived or none of it."""
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        run_id = self.stats.get_value("govcrawler/run/id")
        future = self.writer.submit(run_id, [item for _path, item in batch])
        self.in_flight.append((batch, future))
        if future.done():
            self.settle()
        else:
            from twisted.internet import reactor

            future.add_done_callback(lambda _done: reactor.callFromThread(self.settle))

    def settle(self) -> None:
        """Count, release and check every written batch at the head of the queue, in order."""
        while self.in_flight and self.in_flight[0][1].done():
            batch, future = self.in_flight.popleft()
            try:
                written = future.result()
            except Exception as error:  # the writer process died, or an archive step's bug
                written = Written(
                    error=f"the archive writer stopped: {type(error).__name__}: {error}"
                )
            finally:
                for path, item in batch:
                    if path.release is not None:
                        path.release(item)
            self._count(written, len(batch))
        while self.waiting and len(self.in_flight) <= IN_FLIGHT:
            waiter, item = self.waiting.popleft()
            waiter.callback(item)

    def _count(self, written: Written, items: int) -> None:
        if written.error is not None:
            self.stats.inc_value("govcrawler/archive/error", items)
            logger.error("archive write failed, %d items not stored: %s", items, written.error)
            if not self.closing and self.crawler.engine is not None:
                deferred_from_coro(self.crawler.engine.close_spider_async(reason="archive_error"))
            return
        for outcome in written.outcomes:
            self.stats.inc_value(f"govcrawler/archive/{outcome}")


async def _awaited(waiter: defer.Deferred[Any]) -> Any:
    """The item, once its batch is among the last `IN_FLIGHT` (Scrapy takes a coroutine)."""
    return await maybe_deferred_to_future(waiter)  # asyncio's reactor awaits futures
