"""The plan of an incremental run: which URLs the archive knows and which are due again.

The crawl policy (the spider) asks the plan whether to request a link, with what conditional
headers, and whether to keep paging through a list. The plan is read from the archive once, at
the start of a run; this module and the pipelines are the only parts of the crawl that read the
archive (`storage`), and this one only reads.

- A known article is fetched again when it is due: newer articles more often
  (`GOVCRAWLER_REVISIT_SCHEDULE`), with `If-None-Match` / `If-Modified-Since` from its last good
  response. Due articles are requested even when no list links them any more, so a page taken
  down is seen as withdrawn.
- A known file (an image or attachment) is fetched again every `GOVCRAWLER_FILE_REVISIT_DAYS`
  since its last fetch, conditionally; one not yet fetched (pending, failed) in the next run.
- `full`: everything is fetched, known or not.
- `walk_all_pages`: every page of every list is read. True for `--full`, and when the previous
  run of the same spider did not go through the whole section (it crashed, timed out or was
  interrupted): what it had committed is whole, but pages it never reached may hold articles
  the archive lacks.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import storage
from storage.files import KnownFile, known_files
from storage.frontier import KnownUrl, known_urls
from storage.runs import needs_recovery

Schedule = list[tuple[int | None, int]]


@dataclass
class CrawlPlan:
    known: dict[str, KnownUrl] = field(default_factory=dict)
    schedule: Schedule = field(default_factory=lambda: [(None, 30)])
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    full: bool = False
    recovering: bool = False
    files: dict[str, KnownFile] = field(default_factory=dict)
    file_revisit_days: int = 90

    @property
    def walk_all_pages(self) -> bool:
        return self.full or self.recovering

    def is_known(self, url: str) -> bool:
        return url in self.known

    def wanted(self, url: str) -> bool:
        """Whether an article URL should be requested in this run."""
        return self.full or url not in self.known or self.is_due(url)

    def is_due(self, url: str) -> bool:
        """A known URL whose revisit interval has passed."""
        known = self.known[url]
        return self.now - known.last_seen_at >= timedelta(days=self._interval(known))

    def due_urls(self) -> list[str]:
        """Known URLs due again, oldest visit first."""
        due = [known for url, known in self.known.items() if self.is_due(url)]
        return [known.url for known in sorted(due, key=lambda known: known.last_seen_at)]

    def conditional_headers(self, url: str) -> dict[str, str]:
        """Validators of the URL's last good response (none in a full run)."""
        known = self.known.get(url)
        if self.full or known is None:
            return {}
        return validators(known.etag, known.last_modified)

    def file_wanted(self, url: str) -> bool:
        """Whether a file URL should be requested in this run."""
        return self.full or url not in self.files or self.file_due(url)

    def file_due(self, url: str) -> bool:
        """A known file never fetched whole (pending, failed), or whose revisit is due."""
        known = self.files[url]
        if known.state in ("pending", "failed") or known.last_fetched_at is None:
            return True
        return self.now - known.last_fetched_at >= timedelta(days=self.file_revisit_days)

    def due_files(self) -> list[str]:
        """Known files due again, oldest fetch first (never-fetched ones first of all)."""
        due = [known for url, known in self.files.items() if self.file_due(url)]
        oldest = datetime.min.replace(tzinfo=UTC)
        return [k.url for k in sorted(due, key=lambda k: k.last_fetched_at or oldest)]

    def file_conditional_headers(self, url: str) -> dict[str, str]:
        """Validators of the file's last stored answer (none in a full run)."""
        known = self.files.get(url)
        if self.full or known is None or known.state != "stored":
            return {}
        return validators(known.etag, known.last_modified)

    def _interval(self, known: KnownUrl) -> int:
        age = (self.now.date() - known.published_on).days if known.published_on else None
        for max_age, days in self.schedule:
            if max_age is None or (age is not None and age <= max_age):
                return days
        return self.schedule[-1][1]


def validators(etag: str | None, last_modified: str | None) -> dict[str, str]:
    """The conditional request headers of a last good response's validators."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def load_plan(settings: Any, spider: str, now: datetime | None = None) -> CrawlPlan:
    """The plan of a run of `spider`, read from the archive named by the crawl's settings.

    The known URLs are the archive's (an article is one article whichever spider found it; a
    spider asks only about URLs of its own scope); recovery looks at this spider's runs only.
    """
    schedule = [
        (None if max_age is None else int(max_age), int(days))
        for max_age, days in settings.getlist("GOVCRAWLER_REVISIT_SCHEDULE")
    ]
    engine = storage.open_archive(settings.get("GOVCRAWLER_DATABASE_URL"))
    try:
        with storage.session_factory(engine)() as session:
            return CrawlPlan(
                known=known_urls(session),
                schedule=schedule,
                now=now or datetime.now(UTC),
                full=settings.getbool("GOVCRAWLER_FULL"),
                recovering=needs_recovery(session, spider, os.getpid(), socket.gethostname()),
                files=known_files(session),
                file_revisit_days=settings.getint("GOVCRAWLER_FILE_REVISIT_DAYS", 90),
            )
    finally:
        engine.dispose()
