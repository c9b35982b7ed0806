"""What a file response makes of its URL's `site_file` row (`storage.files.record_file`).

The conditional headers (ETag, Last-Modified) are kept only from a response whose bytes were
kept or skipped on purpose (too large): after a 404, a cut body or an error the next fetch
asks for the whole file again, and a file back from the dead is not taken for unchanged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.file_records import FileRecord

KEPT = ("stored", "revisit", "duplicate")
STATE_OF = {"gone": "gone", "too_large": "too_large", "cut": "cut"}


def header(record: FileRecord, name: str) -> str | None:
    """A response header, whatever the case of its name."""
    wanted = name.lower()
    return next((v for k, v in record.headers.items() if k.lower() == wanted), None)


def state_values(record: FileRecord, outcome: str, gone_at: datetime | None) -> dict[str, Any]:
    """The `site_file` columns this response sets (its blob and capture aside)."""
    values: dict[str, Any] = {
        "status": record.status,
        "last_fetched_at": record.fetched_at,
        "last_seen_at": record.fetched_at,
    }
    if outcome == "not_modified":  # a 304 may renew its validators
        values.update(_validators(record, keep_missing=True))
        return values
    values["state"] = "stored" if outcome in KEPT else STATE_OF.get(outcome, "failed")
    values["gone_at"] = (gone_at or record.fetched_at) if outcome == "gone" else None
    if outcome in KEPT or outcome == "too_large":
        values.update(_validators(record, keep_missing=False))
        values["declared_type"] = header(record, "Content-Type")
        values["declared_length"] = record.declared_length
    else:
        values.update(etag=None, last_modified=None)
    return values


def _validators(record: FileRecord, keep_missing: bool) -> dict[str, str | None]:
    found = {"etag": header(record, "ETag"), "last_modified": header(record, "Last-Modified")}
    return {k: v for k, v in found.items() if v is not None or not keep_missing}
