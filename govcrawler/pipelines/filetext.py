"""What a fetched file is and its text, read before it is archived, off the crawl's thread.

Reading a PDF costs tens of milliseconds a page (`govcrawler.extract.files`): done in the
crawl's thread, it would stall every download and every page. `FileTextPipeline` hands each
stored attachment to a pool of worker processes (`GOVCRAWLER_TEXT_WORKERS`, default 1: the
second core) and awaits the answer while Scrapy goes on with other responses and items. A
worker gets the spooled file's name, never its bytes. An image is not read, only identified by
its magic number. A reader that fails, or a worker that dies on a file, gives that file the
status "corrupt" with the reason, counted (`govcrawler/files/text_failed/<error>`); the page and
the file's capture are archived all the same.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from govcrawler.crawl.children import start_child
from govcrawler.extract.files import FileText, file_text_at
from govcrawler.extract.filetype import media_type, sniff
from govcrawler.items import FileFetch, FileRead

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)


class FileTextPipeline:
    def __init__(self, stats: StatsCollector, workers: int) -> None:
        self.stats = stats
        self.workers = workers
        self.pool: Executor | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        assert crawler.stats is not None
        workers = crawler.settings.getint("GOVCRAWLER_TEXT_WORKERS", 1)
        if workers < 0:
            raise ValueError(f"GOVCRAWLER_TEXT_WORKERS must be 0 or more, not {workers}")
        return cls(crawler.stats, workers)

    def _new_pool(self) -> Executor:
        if self.workers == 0:  # in this process (a thread: the reactor still goes on)
            return ThreadPoolExecutor(max_workers=1)
        # "spawn": a fork of a running reactor would copy its threads and sockets.
        context = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=context,
            initializer=start_child,
            initargs=("text",),
        )

    def close_spider(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, FileFetch) or item.spooled is None or item.spooled.path is None:
            return item
        head = item.spooled.head
        kind = sniff(head)
        if item.role == "image" or kind == "image":
            return replace(item, read=FileRead(kind, media_type(kind, head)))
        found = await self._read(item, str(item.spooled.path), head)
        if found.disagreements:  # the site's Content-Type or extension names another kind
            self.stats.inc_value("govcrawler/files/mislabelled")
            logger.info("%s: %s", item.url, "; ".join(found.disagreements))
        return replace(item, read=file_read(found, head))

    async def _read(self, item: FileFetch, path: str, head: bytes) -> FileText:
        if self.pool is None:
            self.pool = self._new_pool()
        content_type = item.headers.get("Content-Type")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.pool, file_text_at, path, content_type, item.url)
        except BrokenProcessPool:  # a reader crashed its worker: a new pool for the next files
            self.pool = None
            return self._failed(item.url, head, "WorkerDied", "the reader's process died on it")
        except Exception as error:  # anything else the pool raises: the file is still archived
            return self._failed(item.url, head, type(error).__name__, str(error))

    def _failed(self, url: str, head: bytes, name: str, reason: str) -> FileText:
        self.stats.inc_value(f"govcrawler/files/text_failed/{name}")
        logger.warning("could not read the text of %s: %s", url, reason)
        return FileText(sniff(head), "", None, "corrupt", reason=reason)


def file_read(found: FileText, head: bytes) -> FileRead:
    """The pipeline's record of a read file."""
    return FileRead(
        kind=found.kind,
        media_type=media_type(found.kind, head),
        text=found.text,
        status=found.status,
        pages=found.pages,
        library=found.library,
        reason=found.reason,
    )
