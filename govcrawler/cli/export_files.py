"""`govcrawler export --format files DIR`: the stored files as plain files, and an index.

Each current blob of a linked file is written once as `DIR/<sha256>.<ext>` (however many URLs
and pages share it), the text read from it beside it as `DIR/<sha256>.text.txt` (UTF-8; none
for a file with no text), and `DIR/index.jsonl` has one line per (file URL, page). Older bytes of a
file that changed are in the WARC export. Every file is written under a temporary name and
renamed when whole, so an interrupted export leaves no partial file under a final name, and a
second export into the same directory skips the blobs already there.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import storage
from storage.models import Article, ArticleFile, FileBlob, SiteFile
from storage.read import utc_text

INDEX = "index.jsonl"
# file_blob.kind (sniffed from the bytes) -> extension, where the kind is not one already.
EXTENSIONS = {"jpeg": "jpg", "text": "txt", "ole2": "ole", "image": "", "html": "html"}
Chunks = Callable[[str], Iterable[bytes]]


class ExportError(Exception):
    """The target directory cannot be used (a one-line message for the CLI)."""


def extension(kind: str | None, media_type: str | None) -> str:
    """The file name's extension: the sniffed kind, else the media type's, else `bin`."""
    if kind and EXTENSIONS.get(kind, kind).isalnum():
        return EXTENSIONS.get(kind, kind)
    guessed = mimetypes.guess_extension(media_type or "", strict=False)
    return guessed.lstrip(".") if guessed else "bin"


def _links(session: Session) -> Iterator[Any]:
    query = (
        select(
            ArticleFile.article_id,
            Article.url.label("page_url"),
            ArticleFile.role,
            ArticleFile.name,
            SiteFile.url,
            SiteFile.state,
            SiteFile.last_fetched_at,
            SiteFile.declared_length,
            FileBlob.sha256,
            FileBlob.kind,
            FileBlob.media_type,
            FileBlob.length,
            FileBlob.id.label("blob_id"),
            FileBlob.text_status,
        )
        .join(Article, Article.id == ArticleFile.article_id)
        .join(SiteFile, SiteFile.id == ArticleFile.file_id)
        .outerjoin(FileBlob, FileBlob.id == SiteFile.current_blob_id)
        .order_by(SiteFile.url, ArticleFile.article_id)
    )
    yield from session.execute(query)


def index_line(row: Any, names: tuple[str, str | None] | None) -> dict[str, Any]:
    """One (file URL, page) line of index.jsonl; `names`: the file's and its text's."""
    return {
        "sha256": row.sha256,
        "file": names[0] if names else None,
        "text_file": names[1] if names else None,
        "text_status": row.text_status,
        "url": row.url,
        "page_id": row.article_id,
        "page_url": row.page_url,
        "role": row.role,
        "name": row.name,
        "media_type": row.media_type,
        "length": row.length if row.sha256 else row.declared_length,
        "fetched_at": utc_text(row.last_fetched_at),
        "state": row.state,
    }


def prepare(directory: Path) -> None:
    """Create `directory` if needed; one clear error when it cannot hold the export."""
    if directory.exists() and not directory.is_dir():
        raise ExportError(f"{directory} is a file, not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / f".write-test-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as error:
        raise ExportError(f"cannot write to {directory}: {error.strerror}") from error


def write_blob(directory: Path, name: str, sha256: str, chunks: Iterable[bytes]) -> int:
    """The blob under a temporary name, checked against its digest, then renamed."""
    temporary = directory / f".{name}.part"
    digest, length = hashlib.sha256(), 0
    try:
        with temporary.open("wb") as out:
            for chunk in chunks:
                out.write(chunk)
                digest.update(chunk)
                length += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != sha256:
            raise ExportError(f"blob {sha256} reads back as {digest.hexdigest()}: archive damaged")
        os.replace(temporary, directory / name)
    finally:
        temporary.unlink(missing_ok=True)
    return length


def export_files(session: Session, directory: Path, chunks: Chunks | None = None) -> str:
    """Write the files and index.jsonl into `directory`; returns the summary line."""
    prepare(directory)
    blobs = _Blobs(
        directory,
        chunks or (lambda sha256: storage.file_chunks(session, sha256)),
        lambda blob_id: session.scalar(select(FileBlob.text).where(FileBlob.id == blob_id)),
    )
    lines = 0
    temporary = directory / f".{INDEX}.part"
    try:
        with temporary.open("w", encoding="utf-8") as index:
            for row in _links(session):
                names = blobs.store(row) if row.sha256 else None
                index.write(json.dumps(index_line(row, names), ensure_ascii=False) + "\n")
                lines += 1
            index.flush()
            os.fsync(index.fileno())
        os.replace(temporary, directory / INDEX)
    finally:
        temporary.unlink(missing_ok=True)
    return (
        f"{blobs.written} files ({blobs.bytes} bytes; {blobs.present} already there) and"
        f" {INDEX} ({lines} lines) written to {directory}"
    )


class _Blobs:
    """The blobs written (or found) in the directory, each once, by sha256."""

    def __init__(self, directory: Path, chunks: Chunks, text_of: Callable[[int], Any]) -> None:
        self.directory, self.chunks, self.text_of = directory, chunks, text_of
        self.names: dict[str, tuple[str, str | None]] = {}
        self.written = self.present = self.bytes = 0

    def store(self, row: Any) -> tuple[str, str | None]:
        """The names of the row's blob and of its text, written now unless already there."""
        sha256 = row.sha256
        if sha256 in self.names:
            return self.names[sha256]
        name = f"{sha256}.{extension(row.kind, row.media_type)}"
        if (self.directory / name).is_file():  # renamed into place whole: an earlier export's
            self.present += 1
        else:
            self.bytes += write_blob(self.directory, name, sha256, self.chunks(sha256))
            self.written += 1
        text = self.text_of(row.blob_id)
        text_name = f"{sha256}.text.txt" if text else None
        if text_name and not (self.directory / text_name).is_file():
            write_text(self.directory / text_name, text or "")
        self.names[sha256] = (name, text_name)
        return self.names[sha256]


def write_text(path: Path, text: str) -> None:
    """A file's text under a temporary name, renamed when whole."""
    temporary = path.with_name(f".{path.name}.part")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
