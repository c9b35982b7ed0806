"""Raw captures: every fetched article, document and list response (a list API answer with
the method and body of its request), compressed, with revisits deduplicated."""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from sqlalchemy import LargeBinary, bindparam, insert, select
from sqlalchemy.orm import Session

from storage.models import Capture, table_of
from storage.writing import writer

_capture = table_of(Capture)
# A revisit repeats the same request's answer: two queries POSTed to one URL (the list API's
# series and pages) are different captures, whatever their bytes. A GET has no body: NULL,
# matched by IS NOT DISTINCT FROM (SQLite's IS), as `=` never matches NULL.
_LATEST_SAME = (
    select(_capture.c.id, _capture.c.revisit_of)
    .where(
        _capture.c.url == bindparam("url"),
        _capture.c.method == bindparam("method"),
        _capture.c.request_body.is_not_distinct_from(bindparam("request_body", type_=LargeBinary)),
        _capture.c.body_sha256 == bindparam("digest"),
    )
    .order_by(_capture.c.fetched_at.desc(), _capture.c.id.desc())
    .limit(1)
)
_INSERT = insert(_capture).returning(_capture.c.id)

COMPRESSION_LEVEL = 6


@dataclass(frozen=True)
class CaptureRecord:
    """A response as received: raw bytes, status, headers, and when."""

    url: str
    final_url: str
    status: int
    fetched_at: datetime
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    kind: str = "page"  # or "list": a home, channel or list page, a list API answer
    method: str = "GET"
    request_body: bytes | None = None  # what a POST sent (the list API's JSON query)

    # Derived once, wherever first asked for (see `storage.ArticleRecord.signature`).
    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    @cached_property
    def compressed(self) -> bytes:
        """The body as the archive stores it: zlib at `COMPRESSION_LEVEL`."""
        return zlib.compress(self.body, COMPRESSION_LEVEL)

    def derive(self) -> CaptureRecord:
        """The record with its derived values computed now (in a preparing process)."""
        _computed = (self.sha256, self.compressed)  # a cached_property keeps what it computes
        return self


def record_capture(
    session: Session, record: CaptureRecord, article_id: int | None = None
) -> Capture:
    """Keep one response. Bytes identical to the latest capture of the same request (URL,
    method, request body) are a revisit: no second body, a pointer to the capture that holds
    it. Returns the stored row (a
    `Capture` not attached to the session: the write path runs Core statements only)."""
    digest = record.sha256
    db = writer(session)
    request = {"url": record.url, "method": record.method, "request_body": record.request_body}
    previous = db.execute(_LATEST_SAME, {**request, "digest": digest}).first()
    original = None
    if previous is not None:
        original = previous.revisit_of if previous.revisit_of is not None else previous.id
    values = {
        "url": record.url,
        "final_url": record.final_url,
        "status": record.status,
        "headers": record.headers,
        "fetched_at": record.fetched_at,
        "body": None if original is not None else record.compressed,
        "body_sha256": digest,
        "body_length": len(record.body),
        "revisit_of": original,
        "article_id": article_id,
        "kind": record.kind,
        "method": record.method,
        "request_body": record.request_body,
    }
    capture_id = db.execute(_INSERT, values).scalar_one()
    return Capture(id=capture_id, **values)


def capture_body(session: Session, capture: Capture) -> bytes:
    """The raw bytes of a capture, following a revisit to the capture that stored them."""
    holder = capture if capture.revisit_of is None else session.get(Capture, capture.revisit_of)
    if holder is None or holder.body is None:
        raise LookupError(f"capture {capture.id} has no stored body")
    return zlib.decompress(holder.body)
