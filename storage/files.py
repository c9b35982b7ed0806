"""Files (attachments and images) fetched from the site: `record_file` keeps one response.

Each fetch is a `capture` (kind attachment|image) with no body of its own: its `body_sha256`
names the `file_blob` that holds the bytes (`storage.file_blobs`, once per sha256: the same PDF
under two URLs is stored once), "" when no bytes were kept. The `site_file` row says what the
URL is now: stored, gone (404/410: its last bytes are kept), too_large or cut (size and headers
recorded, no body), failed (another error); a 304 only moves its times. Which pages link which
file: `storage.file_links`. Everything of one file is written in the caller's transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, text, update
from sqlalchemy.orm import Session

from storage.file_blobs import blob_values, file_chunks, find_blob, store_blob
from storage.file_links import FileLink, links_of, record_file_links
from storage.file_records import FileRecord, FileResult, FileTextRecord, KnownFile, PageFile
from storage.file_state import state_values
from storage.models import ArticleFile, Capture, FileBlob, SiteFile, table_of
from storage.search.files import index_file_text
from storage.types import UTCDateTime
from storage.writing import writer

__all__ = [
    "FileLink",
    "FileRecord",
    "FileResult",
    "FileTextRecord",
    "KnownFile",
    "PageFile",
    "file_chunks",
    "known_files",
    "links_of",
    "page_files",
    "record_file",
    "record_file_links",
]

_capture = table_of(Capture)
_file = table_of(SiteFile)
_blob = table_of(FileBlob)
_link = table_of(ArticleFile)

_FILE_AT = select(_file.c.id, _file.c.gone_at).where(_file.c.url == bindparam("url"))
_INSERT_FILE = insert(_file).returning(_file.c.id)
_INSERT_CAPTURE = insert(_capture).returning(_capture.c.id)
_SAME_BYTES_BEFORE = (
    select(_capture.c.id, _capture.c.revisit_of)
    .where(_capture.c.url == bindparam("url"), _capture.c.body_sha256 == bindparam("digest"))
    .order_by(_capture.c.fetched_at.desc(), _capture.c.id.desc())
    .limit(1)
)
_SET_TEXT = update(_blob).where(_blob.c.id == bindparam("blob"))
_TEXT_STATUS = select(_blob.c.text_status).where(_blob.c.id == bindparam("blob"))
_LINK_NAME = (
    select(_link.c.name)
    .where(_link.c.file_id == bindparam("file"), _link.c.name.is_not(None))
    .order_by(_link.c.first_seen_at, _link.c.article_id)
    .limit(1)
)
_KNOWN = select(
    _file.c.url,
    _file.c.kind,
    _file.c.state,
    _file.c.last_fetched_at,
    _file.c.etag,
    _file.c.last_modified,
)


def record_file(session: Session, record: FileRecord, run_id: int | None = None) -> FileResult:
    """Keep one file response: its capture, its bytes (once per sha256) and text, the state
    of its URL. `run_id` is accepted for the pipeline's symmetry with pages (files record no
    changes yet)."""
    db = writer(session)
    known = db.execute(_FILE_AT, {"url": record.url}).first()
    file_id = known.id if known is not None else _new_file(db, record)
    blob_id, outcome = _bytes_of(db, record, known)
    capture_id = None if outcome == "not_modified" else _capture_of(db, record, outcome)
    values = state_values(record, outcome, known.gone_at if known is not None else None)
    if capture_id is not None:
        values["last_capture_id"] = capture_id
    if blob_id is not None:
        values["current_blob_id"] = blob_id
    db.execute(update(_file).where(_file.c.id == file_id).values(values))
    if blob_id is not None and record.text is not None:
        _write_text(db, session, file_id, blob_id, record.text)
    return FileResult(capture_id, file_id, outcome)


def _new_file(db: Connection, record: FileRecord) -> int:
    """A file fetched before any page was seen linking it (a test, a URL given by hand)."""
    values = {
        "url": record.url,
        "kind": record.kind,
        "first_seen_at": record.fetched_at,
        "last_seen_at": record.fetched_at,
        "state": "pending",
    }
    file_id: int = db.execute(_INSERT_FILE, values).scalar_one()
    return file_id


def _bytes_of(db: Connection, record: FileRecord, known: Any) -> tuple[int | None, str]:
    """The blob holding the response's bytes (stored now if new) and the outcome."""
    if record.status == 304:
        return None, "not_modified"
    if record.status in (404, 410):
        return None, "gone"
    if not 200 <= record.status < 300:
        return None, f"http_{record.status}"
    if record.omitted is not None:
        return None, record.omitted
    if record.sha256 is None or (record.path is None and record.length != 0):
        raise ValueError(f"{record.url}: a {record.status} response with no body nor reason")
    found = find_blob(db, record.sha256)
    if found is not None:
        same_url = known is not None and _fetched_before(db, record)
        return found.id, "revisit" if same_url else "duplicate"
    values = blob_values(
        record.sha256, record.length, record.sniffed_kind, record.media_type, record.fetched_at
    )
    return store_blob(db, record.path, values), "stored"


def _fetched_before(db: Connection, record: FileRecord) -> bool:
    """Whether the URL served these bytes before (a revisit, not a duplicate)."""
    parameters = {"url": record.url, "digest": record.sha256}
    return db.execute(_SAME_BYTES_BEFORE, parameters).first() is not None


def _capture_of(db: Connection, record: FileRecord, outcome: str) -> int:
    """The response's capture: bytes the URL served before are a revisit of its first capture
    of them, as page captures are."""
    kept = outcome in ("stored", "revisit", "duplicate")
    digest = record.sha256 if kept and record.sha256 else ""
    revisit_of = None
    if outcome == "revisit":
        previous = db.execute(_SAME_BYTES_BEFORE, {"url": record.url, "digest": digest}).first()
        assert previous is not None
        revisit_of = previous.revisit_of if previous.revisit_of is not None else previous.id
    values = {
        "url": record.url,
        "final_url": record.final_url,
        "status": record.status,
        "headers": record.headers,
        "fetched_at": record.fetched_at,
        "body": None,
        "body_sha256": digest,
        "body_length": _body_length(record, kept),
        "revisit_of": revisit_of,
        "article_id": None,
        "kind": record.kind,
        "omitted": record.omitted if outcome == record.omitted else None,
    }
    capture_id: int = db.execute(_INSERT_CAPTURE, values).scalar_one()
    return capture_id


MAX_BODY_LENGTH = 2**31 - 1  # capture.body_length is an INTEGER


def _body_length(record: FileRecord, kept: bool) -> int:
    """The bytes the capture stands for: the blob's, or the too large/cut body's as received
    or declared; an error response's body (a 404 page) is not kept: 0."""
    if kept or record.omitted is not None:
        return min(record.length, MAX_BODY_LENGTH)
    return 0


def _write_text(
    db: Connection, session: Session, file_id: int, blob_id: int, read: FileTextRecord
) -> None:
    """A blob's text is written once, by its first fetch (a duplicate or revisit has the same
    bytes, so the same text), and indexed then, with the name of the URL's first link: blobs
    never change, so the index needs no removal; a rebuild of the index (a change to how text
    is indexed) recomputes every row."""
    if db.execute(_TEXT_STATUS, {"blob": blob_id}).scalar() is not None:
        return
    db.execute(
        _SET_TEXT,
        {
            "blob": blob_id,
            "text": read.text,
            "text_status": read.status,
            "text_pages": read.pages,
            "text_library": read.library,
            "text_reason": read.reason,
        },
    )
    name = db.execute(_LINK_NAME, {"file": file_id}).scalar()
    index_file_text(session, blob_id, name, read.text)  # (skips a blob with neither)


def known_files(session: Session) -> dict[str, KnownFile]:
    """Every file URL the archive knows, with what the next fetch needs."""
    rows = session.connection().execute(_KNOWN)
    return {row.url: KnownFile(*row) for row in rows}


_PAGE_FILES = text(
    "SELECT * FROM attachments WHERE article_id = :article ORDER BY role, first_seen_at, url"
).columns(first_seen_at=UTCDateTime(), last_seen_at=UTCDateTime())


def page_files(session: Session, article_id: int) -> list[PageFile]:
    """The files the page links (the `attachments` view's rows), attachments first."""
    rows = session.connection().execute(_PAGE_FILES, {"article": article_id}).mappings()
    return [PageFile(**row) for row in rows]
