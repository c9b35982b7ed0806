"""A file's bytes in the archive: one `file_blob` per sha256, its bytes in `file_chunk` rows of
zlib (level 6) of at most 1 MiB raw each, written from the spool file a chunk at a time and read
back the same way: a 100 MiB attachment is never one value in memory."""

from __future__ import annotations

import hashlib
import io
import zlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.orm import Session

from storage.models import FileBlob, FileChunk, table_of

CHUNK_BYTES = 1 << 20  # raw bytes per chunk: SQLite and psycopg handle 1 MiB values easily
COMPRESSION_LEVEL = 6  # as page captures (storage.captures)

_blob = table_of(FileBlob)
_chunk = table_of(FileChunk)

_BLOB_OF = select(_blob.c.id, _blob.c.text_status).where(_blob.c.sha256 == bindparam("sha256"))
_INSERT_BLOB = insert(_blob).returning(_blob.c.id)
_INSERT_CHUNK = insert(_chunk)
_STORED = (
    update(_blob).where(_blob.c.id == bindparam("blob")).values(stored_length=bindparam("stored"))
)
_CHUNK_AT = select(_chunk.c.data).where(
    _chunk.c.blob_id == bindparam("blob"), _chunk.c.seq == bindparam("seq")
)


class SpoolMismatch(ValueError):
    """The spool file is not the body the record describes (changed or truncated since)."""


def find_blob(db: Connection, sha256: str) -> Any:
    """The blob of these bytes (id, text_status), or None."""
    return db.execute(_BLOB_OF, {"sha256": sha256}).first()


def store_blob(db: Connection, path: Path | None, values: dict[str, Any]) -> int:
    """A new blob of the bytes at `path` (whose sha256 and length `values` give; None: an
    empty body, no chunks); its id. The digest is checked while the chunks are written: a
    spool file that is not what the download saw raises, and the caller's transaction rolls
    back with nothing kept."""
    blob_id: int = db.execute(_INSERT_BLOB, {**values, "stored_length": 0}).scalar_one()
    digest, length, stored = hashlib.sha256(), 0, 0
    with path.open("rb") if path is not None else io.BytesIO() as body:
        for seq, raw in enumerate(iter(lambda: body.read(CHUNK_BYTES), b"")):
            digest.update(raw)
            length += len(raw)
            data = zlib.compress(raw, COMPRESSION_LEVEL)
            stored += len(data)
            db.execute(_INSERT_CHUNK, {"blob_id": blob_id, "seq": seq, "data": data})
    if digest.hexdigest() != values["sha256"] or length != values["length"]:
        raise SpoolMismatch(f"{path}: {length} bytes, sha256 {digest.hexdigest()}, not {values}")
    db.execute(_STORED, {"blob": blob_id, "stored": stored})
    return blob_id


def blob_values(
    sha256: str, length: int, kind: str | None, media_type: str | None, stored_at: datetime
) -> dict[str, Any]:
    """The columns of a new blob (text aside, see `storage.files`)."""
    return {
        "sha256": sha256,
        "length": length,
        "kind": kind,
        "media_type": media_type,
        "first_stored_at": stored_at,
    }


def file_chunks(session: Session, sha256: str) -> Iterator[bytes]:
    """The raw bytes of the blob with this sha256, chunk by chunk (nothing when unknown).
    One row per query, by primary key: a driver that buffers whole results (psycopg's client
    cursor) never holds more than one chunk."""
    db = session.connection()
    found = find_blob(db, sha256)
    if found is None:
        return
    seq = 0
    while (data := db.execute(_CHUNK_AT, {"blob": found.id, "seq": seq}).scalar()) is not None:
        yield zlib.decompress(data)
        seq += 1
