"""Item pipelines: clean → validate → dedupe → archive.

Every drop names its reason in the crawl stats (`govcrawler/dropped/<reason>`); the archive is
written in batched transactions (captures, versions, search index and near-duplicate links
together), so what is committed is always whole articles.
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.defer import deferred_from_coro
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

import storage
from govcrawler.crawl.faults import KillSwitch
from govcrawler.crawl.seen import DigestSet
from govcrawler.extract.model import Article
from govcrawler.extract.text import body_digest, strip_boilerplate
from govcrawler.extract.urls import is_site_url
from govcrawler.items import (
    ArticlePage,
    ColumnLabel,
    Fetch,
    NotModified,
    PageGone,
    UnreadablePage,
)

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)


class _Counting:
    """Base of the pipelines: stats from the crawler, drops counted by reason."""

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        assert crawler.stats is not None
        return cls(crawler.stats)

    def drop(self, reason: str, url: str) -> DropItem:
        self.stats.inc_value(f"govcrawler/dropped/{reason}")
        return DropItem(f"{reason}: {url}")


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


class CleanPipeline(_Counting):
    """Unicode NFC and the boilerplate line rules, applied to every article whatever path
    extracted it: no footer, navigation or column-label line reaches the archive."""

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticlePage):
            return item
        article = item.article
        body = tuple(strip_boilerplate([_nfc(p) for p in article.body]))
        item.article = replace(
            article,
            title=" ".join(_nfc(article.title).split()),
            body=body,
            captions=tuple(c for c in (_nfc(c) for c in article.captions) if c in body),
        )
        return item


class ValidatePipeline(_Counting):
    """Drops an article without a site URL, a title or a body: nothing is half-stored."""

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticlePage):
            return item
        article = item.article
        if not article.url or not is_site_url(article.url):
            raise self.drop("bad_url", article.url or "<no url>")
        if not article.title:
            raise self.drop("missing_title", article.url)
        if not article.body:
            raise self.drop("missing_body", article.url)
        return item


class DedupePipeline(_Counting):
    """Drops a page already processed in this run (two requests that landed on one URL).

    Identity across URLs (same id, same body elsewhere) needs the archive and is decided by
    `storage.record_article` inside the write transaction, which keeps the extra URL as an
    alias rather than dropping it.

    A URL is remembered by its 16-byte BLAKE2b digest (no collision to fear at 128 bits) in a
    `DigestSet` on disk: an in-memory set grew by ~9 MB per 100,000 articles (B4).
    """

    def __init__(self, stats: StatsCollector) -> None:
        super().__init__(stats)
        self.seen_urls = DigestSet()

    def close_spider(self) -> None:
        self.seen_urls.close()

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticlePage):
            return item
        key = hashlib.blake2b(item.article.url.encode("utf-8"), digest_size=16).digest()
        if not self.seen_urls.add(key):
            raise self.drop("duplicate_in_run", item.article.url)
        return item


class ArchivePipeline(_Counting):
    """Writes articles and column names to the archive, `GOVCRAWLER_BATCH_SIZE` per commit."""

    def __init__(self, stats: StatsCollector, crawler: Crawler) -> None:
        super().__init__(stats)
        self.crawler = crawler
        self.database_url = crawler.settings.get("GOVCRAWLER_DATABASE_URL")
        if not self.database_url:
            raise NotConfigured("GOVCRAWLER_DATABASE_URL is not set")
        self.batch_size = crawler.settings.getint("GOVCRAWLER_BATCH_SIZE", 50)
        self.pending: list[Any] = []
        self.closing = False
        self.kill_switch = KillSwitch.from_settings(crawler.settings)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        assert crawler.stats is not None
        return cls(crawler.stats, crawler)

    def open_spider(self) -> None:
        self.engine = storage.open_archive(self.database_url)
        self.sessions = storage.session_factory(self.engine)

    def close_spider(self) -> None:
        self.closing = True
        self.write_pending()
        self.engine.dispose()

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ArticlePage | ColumnLabel | PageGone | NotModified | UnreadablePage):
            self.pending.append(item)
            if len(self.pending) >= self.batch_size:
                self.write_pending()
        return item

    def write_pending(self) -> None:
        """One transaction for the batch: all of it is archived, or none of it."""
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        outcomes: list[str] = []
        try:
            with self.sessions.begin() as session:
                for item in batch:
                    outcomes.extend(_write(session, item))
                session.flush()
                self.kill_switch.tick("commit")
        except SQLAlchemyError as error:
            self.stats.inc_value("govcrawler/archive/error", len(batch))
            logger.error("archive write failed, %d items not stored: %s", len(batch), error)
            if not self.closing and self.crawler.engine is not None:
                deferred_from_coro(self.crawler.engine.close_spider_async(reason="archive_error"))
            return
        self.kill_switch.tick("batch")
        for outcome in outcomes:
            self.stats.inc_value(f"govcrawler/archive/{outcome}")


def _write(session: Session, item: Any) -> list[str]:
    """Archive one item; returns the outcomes to count."""
    if isinstance(item, ColumnLabel):
        storage.record_column(session, item.column_id, item.name, item.list_url, _now())
        return ["column"]
    capture = storage.record_capture(session, capture_record(item.fetch))
    counted = ["capture_revisit" if capture.revisit_of else "capture_stored"]
    if isinstance(item, ArticlePage):
        result = storage.record_article(
            session, article_record(item.article), item.fetch.fetched_at, capture.id
        )
    elif isinstance(item, PageGone):
        result = storage.record_gone(session, item.fetch.url, item.fetch.fetched_at, capture.id)
    elif isinstance(item, NotModified):
        result = storage.record_not_modified(
            session, item.fetch.url, item.fetch.fetched_at, capture.id
        )
    else:
        return counted
    counted.append(result.outcome.value)
    if result.near_duplicate_of is not None:
        counted.append("near_duplicate")
    return counted


def _now() -> datetime:
    return datetime.now(UTC)


def capture_record(fetch: Fetch) -> storage.CaptureRecord:
    """The archive's shape of a raw response."""
    return storage.CaptureRecord(
        url=fetch.url,
        final_url=fetch.final_url,
        status=fetch.status,
        fetched_at=fetch.fetched_at,
        body=fetch.body,
        headers=fetch.headers,
    )


def article_record(article: Article) -> storage.ArticleRecord:
    """The archive's shape of an extracted article."""
    return storage.ArticleRecord(
        url=article.url,
        canonical_id=article.canonical_id,
        title=article.title,
        body="\n\n".join(article.body),
        body_digest=body_digest(article.body),
        published_on=article.published_on,
        column_id=article.column_id,
        page_column_name=article.column_name,
        language=article.language,
        template=article.template,
        extraction_path=article.extraction_path,
        captions=list(article.captions),
        images=[{"url": i.url, "caption": i.caption} for i in article.images],
        attachments=[{"url": a.url, "text": a.text} for a in article.attachments],
    )
