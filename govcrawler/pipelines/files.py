"""The path of a fetched file (`FileFetch`): archived as a capture and, once per content, a
stored body with its text (`storage.record_file`); its spooled body removed once the batch that
wrote it has ended, stored or not."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

import storage
from govcrawler.crawl.spool import discard
from govcrawler.items import FileFetch
from govcrawler.pipelines.path import run_of

logger = logging.getLogger(__name__)


def archive_file(session: Session, item: FileFetch) -> list[str]:
    """A file, in a savepoint of the batch: one whose spooled body is unreadable or not what
    the download saw is left out, whole, and the batch's pages are archived all the same."""
    try:
        with session.begin_nested():
            result = storage.record_file(session, file_record(item), run_of(session))
    except (OSError, ValueError) as error:  # a database error still fails the whole batch
        logger.warning("file not archived, %s: %s", item.url, error)
        return [f"file_error/{type(error).__name__}"]
    read = item.read
    counted = [f"file_{result.outcome}"]
    if read is not None and result.outcome == "stored":  # a new body: its kind and its text
        counted += [f"file_kind/{read.kind}", f"file_text/{read.status}"]
    return counted


def file_record(item: FileFetch) -> storage.FileRecord:
    """The archive's shape of a fetched file."""
    spooled, read = item.spooled, item.read
    text = None
    if read is not None:  # an image's is "not_read"; a file not kept has none
        body = read.text or ""
        text = storage.FileTextRecord(body, read.status, read.pages, read.library, read.reason)
    return storage.FileRecord(
        url=item.url,
        final_url=item.final_url,
        status=item.status,
        fetched_at=item.fetched_at,
        headers=item.headers,
        kind=item.role,
        path=spooled.path if spooled is not None else None,
        length=spooled.length if spooled is not None else 0,
        sha256=spooled.sha256 if spooled is not None else None,
        omitted=spooled.omitted if spooled is not None else None,
        declared_length=spooled.declared_length if spooled is not None else None,
        sniffed_kind=read.kind if read is not None else None,
        media_type=read.media_type if read is not None else None,
        text=text,
    )


def release_file(item: FileFetch) -> None:
    """Remove the spooled body: the archive holds it now, or the batch failed and the file is
    fetched again by the next run."""
    try:
        discard(item.spooled)
    except OSError as error:  # the spool directory goes at the crawl's end anyway
        logger.warning("could not remove the spooled body of %s: %s", item.url, error)


def file_url(item: FileFetch) -> str:
    return item.url
