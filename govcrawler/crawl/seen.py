"""What a run has already seen, kept on disk so that memory stays flat however long the run.

A crawl remembers every request it sent (Scrapy's duplicate filter) and every article URL it
processed (`DedupePipeline`). In memory that is one set entry per page: about 100 bytes for a
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
from typing import TYPE_CHECKING, Any

from scrapy.dupefilters import RFPDupeFilter

if TYPE_CHECKING:
    from scrapy import Request

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

    def add(self, digest: bytes) -> bool:
        """Add `digest`; True if it was not in the set yet."""
        return self._db.execute("INSERT OR IGNORE INTO seen VALUES (?)", (digest,)).rowcount == 1

    def __contains__(self, digest: object) -> bool:
        row = self._db.execute("SELECT 1 FROM seen WHERE digest = ?", (digest,)).fetchone()
        return row is not None

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM seen").fetchone()[0])

    def close(self) -> None:
        self._db.close()


class DiskDupeFilter(RFPDupeFilter):
    """Scrapy's duplicate filter (its request fingerprints, logging and stats) over a
    `DigestSet`. A JOBDIR's `requests.seen` is not kept: a govcrawler run resumes from the
    archive, not from a job directory."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.logger = logger
        self.seen = DigestSet()

    def request_seen(self, request: Request) -> bool:
        return not self.seen.add(self.fingerprinter.fingerprint(request))

    def close(self, reason: str) -> None:
        super().close(reason)
        self.seen.close()
