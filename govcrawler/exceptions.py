"""Every exception govcrawler raises on purpose, under one base class.

A `GovcrawlerError` is a problem a user or operator can act on: its message is one line that
says what is wrong and what to do, and the command line prints just that line.
"""

from __future__ import annotations


class GovcrawlerError(Exception):
    """A problem the user can act on; the message says what to do."""


class ExtractionError(GovcrawlerError):
    """A page that cannot give an article; says which page and what was missing."""

    def __init__(self, url: str, missing: str) -> None:
        super().__init__(f"{missing}: {url}")
        self.url = url
        self.missing = missing


class ReplayRefused(GovcrawlerError):
    """A URL whose file would lie outside the replay directory."""


class ArchiveLocked(GovcrawlerError):
    """Another crawl holds the archive; the message names it."""


class FixtureError(GovcrawlerError):
    """A page that cannot be recorded, copied or checked; the message says which and why."""


class RedisUnavailable(GovcrawlerError):
    """The Redis URL of a distributed crawl is malformed or its server cannot be used."""


class WorkerIdInUse(GovcrawlerError):
    """A distributed worker id that a live worker on another host holds."""

    def __init__(self, worker: str, holder: str) -> None:
        super().__init__(
            f"worker {worker!r} is running ({holder}); give this one another --worker-id"
        )
        self.worker = worker
        self.holder = holder


class BadSetting(GovcrawlerError):
    """A setting that is present but unusable (a missing replay directory, a malformed
    gateway): the crawl stops before its first request instead of running without it."""
