"""What a run has already seen, kept on disk so that memory stays flat however long the run.

A crawl remembers every request it sent (Scrapy's duplicate filter) and every article URL it
processed (`DedupePipeline`). In memory that is one set entry per page: about 95 bytes for a
20-byte fingerprint, ~19 MB over a 100,000-page run between the two (B4 measured the rise).
`DigestSet` keeps the digests in a private temporary SQLite database instead: SQLite holds a
bounded page cache in memory (`CACHE_KIB`) and the rest in a temporary file that is deleted
when the set is closed, or when the process ends however it ends.

The set is a run's working memory, not a record: nothing is committed, nothing survives the
run (the archive is the record; an interrupted run starts over from it).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable
from typing import TYPE_CHECKING

from scrapy.dupefilters import BaseDupeFilter

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.utils.request import RequestFingerprinterProtocol

logger = logging.getLogger(__name__)

CACHE_KIB = 1024  # SQLite's page cache for one set; the rest of the set is in its file


class DigestSet:
    """A set of short byte strings (digests) on disk, with `add` telling whether one is new."""

    def __init__(self) -> None:
        # "" opens a private temporary database on disk, deleted when the connection closes.
        self._db = sqlite3.connect("", isolation_level=None, check_same_thread=False)
        self._db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        self._db.execute("PRAGMA journal_mode = OFF")
        self._db.execute("PRAGMA synchronous = OFF")
        self._db.execute("CREATE TABLE seen (digest BLOB PRIMARY KEY) WITHOUT ROWID")
        # One transaction for the set's life: nothing is ever committed, pages spill to the
        # file when the cache is full.
        self._db.execute("BEGIN")
        self._count = 0

    def add(self, digest: bytes) -> bool:
        """Add `digest`; True if it was not in the set yet."""
        added = self._db.execute("INSERT OR IGNORE INTO seen VALUES (?)", (digest,)).rowcount == 1
        self._count += added
        return added

    def update(self, digests: Iterable[bytes]) -> None:
        for digest in digests:
            self.add(digest)

    def __contains__(self, digest: object) -> bool:
        row = self._db.execute("SELECT 1 FROM seen WHERE digest = ?", (digest,)).fetchone()
        return row is not None

    def __len__(self) -> int:
        return self._count

    def close(self) -> None:
        self._db.close()


class DiskDupeFilter(BaseDupeFilter):
    """Scrapy's duplicate filter (same request fingerprints) over a `DigestSet`."""

    def __init__(self, fingerprinter: RequestFingerprinterProtocol, debug: bool = False) -> None:
        self.fingerprinter = fingerprinter
        self.debug = debug
        self.seen = DigestSet()
        self.logged = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.request_fingerprinter, crawler.settings.getbool("DUPEFILTER_DEBUG"))

    def request_seen(self, request: Request) -> bool:
        return not self.seen.add(self.fingerprinter.fingerprint(request))

    def close(self, reason: str) -> None:
        self.seen.close()

    def log(self, request: Request, spider: Spider) -> None:
        if self.debug or not self.logged:
            tail = "" if self.debug else " (no more will be shown; DUPEFILTER_DEBUG shows all)"
            logger.debug("Filtered duplicate request: %s%s", request, tail)
            self.logged = True
        if spider.crawler.stats is not None:
            spider.crawler.stats.inc_value("dupefilter/filtered")
