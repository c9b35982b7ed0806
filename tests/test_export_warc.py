"""The WARC export of file captures (tests/test_cli_archive.py has the pages'): a response per
stored file with its bytes, a revisit for bytes the URL served before, a metadata record for
a body not kept, an empty response for a 404; `warcio check` passes; a file's bytes are
streamed, never whole in memory.
"""

from __future__ import annotations

import hashlib
import tracemalloc
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from warcio.archiveiterator import ArchiveIterator

import storage
from govcrawler.cli import warc
from govcrawler.cli.export_files import export_files
from tests.conftest import numbered_article, sqlite_url
from tests.test_cli_archive import cli, ok, query, warc_index
from tests.test_export_files import (
    FETCHED,
    HOST,
    TOO_LARGE,
    FilesArchive,
    add_files,
    files_archive,
    index_of,
    record_files,
)

__all__ = ["files_archive"]  # the fixture, shared


def records(path: Path) -> list[dict]:
    """Each record's type, URI, date, fields and payload (read back with warcio)."""
    found = []
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream):
            found.append(
                {
                    "type": record.rec_type,
                    "uri": record.rec_headers.get_header("WARC-Target-URI"),
                    "date": record.rec_headers.get_header("WARC-Date"),
                    "refers_to": record.rec_headers.get_header("WARC-Refers-To-Target-URI"),
                    "status": record.http_headers.get_statuscode() if record.http_headers else None,
                    "payload": record.content_stream().read(),
                }
            )
    return found


def test_file_captures_are_responses_revisits_and_metadata(
    files_archive: FilesArchive, tmp_path: Path
) -> None:
    target = tmp_path / "files.warc.gz"
    result = cli(files_archive.path, "export", "--format", "warc", "-o", str(target))
    ok(result)
    warc_index(target)  # warcio check passes
    mine = [r for r in records(target) if r["uri"] and r["uri"].startswith(HOST)]
    by_uri: dict[str, list[dict]] = {}
    for record in mine:
        by_uri.setdefault(record["uri"], []).append(record)
    for url, body in files_archive.bodies.items():
        first = by_uri[url][0]
        assert first["type"] == "response" and first["status"] == "200"
        assert first["payload"] == body
    image = by_uri[HOST + "photo.png"]
    assert [r["type"] for r in image] == ["response", "revisit"]
    assert image[1]["refers_to"] == HOST + "photo.png" and image[1]["payload"] == b""
    for url, why in files_archive.omitted.items():
        (only,) = by_uri[url]
        assert only["type"] == "metadata"
        fields = dict(line.split(": ", 1) for line in only["payload"].decode().splitlines() if line)
        assert fields["govcrawler-omitted"] == why
    huge = by_uri[HOST + "huge.zip"][0]["payload"].decode()
    assert f"declared-length: {TOO_LARGE}" in huge
    (gone,) = by_uri[HOST + "gone.pdf"]
    assert gone["type"] == "response" and gone["status"] == "404" and gone["payload"] == b""
    assert HOST + "never-fetched.pdf" not in by_uri  # never fetched: no capture
    total, omitted = query(files_archive.path, "SELECT COUNT(*), COUNT(omitted) FROM capture")[0]
    assert omitted >= len(files_archive.omitted)  # the crawl's own (the 200 MB file) besides
    assert f"{total + 1} records" in result.stderr
    assert f"{omitted} omitted files as metadata" in result.stderr


def test_a_revisit_before_since_still_names_the_file_digest(
    files_archive: FilesArchive, tmp_path: Path
) -> None:
    """--since after the image's first capture: its revisit's digest is read from the blob."""
    target = tmp_path / "later.warc.gz"
    ok(
        cli(
            files_archive.path,
            "export",
            "--format",
            "warc",
            "--since",
            "2026-12-08",
            "-o",
            str(target),
        )
    )
    (revisit,) = [r for r in warc_index(target) if r["warc-type"] == "revisit"]
    assert revisit["warc-target-uri"] == HOST + "photo.png"
    full = tmp_path / "all.warc.gz"
    ok(cli(files_archive.path, "export", "--format", "warc", "-o", str(full)))
    digests = {digest_of(full), digest_of(target)}
    assert len(digests) == 1


def digest_of(path: Path) -> str:
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type == "revisit":
                return str(record.rec_headers.get_header("WARC-Payload-Digest"))
    raise AssertionError("no revisit")


@pytest.mark.slow
def test_a_file_is_streamed_not_held_in_memory(crawled_archive: Path, tmp_path: Path) -> None:
    """A 24 MiB file goes into the WARC and the files export while Python's allocations
    peak well under its size."""
    size = 24 * 2**20
    data = add_files(crawled_archive, tmp_path / "spool", pdf_size=size)
    engine = storage.open_archive(sqlite_url(data.path), read_only=True)
    try:
        with storage.session_factory(engine)() as session:
            captures = list(warc.captures_since(session, datetime(2026, 12, 7, tzinfo=UTC)))
            with (tmp_path / "big.warc.gz").open("wb") as out:
                peak = peak_of(lambda: warc.write_warc(session, captures, out, "big", {}))
            assert peak < size // 4, peak
            peak = peak_of(lambda: export_files(session, tmp_path / "files"))
            assert peak < size // 4, peak
    finally:
        engine.dispose()
    body = data.bodies[HOST + "report.pdf"]
    stored = tmp_path / "files" / f"{hashlib.sha256(body).hexdigest()}.pdf"
    assert stored.stat().st_size == size and stored.read_bytes() == body


def peak_of(work: object) -> int:
    tracemalloc.start()
    try:
        work()  # type: ignore[operator]
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_both_exports_on_every_backend(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    """The same files, written through the storage API, exported from SQLite and PostgreSQL."""
    with sessions() as session:
        for n in (1, 2):
            page = numbered_article(n, f"Page {n}", f"Body of page {n}.", date(2024, 1, n), "w")
            storage.record_article(session, page, FETCHED)
        session.commit()
        pages = [(a.id, a.url) for a in session.scalars(select(storage.Article).order_by("id"))]
        data = FilesArchive(tmp_path, pages)
        record_files(session, data, tmp_path / "spool", 2 * 2**20 + 5)  # three chunks
        session.commit()
        export_files(session, tmp_path / "files")
        with (tmp_path / "files.warc.gz").open("wb") as out:
            counts = warc.write_warc(session, warc.captures_since(session, None), out, "x", {})
    assert (counts.responses, counts.revisits, counts.omitted) == (4, 1, 2)
    lines = index_of(tmp_path / "files")
    assert len(lines) == len(data.links)
    for line in lines:
        body = data.bodies.get(line["url"])
        if body is not None:
            assert (tmp_path / "files" / line["file"]).read_bytes() == body
            assert line["fetched_at"].endswith("+00:00")
    served = {
        r["uri"]: r["payload"]
        for r in records(tmp_path / "files.warc.gz")
        if r["type"] == "response"
    }
    assert all(served[url] == body for url, body in data.bodies.items())
