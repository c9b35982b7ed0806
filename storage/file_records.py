"""What the file write path takes and returns (`storage.files`): a fetched file response
(`FileRecord`, with the text read from it: `FileTextRecord`), what it was to the archive
(`FileResult`), what the crawler plans the next fetch with (`KnownFile`) and a page's files as
`show` lists them (`PageFile`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class FileTextRecord:
    """What reading a file's text gave (`text_status`: ok, no_text_layer, encrypted, corrupt,
    unsupported, not_read), which library read it, and why not when it could not."""

    text: str | None
    status: str
    pages: int | None = None
    library: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class FileRecord:
    """A file response as the download spooled it (`Spooled`) and the pipeline read it."""

    url: str
    final_url: str
    status: int
    fetched_at: datetime
    headers: dict[str, str]
    kind: str  # attachment | image
    path: Path | None  # the body on disk; None: not kept
    length: int  # bytes received; the declared length when not read
    sha256: str | None
    omitted: str | None = None  # too_large | cut
    declared_length: int | None = None
    sniffed_kind: str | None = None  # from the bytes
    media_type: str | None = None
    text: FileTextRecord | None = None  # None: not read


@dataclass(frozen=True)
class FileResult:
    """What a file response was to the archive: stored, revisit, duplicate, not_modified, gone,
    too_large, cut or http_<status>; its capture (None for a 304) and its site_file."""

    capture_id: int | None
    file_id: int
    outcome: str


@dataclass(frozen=True)
class KnownFile:
    """What the crawler plans a file's next fetch with."""

    url: str
    state: str
    last_fetched_at: datetime | None
    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class PageFile:
    """A file a page links: a row of the `attachments` view."""

    article_id: int
    page_type: str
    page_url: str
    title: str | None
    role: str
    name: str | None
    url: str
    declared_type: str | None
    media_type: str | None
    length: int | None
    sha256: str | None
    state: str
    status: int | None
    text_status: str | None
    text_length: int | None
    first_seen_at: datetime
    last_seen_at: datetime
