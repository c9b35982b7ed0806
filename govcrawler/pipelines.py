"""Item pipelines: clean → validate → dedupe → archive, one path per item type.

Each item type has an `ItemPath`: what cleaning, validation and de-duplication it gets (a
stage it skips says so, as `None`) and how it is archived. Every pipeline looks the item's
exact type up in the same table; a type without a path is a programming error and raises
`TypeError`, never passes through unarchived. Item types of spiders outside govcrawler bring
their paths through `GOVCRAWLER_ITEM_PATHS`.

Every drop names its reason in the crawl stats (`govcrawler/dropped/<reason>`); the archive is
written in batched transactions (captures, versions, search index and near-duplicate links
together), so what is committed is always whole articles.
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.misc import load_object
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
    from scrapy.settings import BaseSettings
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class ItemPath(Generic[T]):
    """One item type's way through the pipelines."""

    item_type: type[T]
    url: Callable[[T], str]  # named in drop messages; the key of `dedupe`
    archive: Callable[[Session, T], list[str]]  # writes it; returns the outcomes to count
    clean: Callable[[T], T] | None = None
    validate: Callable[[T], str | None] | None = None  # the reason to drop it, or None
    dedupe: bool = False  # a second item of this type with the same URL in a run is dropped


Paths = Mapping[type, ItemPath[Any]]


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
        self.closing = False
        self.kill_switch = KillSwitch.from_settings(crawler.settings)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        assert crawler.stats is not None
        return cls(crawler.stats, item_paths(crawler.settings), crawler)

    def open_spider(self) -> None:
        self.engine = storage.open_archive(self.database_url)
        self.sessions = storage.session_factory(self.engine)

    def close_spider(self) -> None:
        self.closing = True
        self.write_pending()
        self.engine.dispose()

    def process_item(self, item: Any) -> Any:
        self.pending.append((self.path(item), item))
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
                for path, item in batch:
                    outcomes.extend(path.archive(session, item))
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


# --- the paths of govcrawler's item types ---------------------------------------------------


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def clean_article(item: ArticlePage) -> ArticlePage:
    """Unicode NFC and the boilerplate line rules, applied to every article whatever path
    extracted it: no footer, navigation or column-label line reaches the archive."""
    article = item.article
    body = tuple(strip_boilerplate([_nfc(p) for p in article.body]))
    item.article = replace(
        article,
        title=" ".join(_nfc(article.title).split()),
        body=body,
        captions=tuple(c for c in (_nfc(c) for c in article.captions) if c in body),
    )
    return item


def invalid_article(item: ArticlePage) -> str | None:
    """Why an article cannot be archived (no site URL, no title, no body): nothing is
    half-stored."""
    article = item.article
    if not article.url or not is_site_url(article.url):
        return "bad_url"
    if not article.title:
        return "missing_title"
    if not article.body:
        return "missing_body"
    return None


def archive_capture(session: Session, fetch: Fetch) -> tuple[int, list[str]]:
    """Store a raw response: its capture id and the outcome to count."""
    capture = storage.record_capture(session, capture_record(fetch))
    return capture.id, ["capture_revisit" if capture.revisit_of else "capture_stored"]


def _counted(result: storage.Result) -> list[str]:
    near = ["near_duplicate"] if result.near_duplicate_of is not None else []
    return [result.outcome.value, *near]


def archive_article(session: Session, item: ArticlePage) -> list[str]:
    capture_id, counted = archive_capture(session, item.fetch)
    record = article_record(item.article)
    result = storage.record_article(session, record, item.fetch.fetched_at, capture_id)
    return counted + _counted(result)


def archive_gone(session: Session, item: PageGone) -> list[str]:
    capture_id, counted = archive_capture(session, item.fetch)
    fetch = item.fetch
    return counted + _counted(storage.record_gone(session, fetch.url, fetch.fetched_at, capture_id))


def archive_not_modified(session: Session, item: NotModified) -> list[str]:
    capture_id, counted = archive_capture(session, item.fetch)
    fetch = item.fetch
    result = storage.record_not_modified(session, fetch.url, fetch.fetched_at, capture_id)
    return counted + _counted(result)


def archive_unreadable(session: Session, item: UnreadablePage) -> list[str]:
    """Only the capture, for diagnosis: there is no article to record."""
    return archive_capture(session, item.fetch)[1]


def archive_label(session: Session, item: ColumnLabel) -> list[str]:
    storage.record_column(session, item.column_id, item.name, item.list_url, datetime.now(UTC))
    return ["column"]


PATHS: tuple[ItemPath[Any], ...] = (
    ItemPath(
        ArticlePage,
        url=lambda item: item.article.url,
        clean=clean_article,
        validate=invalid_article,
        dedupe=True,
        archive=archive_article,
    ),
    ItemPath(PageGone, url=lambda item: item.fetch.url, archive=archive_gone),
    ItemPath(NotModified, url=lambda item: item.fetch.url, archive=archive_not_modified),
    ItemPath(UnreadablePage, url=lambda item: item.fetch.url, archive=archive_unreadable),
    ItemPath(ColumnLabel, url=lambda item: item.list_url, archive=archive_label),
)


def item_paths(settings: BaseSettings) -> dict[type, ItemPath[Any]]:
    """govcrawler's paths and those named by `GOVCRAWLER_ITEM_PATHS`, by item type."""
    paths = {path.item_type: path for path in PATHS}
    for name in settings.getlist("GOVCRAWLER_ITEM_PATHS"):
        path = load_object(name)
        if not isinstance(path, ItemPath):
            raise ValueError(f"GOVCRAWLER_ITEM_PATHS: {name} is not an ItemPath")
        if path.item_type in paths:
            raise ValueError(f"GOVCRAWLER_ITEM_PATHS: {name} gives a second path for its type")
        paths[path.item_type] = path
    return paths


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
