"""Exporting the archive: articles as JSON Lines or CSV, raw captures as a WARC file.

The writers take rows or captures from `storage.read` and a stream; opening files and printing
summaries is the CLI's job.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from http import HTTPStatus
from importlib.metadata import version
from pathlib import Path
from typing import IO, Any, TextIO

from sqlalchemy.orm import Session
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from storage import read
from storage.models import Capture
from storage.read import CONTENT_LISTS, CaptureExport

WARC_VERSION = "1.1"  # WARC/1.1 dates keep microseconds: captures a second apart stay apart
# The stored body is the decoded payload: these headers would describe bytes we do not have.
DROPPED_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})


@dataclass(frozen=True)
class WarcCounts:
    """How many records of each kind a WARC export wrote."""

    responses: int = 0
    revisits: int = 0

    @property
    def records(self) -> int:
        return 1 + self.responses + self.revisits  # the warcinfo record, then the captures


def json_value(value: Any) -> Any:
    """`json.dumps` default: dates and times as ISO 8601."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def write_jsonl(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    """One JSON object per line (UTF-8, not escaped); returns the number of rows."""
    written = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False, default=json_value) + "\n")
        written += 1
    return written


def write_csv(rows: Iterable[dict[str, Any]], columns: list[str], out: TextIO) -> int:
    """A header line, then one line per row with the `articles` view's columns."""
    fields = [name for name in columns if name not in CONTENT_LISTS]
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    written = 0
    for row in rows:
        writer.writerow(row)
        written += 1
    return written


@contextmanager
def text_output(path: Path | None, stdout: TextIO) -> Iterator[TextIO]:
    """A UTF-8 text stream on `path`, or on `stdout` (left open) when there is no path."""
    if path is not None:
        with path.open("w", encoding="utf-8", newline="") as file:
            yield file
        return
    buffer = getattr(stdout, "buffer", None)
    if buffer is None:  # a text-only stream (a test's capture): already Unicode
        yield stdout
        return
    stdout.flush()
    wrapper = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
    try:
        yield wrapper
    finally:
        wrapper.flush()
        wrapper.detach()


def warcinfo_fields(software: str, source: str) -> dict[str, str]:
    """The warcinfo record's fields: what wrote the file, from which archive."""
    return {
        "software": software,
        "format": f"WARC File Format {WARC_VERSION}",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/"
        "warc-format/warc-1.1/",
        "description": f"raw captures of www.sc.gov.cn article URLs, exported from {source}",
    }


def write_warc(
    captures: Iterable[CaptureExport], out: IO[bytes], filename: str, info: dict[str, str]
) -> WarcCounts:
    """A gzipped WARC: a warcinfo record, then a `response` record per stored capture and a
    `revisit` record (identical payload digest) per capture that repeated an earlier one."""
    writer = WARCWriter(out, gzip=True, warc_version=WARC_VERSION)
    writer.write_record(writer.create_warcinfo_record(filename, info))
    responses = revisits = 0
    for item in captures:
        if item.original is None:
            writer.write_record(_response(writer, item))
            responses += 1
        else:
            writer.write_record(_revisit(writer, item, item.original))
            revisits += 1
    return WarcCounts(responses, revisits)


def _response(writer: WARCWriter, item: CaptureExport) -> Any:
    capture = item.capture
    return writer.create_warc_record(
        capture.final_url,
        "response",
        payload=io.BytesIO(item.body),
        length=len(item.body),
        http_headers=http_headers(capture, len(item.body)),
        warc_headers_dict={"WARC-Date": warc_date(capture.fetched_at)},
    )


def _revisit(writer: WARCWriter, item: CaptureExport, original: Capture) -> Any:
    return writer.create_revisit_record(
        item.capture.final_url,
        payload_digest(item.body),
        original.final_url,
        warc_date(original.fetched_at),
        http_headers=http_headers(item.capture, len(item.body)),
        warc_headers_dict={"WARC-Date": warc_date(item.capture.fetched_at)},
    )


def http_headers(capture: Capture, length: int) -> StatusAndHeaders:
    """The status line and headers as captured, with Content-Length of the stored body."""
    try:
        reason = HTTPStatus(capture.status).phrase
    except ValueError:
        reason = ""
    headers = [
        (name, " ".join(value.split()))  # no line breaks inside a header
        for name, value in capture.headers.items()
        if name.lower() not in DROPPED_HEADERS
    ]
    headers.append(("Content-Length", str(length)))
    return StatusAndHeaders(f"{capture.status} {reason}".strip(), headers, protocol="HTTP/1.1")


def payload_digest(body: bytes) -> str:
    """The WARC payload digest warcio writes for a response: SHA-1, base32."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def warc_date(moment: datetime) -> str:
    """A WARC/1.1 date: UTC, microseconds kept."""
    return datetime_to_iso_date(moment.astimezone(UTC).replace(tzinfo=None), use_micros=True)


def export_warc(session: Session, output: Path | None, day: date | None, source: str) -> str:
    """Write the captures fetched since `day` as a WARC file (standard output when `output`
    is None); returns the summary line."""
    start = datetime.combine(day, time(), UTC) if day else None
    info = warcinfo_fields(f"govcrawler {version('govcrawler')}", source)
    captures = read.capture_exports(session, start)
    if output is None:
        sys.stdout.flush()
        counts = write_warc(captures, sys.stdout.buffer, "stdout.warc.gz", info)
        sys.stdout.buffer.flush()
    else:
        with output.open("wb") as file:
            counts = write_warc(captures, file, output.name, info)
    return (
        f"{counts.records} records ({counts.responses} responses, {counts.revisits} revisits,"
        f" 1 warcinfo) written to {output or 'stdout'}"
    )


def export_articles(session: Session, fmt: str, output: Path | None, day: date | None) -> str:
    """Write the articles published since `day` as JSON Lines or CSV; returns the summary."""
    rows = read.article_rows(session, day)
    with text_output(output, sys.stdout) as out:
        if fmt == "jsonl":
            written = write_jsonl(rows, out)
        else:
            written = write_csv(rows, read.article_columns(session), out)
    return (
        f"{(f'{written} article' + ('' if written == 1 else 's'))} written to {output or 'stdout'}"
    )
