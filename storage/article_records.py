"""What the article write path takes and returns: the page it is given (`ArticleRecord`, with
the SimHash and digest derived from it), what the page was to the archive (`Outcome`,
`Result`), and `content_digest`, the digest whose change makes a new version."""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from storage import neardup
from storage.documents import DocumentRecord, document_digest

CRAWL, REEXTRACT = "crawl", "reextract"  # a version's origin (`article_version.origin`)


@dataclass(frozen=True)
class ArticleRecord:
    """An article page as the archive stores it (the crawler's extraction, flattened)."""

    url: str
    canonical_id: str
    title: str
    body: str
    body_digest: str
    published_on: date | None
    column_id: str | None
    language: str
    template: str
    extraction_path: str
    page_column_name: str | None = None
    captions: list[str] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    document: DocumentRecord | None = None  # a 政务公开 document's metadata (storage.documents)
    # Who made this record: a crawl of the site (`CRAWL`), or `govcrawler reextract` reading an
    # archived capture again (`REEXTRACT`): our own fix is never recorded as an edit by the site.
    origin: str = "crawl"
    extractor_revision: int | None = None  # govcrawler.extract.EXTRACTOR_REVISION, when known

    # What the write path derives from the record, computed once, wherever it is first asked
    # for: a process that prepares records (the crawler's pool, B3's generator) can compute
    # them off the writer's thread, and they travel with the pickled record.
    @cached_property
    def signature(self) -> tuple[int, list[int]]:
        """The body's SimHash and LSH band keys (`storage.neardup.signature`)."""
        return neardup.signature(self.body)

    @cached_property
    def digest(self) -> str:
        """`content_digest` of what a reader sees: a change here is a new version. A document's
        covers its versioned metadata too (`storage.documents.document_digest`)."""
        if self.document is None:
            return content_digest(self.title, self.published_on, self.body, self.captions)
        day = self.published_on.isoformat() if self.published_on else None
        content = [self.title, day, self.body, self.captions]
        return document_digest(content, self.document, self.attachments)

    def derive(self) -> ArticleRecord:
        """The record with its derived values computed now (in a preparing process)."""
        _computed = (self.signature, self.digest)  # a cached_property keeps what it computes
        return self


class Outcome(enum.StrEnum):
    NEW = "new"
    UNCHANGED = "unchanged"
    NEW_VERSION = "new_version"
    NEW_ALIAS = "new_alias"
    ALIAS_SEEN = "alias_seen"
    WITHDRAWN = "withdrawn"
    STILL_GONE = "still_gone"
    NOT_ARCHIVED = "not_archived"


@dataclass(frozen=True)
class Result:
    """What a page was to the archive, and the near-duplicate it was linked to, if any."""

    outcome: Outcome
    article_id: int | None = None
    near_duplicate_of: int | None = None  # the article it was linked with (either direction)


def content_digest(title: str, published_on: date | None, body: str, captions: list[str]) -> str:
    """SHA-256 of what a reader sees: a change here, and only here, is a new version."""
    payload = json.dumps(
        [title, published_on.isoformat() if published_on else None, body, captions],
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
