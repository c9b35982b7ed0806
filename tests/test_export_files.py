"""`govcrawler export --format files DIR` over a copy of the shared replay crawl's archive with
files recorded into it through `storage.record_file` (the pipeline's path): each blob once,
an index line per (file URL, page), crash-safe writes, one-line errors.

`FilesArchive` (the files and what the archive must give back) is also the WARC tests' data.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import storage
from govcrawler.cli.export_files import export_files
from tests.conftest import sqlite_url
from tests.test_cli_archive import assert_one_line_error, cli, ok, query

FETCHED = datetime(2026, 12, 7, 3, 0, 0, 123456, tzinfo=UTC)
HOST = "https://www.sc.gov.cn/10462/files/"
TOO_LARGE = 209715200


def pdf_bytes(size: int, seed: int = 14) -> bytes:
    """A PDF-looking body of `size` bytes, incompressible (so its chunks are many and big)."""
    noise = random.Random(seed).randbytes(size)
    return b"%PDF-1.4\n" + noise[: size - 9]


PNG = bytes.fromhex("89504e470d0a1a0a") + random.Random(7).randbytes(3000)


@dataclass
class FilesArchive:
    """An archive with files: `bodies` url -> bytes kept, `links` (url, page id, role, name)."""

    path: Path
    pages: list[tuple[int, str]]  # (article id, URL) of the two pages that link files
    bodies: dict[str, bytes] = field(default_factory=dict)
    links: list[tuple[str, int, str, str]] = field(default_factory=list)
    omitted: dict[str, str] = field(default_factory=dict)  # url -> too_large | cut


def record(
    session: storage.ArchiveSession,
    spool: Path,
    url: str,
    body: bytes | None,
    at: datetime = FETCHED,
    **fields: object,
) -> object:
    """One file response through `storage.record_file`, its body spooled as the crawl does."""
    path = None
    if body is not None:
        path = spool / hashlib.sha256(f"{url} {at}".encode()).hexdigest()
        path.write_bytes(body)
    values: dict[str, object] = {
        "url": url,
        "final_url": url,
        "status": 200,
        "fetched_at": at,
        "headers": {"Content-Type": "application/pdf"},
        "kind": "attachment",
        "path": path,
        "length": len(body) if body is not None else 0,
        "sha256": hashlib.sha256(body).hexdigest() if body is not None else None,
        "omitted": None,
        "declared_length": None,
        "sniffed_kind": "pdf" if body is not None else None,
        "media_type": "application/pdf" if body is not None else None,
        "text": None,
    }
    values.update(fields)
    return storage.record_file(session, storage.FileRecord(**values))  # type: ignore[arg-type]


def add_files(archive: Path, spool: Path, pdf_size: int = 3 * 2**20) -> FilesArchive:
    """Files of every case linked from two of the archive's pages."""
    pages = query(archive, "SELECT id, url FROM article ORDER BY id LIMIT 2")
    data = FilesArchive(archive, pages)
    engine = storage.open_archive(sqlite_url(archive))
    try:
        with storage.session_factory(engine)() as session:
            record_files(session, data, spool, pdf_size)
            session.commit()
    finally:
        engine.dispose()
    return data


def record_files(
    session: storage.ArchiveSession, data: FilesArchive, spool: Path, pdf_size: int
) -> None:
    """The files of every case, linked from `data.pages`, recorded as the pipeline does."""
    (first, _), (second, _) = data.pages
    pdf, copy = HOST + "report.pdf", HOST + "copy-of-report.pdf"
    image, big, cut = HOST + "photo.png", HOST + "huge.zip", HOST + "cut.pdf"
    gone, pending = HOST + "gone.pdf", HOST + "never-fetched.pdf"
    data.links = [
        (pdf, first, "attachment", "报告全文"),
        (pdf, second, "attachment", "the report"),
        (copy, second, "attachment", "the same report"),
        (image, first, "image", "a caption"),
        (big, first, "attachment", "huge archive"),
        (cut, first, "attachment", "cut"),
        (gone, second, "attachment", "gone"),
        (pending, second, "attachment", "pending"),
    ]
    spool.mkdir(exist_ok=True)
    for page in (first, second):
        links = [storage.FileLink(u, role, name) for u, p, role, name in data.links if p == page]
        storage.record_file_links(session, page, links, FETCHED)
    body = pdf_bytes(pdf_size)
    data.bodies = {pdf: body, copy: body, image: PNG}
    record(session, spool, pdf, body)
    record(session, spool, copy, body, FETCHED + timedelta(seconds=1))
    png = {"kind": "image", "sniffed_kind": "png", "media_type": "image/png"}
    png["headers"] = {"Content-Type": "image/png"}
    record(session, spool, image, PNG, FETCHED + timedelta(seconds=2), **png)
    record(session, spool, image, PNG, FETCHED + timedelta(days=1), **png)  # a revisit
    too_large = {"omitted": "too_large", "length": TOO_LARGE, "declared_length": TOO_LARGE}
    record(session, spool, big, None, headers={"Content-Length": str(TOO_LARGE)}, **too_large)
    record(session, spool, cut, None, omitted="cut", length=1000, declared_length=5000)
    record(session, spool, gone, None, status=404, headers={"Content-Type": "text/html"})
    data.omitted = {big: "too_large", cut: "cut"}


@pytest.fixture
def files_archive(crawled_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> FilesArchive:
    return add_files(crawled_archive, tmp_path_factory.mktemp("spool"))


def index_of(directory: Path) -> list[dict]:
    return [
        json.loads(line) for line in (directory / "index.jsonl").read_text("utf-8").splitlines()
    ]


def test_each_blob_is_written_once_and_indexed_per_url_and_page(
    files_archive: FilesArchive, tmp_path: Path
) -> None:
    target = tmp_path / "files"
    result = cli(files_archive.path, "export", "--format", "files", str(target))
    ok(result)
    kept = {hashlib.sha256(body).hexdigest(): body for body in files_archive.bodies.values()}
    written = {p.name: p.read_bytes() for p in target.iterdir() if is_blob(p.name)}
    mine = {f"{sha}.{'png' if body == PNG else 'pdf'}" for sha, body in kept.items()}
    assert mine <= set(written)
    assert all(written[name] == kept[name.split(".")[0]] for name in mine)
    everything = index_of(target)
    lines = [line for line in everything if line["url"].startswith(HOST)]  # the crawl's own too
    page_urls = dict(files_archive.pages)
    assert sorted((x["url"], x["page_id"], x["role"], x["name"]) for x in lines) == sorted(
        files_archive.links
    )
    for line in lines:
        assert line["page_url"] == page_urls[line["page_id"]]
        body = files_archive.bodies.get(line["url"])
        if body is None:
            assert line["sha256"] is None and line["file"] is None
        else:
            assert line["sha256"] == hashlib.sha256(body).hexdigest() and line["length"] == len(
                body
            )
            assert line["file"] in written and line["state"] == "stored"
            assert line["media_type"] == ("image/png" if body == PNG else "application/pdf")
            assert line["fetched_at"].endswith("+00:00")
            assert datetime.fromisoformat(line["fetched_at"]) >= FETCHED
    states = {line["url"]: line["state"] for line in lines}
    assert {states[url] for url in files_archive.omitted} == {"too_large", "cut"}
    assert states[HOST + "gone.pdf"] == "gone" and states[HOST + "never-fetched.pdf"] == "pending"
    too_large = next(x for x in lines if x["url"] == HOST + "huge.zip")
    assert too_large["length"] == TOO_LARGE
    assert f"{len(written)} files" in result.stderr
    assert f"index.jsonl ({len(everything)} lines)" in result.stderr
    links = query(files_archive.path, "SELECT COUNT(*) FROM file_link")[0][0]
    blobs = query(files_archive.path, "SELECT COUNT(DISTINCT current_blob_id) FROM site_file")
    assert len(everything) == links and len(written) == blobs[0][0]
    texts = dict(query(files_archive.path, "SELECT sha256, text FROM file_blob WHERE text <> ''"))
    assert {x["text_file"] for x in everything if x["text_file"]} == {
        f"{sha}.text.txt" for sha in texts
    }
    for line in everything:  # each file's text beside it, as the archive read it
        if line["text_file"]:
            assert (target / line["text_file"]).read_text(encoding="utf-8") == texts[line["sha256"]]


def is_blob(name: str) -> bool:
    return name != "index.jsonl" and not name.endswith(".text.txt")


def test_a_second_export_into_the_same_directory_writes_nothing_twice(
    files_archive: FilesArchive, tmp_path: Path
) -> None:
    target = tmp_path / "files"
    ok(cli(files_archive.path, "export", "--format", "files", str(target)))
    first = {p.name: p.stat().st_mtime_ns for p in target.iterdir()}
    again = cli(files_archive.path, "export", "--format", "files", str(target))
    ok(again)
    blobs = [name for name in first if is_blob(name)]
    assert f"0 files (0 bytes; {len(blobs)} already there)" in again.stderr
    assert {p.name: p.stat().st_mtime_ns for p in target.iterdir() if p.name != "index.jsonl"} == {
        name: at for name, at in first.items() if name != "index.jsonl"
    }
    assert not list(target.glob(".*"))


def test_an_interrupted_export_leaves_no_partial_file(
    files_archive: FilesArchive, tmp_path: Path
) -> None:
    """A failure in the middle of a blob: neither it nor index.jsonl appears, no temporary
    stays; the next export completes."""

    def failing(sha256: str) -> Iterator[bytes]:
        yield b"%PDF-1.4 the first chunk"
        raise OSError(28, "No space left on device")

    target = tmp_path / "files"
    engine = storage.open_archive(sqlite_url(files_archive.path), read_only=True)
    try:
        with storage.session_factory(engine)() as session, pytest.raises(OSError):
            export_files(session, target, chunks=failing)
    finally:
        engine.dispose()
    assert list(target.iterdir()) == []
    ok(cli(files_archive.path, "export", "--format", "files", str(target)))
    assert {line["url"] for line in index_of(target)} >= {url for url, *_ in files_archive.links}


def test_a_directory_that_cannot_be_used_is_one_line(
    files_archive: FilesArchive, tmp_path: Path
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory")
    assert_one_line_error(cli(files_archive.path, "export", "--format", "files", str(a_file)))
    under = a_file / "files"
    assert_one_line_error(cli(files_archive.path, "export", "--format", "files", str(under)))
    assert_one_line_error(cli(files_archive.path, "export", "--format", "files"))
    assert a_file.read_text() == "not a directory"
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert_one_line_error(cli(files_archive.path, "export", "--format", "files", str(locked)))


def test_links_of_files_without_a_body_are_indexed_with_no_file(
    crawled_archive: Path, tmp_path: Path
) -> None:
    """The crawl's pages link files; those with no body kept are lines without a file: a
    fetch time for those asked for (gone, too large), none for those never requested."""
    unfetched = query(
        crawled_archive,
        "SELECT COUNT(*) FROM file_link AS l JOIN site_file AS f ON f.id = l.file_id"
        " WHERE f.current_blob_id IS NULL",
    )[0][0]
    target = tmp_path / "files"
    ok(cli(crawled_archive, "export", "--format", "files", str(target)))
    lines = [line for line in index_of(target) if line["sha256"] is None]
    assert len(lines) == unfetched
    assert all(line["file"] is None for line in lines)
    asked = {"gone", "too_large", "cut", "failed"}
    assert {line["state"] for line in lines} <= asked | {"pending", "offsite"}
    assert {line["state"] for line in lines} & asked  # the fixture site's 404 and 200 MB files
    assert all((line["fetched_at"] is not None) == (line["state"] in asked) for line in lines)
