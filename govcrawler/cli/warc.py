"""The WARC export: every capture of the archive as a standard gzipped WARC/1.1 file.

Per capture: a `response` record (page, list, attachment, image) with the stored body, a
`revisit` record (identical payload digest) for a capture that repeated the URL's earlier
bytes, and, for a file the crawl received no whole body of (`omitted`: too_large, not read past
the limit, or cut), a `metadata` record saying so instead of a response: a replay then finds no
such capture rather than an empty or partial file. A file's bytes are spooled from
`storage.file_chunks` to a temporary file, never held whole in memory.

A capture of a request that was not a GET (the list API's POST with its JSON query) is
preceded by a `request` record (`WARC-Concurrent-To` its response or revisit): the method,
the Host and Content-Length headers (the archive keeps no other request header) and the body
sent, so that a replay can tell one query's answer from another's at the same URL.
"""

from __future__ import annotations

import base64
import hashlib
import io
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from http import HTTPStatus
from importlib.metadata import version
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

import storage
from storage.models import Capture

WARC_VERSION = "1.1"  # WARC/1.1 dates keep microseconds: captures a second apart stay apart
# The stored body is the decoded payload: these headers would describe bytes we do not have.
DROPPED_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})
FILE_KINDS = frozenset({"attachment", "image"})
Chunks = Callable[[str], Iterable[bytes]]  # sha256 -> the blob's raw bytes, chunk by chunk


@dataclass(frozen=True)
class WarcCounts:
    """How many records of each kind a WARC export wrote."""

    responses: int = 0
    revisits: int = 0
    omitted: int = 0  # metadata records: files whose body was not kept
    requests: int = 0  # request records: of the captures that were not a GET

    @property
    def records(self) -> int:
        # warcinfo, then captures
        return 1 + self.responses + self.revisits + self.omitted + self.requests


def warcinfo_fields(software: str, source: str) -> dict[str, str]:
    """The warcinfo record's fields: what wrote the file, from which archive."""
    return {
        "software": software,
        "format": f"WARC File Format {WARC_VERSION}",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/"
        "warc-format/warc-1.1/",
        "description": f"raw captures of www.sc.gov.cn pages and files, exported from {source}",
    }


class _Writer:
    """A WARCWriter and what it wrote; file digests are kept per sha256 for their revisits."""

    def __init__(self, session: Session, out: IO[bytes], chunks: Chunks) -> None:
        self.session, self.chunks = session, chunks
        self.warc = WARCWriter(out, gzip=True, warc_version=WARC_VERSION)
        self.counts = {"responses": 0, "revisits": 0, "omitted": 0, "requests": 0}
        self.file_digests: dict[str, str] = {}

    def capture(self, capture: Capture) -> None:
        if capture.kind not in FILE_KINDS:
            self._page(capture)
        elif capture.omitted:
            self._write(capture, "omitted", _omitted(self.warc, capture))
        elif capture.revisit_of is not None:
            digest = self._file_digest(capture)
            self._write(
                capture, "revisits", _revisit(self.warc, capture, self._original(capture), digest)
            )
        else:
            self._file(capture)

    def _page(self, capture: Capture) -> None:
        body = storage.capture_body(self.session, capture)
        if capture.revisit_of is None:
            record = _response(self.warc, capture, io.BytesIO(body), len(body))
            self._write(capture, "responses", record)
        else:
            record = _revisit(self.warc, capture, self._original(capture), payload_digest(body))
            self._write(capture, "revisits", record)

    def _file(self, capture: Capture) -> None:
        sha256 = capture.body_sha256
        with spooled(self.chunks(sha256) if sha256 else ()) as (body, length):
            if length != (capture.body_length if sha256 else 0):
                raise LookupError(f"capture {capture.id}: blob {sha256} missing or damaged")
            record = _response(self.warc, capture, body, length)
            self._write(capture, "responses", record)
        if sha256:
            self.file_digests[sha256] = record.rec_headers.get_header("WARC-Payload-Digest")

    def _file_digest(self, capture: Capture) -> str:
        """A file's payload digest: as written earlier in this export, else read again."""
        sha256 = capture.body_sha256
        if sha256 not in self.file_digests:
            sha1 = hashlib.sha1()
            for chunk in self.chunks(sha256):
                sha1.update(chunk)
            self.file_digests[sha256] = _sha1_label(sha1.digest())
        return self.file_digests[sha256]

    def _original(self, capture: Capture) -> Capture:
        original = self.session.get(Capture, capture.revisit_of)
        assert original is not None, f"capture {capture.id} revisits a missing capture"
        return original

    def _write(self, capture: Capture, kind: str, record: Any) -> None:
        """The record, after the request it answers when that was not a plain GET."""
        if capture.method != "GET" and kind != "omitted":
            self.warc.write_record(_request(self.warc, capture, record))
            self.counts["requests"] += 1
        self.warc.write_record(record)
        self.counts[kind] += 1


def write_warc(
    session: Session,
    captures: Iterable[Capture],
    out: IO[bytes],
    filename: str,
    info: dict[str, str],
    chunks: Chunks | None = None,
) -> WarcCounts:
    """A gzipped WARC: a warcinfo record, then one record per capture (module docstring)."""
    writer = _Writer(session, out, chunks or (lambda sha256: storage.file_chunks(session, sha256)))
    writer.warc.write_record(writer.warc.create_warcinfo_record(filename, info))
    for capture in captures:
        writer.capture(capture)
    return WarcCounts(**writer.counts)


@contextmanager
def spooled(chunks: Iterable[bytes]) -> Iterator[tuple[IO[bytes], int]]:
    """The chunks in a temporary file (warcio reads a body twice: digests, then the copy)."""
    with tempfile.TemporaryFile() as spool:
        for chunk in chunks:
            spool.write(chunk)
        length = spool.tell()
        spool.seek(0)
        yield spool, length


def _response(warc: WARCWriter, capture: Capture, body: IO[bytes], length: int) -> Any:
    return warc.create_warc_record(
        capture.final_url,
        "response",
        payload=body,
        length=length,
        http_headers=http_headers(capture, length),
        warc_headers_dict={"WARC-Date": warc_date(capture.fetched_at)},
    )


def _revisit(warc: WARCWriter, capture: Capture, original: Capture, digest: str) -> Any:
    return warc.create_revisit_record(
        capture.final_url,
        digest,
        original.final_url,
        warc_date(original.fetched_at),
        http_headers=http_headers(capture, capture.body_length),
        warc_headers_dict={"WARC-Date": warc_date(capture.fetched_at)},
    )


def _request(warc: WARCWriter, capture: Capture, answer: Any) -> Any:
    """The request a response or revisit record answers, concurrent to it."""
    body = capture.request_body or b""
    target = urlsplit(capture.final_url)
    path = (target.path or "/") + (f"?{target.query}" if target.query else "")
    headers = [("Host", target.netloc), ("Content-Length", str(len(body)))]
    return warc.create_warc_record(
        capture.final_url,
        "request",
        payload=io.BytesIO(body),
        length=len(body),
        http_headers=StatusAndHeaders(
            f"{capture.method} {path} HTTP/1.1", headers, is_http_request=True
        ),
        warc_headers_dict={
            "WARC-Date": warc_date(capture.fetched_at),
            "WARC-Concurrent-To": answer.rec_headers.get_header("WARC-Record-ID"),
        },
    )


def _omitted(warc: WARCWriter, capture: Capture) -> Any:
    """A `metadata` record (application/warc-fields) for a file whose body was not kept."""
    headers = {name.lower(): value for name, value in capture.headers.items()}
    fields = {
        "govcrawler-omitted": capture.omitted or "",
        "http-status": str(capture.status),
        "received-length": str(capture.body_length),
        "declared-length": headers.get("content-length", ""),
        "declared-type": headers.get("content-type", ""),
    }
    text = "".join(f"{name}: {' '.join(value.split())}\r\n" for name, value in fields.items())
    payload = text.encode("utf-8")
    return warc.create_warc_record(
        capture.final_url,
        "metadata",
        payload=io.BytesIO(payload),
        length=len(payload),
        warc_content_type="application/warc-fields",
        warc_headers_dict={"WARC-Date": warc_date(capture.fetched_at)},
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
    return _sha1_label(hashlib.sha1(body).digest())


def _sha1_label(digest: bytes) -> str:
    return "sha1:" + base64.b32encode(digest).decode("ascii")


def warc_date(moment: datetime) -> str:
    """A WARC/1.1 date: UTC, microseconds kept."""
    return datetime_to_iso_date(moment.astimezone(UTC).replace(tzinfo=None), use_micros=True)


def captures_since(session: Session, since: datetime | None) -> Iterator[Capture]:
    """Every capture fetched at or after `since`, oldest first, bodies loaded one by one."""
    query = select(Capture).order_by(Capture.fetched_at, Capture.id)
    if since is not None:
        query = query.where(Capture.fetched_at >= since)
    yield from session.scalars(query.execution_options(yield_per=100))


def export_warc(session: Session, output: Path | None, day: date | None, source: str) -> str:
    """Write the captures fetched since `day` as a WARC file (standard output when `output`
    is None); returns the summary line."""
    start = datetime.combine(day, time(), UTC) if day else None
    info = warcinfo_fields(f"govcrawler {version('govcrawler')}", source)
    captures = captures_since(session, start)
    if output is None:
        sys.stdout.flush()
        counts = write_warc(session, captures, sys.stdout.buffer, "stdout.warc.gz", info)
        sys.stdout.buffer.flush()
    else:
        with output.open("wb") as file:
            counts = write_warc(session, captures, file, output.name, info)
    return (
        f"{counts.records} records ({counts.responses} responses, {counts.revisits} revisits,"
        f" {counts.omitted} omitted files as metadata, {counts.requests} requests of non-GET"
        f" captures, 1 warcinfo) written to {output or 'stdout'}"
    )
