"""Raw captures: every fetched article response, compressed, with revisits deduplicated."""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Capture

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


def record_capture(
    session: Session, record: CaptureRecord, article_id: int | None = None
) -> Capture:
    """Keep one response. Bytes identical to the URL's latest stored capture are a revisit:
    no second body, a pointer to the capture that holds it."""
    digest = hashlib.sha256(record.body).hexdigest()
    previous = session.scalar(
        select(Capture)
        .where(Capture.url == record.url, Capture.body_sha256 == digest)
        .order_by(Capture.fetched_at.desc(), Capture.id.desc())
        .limit(1)
    )
    original = None
    if previous is not None:
        original = previous.revisit_of if previous.revisit_of is not None else previous.id
    capture = Capture(
        url=record.url,
        final_url=record.final_url,
        status=record.status,
        headers=record.headers,
        fetched_at=record.fetched_at,
        body=None if original is not None else zlib.compress(record.body, COMPRESSION_LEVEL),
        body_sha256=digest,
        body_length=len(record.body),
        revisit_of=original,
        article_id=article_id,
    )
    session.add(capture)
    session.flush()
    return capture


def capture_body(session: Session, capture: Capture) -> bytes:
    """The raw bytes of a capture, following a revisit to the capture that stored them."""
    holder = capture if capture.revisit_of is None else session.get(Capture, capture.revisit_of)
    if holder is None or holder.body is None:
        raise LookupError(f"capture {capture.id} has no stored body")
    return zlib.decompress(holder.body)
