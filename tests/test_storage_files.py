"""Files in the archive (revision 0011, storage.files): a file's bytes once per sha256 in
chunks, its captures, its URL's state, and which pages link it; on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import hashlib
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, inspect
from sqlalchemy.orm import Session, sessionmaker

import storage
from storage import file_blobs
from storage.db import _alembic_config
from tests.conftest import numbered_article, raw_rows, url_of

SEEN = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
LATER = SEEN + timedelta(days=3)
PDF_URL = "https://www.sc.gov.cn/10462/c102914/2026/12/1/plan.pdf"
COPY_URL = "https://www.sc.gov.cn/10462/c102914/2026/12/2/plan-copy.pdf"
PDF = b"%PDF-1.7\n" + "四川省 giant panda 保护规划\n".encode() * 200 + b"%%EOF\n"


def spooled(tmp_path: Path, body: bytes, name: str = "body") -> Path:
    path = tmp_path / f"{name}-{hashlib.sha256(body).hexdigest()[:8]}"
    path.write_bytes(body)
    return path


def response(
    tmp_path: Path, body: bytes | None = PDF, url: str = PDF_URL, **fields: Any
) -> storage.FileRecord:
    """A 200 response with `body` spooled (None: not kept, as `omitted` says)."""
    values: dict[str, Any] = {
        "url": url,
        "final_url": url,
        "status": 200,
        "fetched_at": SEEN,
        "headers": {"Content-Type": "application/pdf", "ETag": '"v1"'},
        "kind": "attachment",
        "path": spooled(tmp_path, body) if body is not None else None,
        "length": len(body) if body is not None else 0,
        "sha256": hashlib.sha256(body).hexdigest() if body is not None else None,
        "declared_length": len(body) if body is not None else None,
        "sniffed_kind": "pdf",
        "media_type": "application/pdf",
    }
    return storage.FileRecord(**{**values, **fields})


def keep(sessions: sessionmaker[Session], record: storage.FileRecord) -> storage.FileResult:
    with sessions.begin() as session:
        return storage.record_file(session, record)


def rows(engine: Engine, sql: str, *params: Any) -> list[dict[str, Any]]:
    return raw_rows(url_of(engine), sql, *params)


def count(engine: Engine, table: str) -> int:
    return int(rows(engine, f"SELECT COUNT(*) AS n FROM {table}")[0]["n"])


def page(n: int, **fields: Any) -> storage.ArticleRecord:
    return dataclasses.replace(numbered_article(n, f"Page {n}", f"Body {n}", None, "f"), **fields)


def archive_page(sessions: sessionmaker[Session], record: storage.ArticleRecord) -> int:
    with sessions.begin() as session:
        article_id = storage.record_article(session, record, SEEN).article_id
    assert article_id is not None
    return article_id


def test_one_file_linked_from_three_pages_is_one_blob_and_three_links(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    attachment = [{"url": PDF_URL, "text": "规划全文"}]
    pages = [archive_page(sessions, page(n, attachments=attachment)) for n in (1, 2, 3)]
    assert keep(sessions, response(tmp_path)).outcome == "stored"
    assert (count(engine, "site_file"), count(engine, "file_blob")) == (1, 1)
    view = rows(engine, "SELECT article_id, name, state, sha256 FROM attachments ORDER BY 1")
    assert view == [
        {
            "article_id": n,
            "name": "规划全文",
            "state": "stored",
            "sha256": hashlib.sha256(PDF).hexdigest(),
        }
        for n in pages
    ]


def test_record_article_keeps_images_and_attachments_and_offsite_links(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    record = page(
        1,
        images=[{"url": "https://www.sc.gov.cn/a.jpg", "caption": "熊猫"}],
        attachments=[
            {"url": PDF_URL, "text": "规划"},
            {"url": "https://www.gov.cn/b.pdf", "text": "国务院"},
            {"url": PDF_URL, "text": "again"},  # a second link to it: the first one wins
        ],
    )
    article_id = archive_page(sessions, record)
    with sessions() as session:
        files = storage.page_files(session, article_id)
        known = storage.known_files(session)
    assert [(f.role, f.name, f.url, f.state) for f in files] == [
        ("attachment", "国务院", "https://www.gov.cn/b.pdf", "offsite"),
        ("attachment", "规划", PDF_URL, "pending"),
        ("image", "熊猫", "https://www.sc.gov.cn/a.jpg", "pending"),
    ]
    assert files[1].page_type == "article" and files[1].title == "Page 1"
    assert files[1].first_seen_at == SEEN and files[1].length is None
    assert known[PDF_URL] == storage.KnownFile(PDF_URL, "attachment", "pending", None, None, None)


def test_a_page_seen_again_moves_its_links_last_seen(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    record = page(1, attachments=[{"url": PDF_URL, "text": "规划"}])
    archive_page(sessions, record)
    with sessions.begin() as session:
        storage.record_article(session, record, LATER)
    link = rows(engine, "SELECT first_seen_at, last_seen_at FROM file_link")
    seen = rows(engine, "SELECT last_seen_at FROM site_file")
    assert link == [
        {
            "first_seen_at": "2026-12-01 08:00:00.000000",
            "last_seen_at": "2026-12-04 08:00:00.000000",
        }
    ]
    assert seen == [{"last_seen_at": "2026-12-04 08:00:00.000000"}]


def test_identical_bytes_under_two_urls_are_one_blob(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    first = keep(sessions, response(tmp_path))
    second = keep(sessions, response(tmp_path, url=COPY_URL, fetched_at=LATER))
    assert (first.outcome, second.outcome) == ("stored", "duplicate")
    assert count(engine, "file_blob") == 1
    blobs = rows(engine, "SELECT DISTINCT current_blob_id FROM site_file")
    assert len(blobs) == 1 and blobs[0]["current_blob_id"] is not None


def test_the_same_bytes_again_are_a_revisit_with_no_new_chunks(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    first = keep(sessions, response(tmp_path))
    chunks = count(engine, "file_chunk")
    again = keep(sessions, response(tmp_path, fetched_at=LATER))
    assert again.outcome == "revisit" and count(engine, "file_chunk") == chunks
    captures = rows(
        engine, "SELECT id, kind, body_sha256, revisit_of, stored_length FROM captures ORDER BY id"
    )
    digest = hashlib.sha256(PDF).hexdigest()
    assert captures == [
        {
            "id": first.capture_id,
            "kind": "attachment",
            "body_sha256": digest,
            "revisit_of": None,
            "stored_length": None,
        },
        {
            "id": again.capture_id,
            "kind": "attachment",
            "body_sha256": digest,
            "revisit_of": first.capture_id,
            "stored_length": None,
        },
    ]
    state = rows(engine, "SELECT state, last_fetched_at, last_capture_id FROM site_file")
    assert state == [
        {
            "state": "stored",
            "last_fetched_at": "2026-12-04 08:00:00.000000",
            "last_capture_id": again.capture_id,
        }
    ]


def test_a_304_moves_the_times_only(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    keep(sessions, response(tmp_path))
    result = keep(sessions, response(tmp_path, None, status=304, fetched_at=LATER, headers={}))
    assert (result.outcome, result.capture_id) == ("not_modified", None)
    assert count(engine, "capture") == 1
    with sessions() as session:
        known = storage.known_files(session)[PDF_URL]
    assert (known.state, known.last_fetched_at, known.etag) == ("stored", LATER, '"v1"')


def test_gone_keeps_the_last_blob(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    stored = keep(sessions, response(tmp_path))
    gone = response(tmp_path, b"<html>404</html>", status=404, fetched_at=LATER, headers={})
    assert keep(sessions, gone).outcome == "gone"
    assert (
        keep(sessions, dataclasses.replace(gone, fetched_at=LATER + timedelta(days=1))).outcome
        == "gone"
    )
    file = rows(engine, "SELECT state, status, gone_at, current_blob_id, etag FROM site_file")
    assert file == [
        {
            "state": "gone",
            "status": 404,
            "gone_at": "2026-12-04 08:00:00.000000",
            "current_blob_id": 1,
            "etag": None,
        }
    ]
    assert count(engine, "file_blob") == 1
    assert (
        rows(engine, "SELECT body_sha256, body_length FROM capture WHERE id > ?", stored.capture_id)
        == [{"body_sha256": "", "body_length": 0}] * 2
    )
    with sessions() as session:
        assert b"".join(storage.file_chunks(session, hashlib.sha256(PDF).hexdigest())) == PDF


@pytest.mark.parametrize("omitted", ["too_large", "cut"])
def test_a_body_not_kept_has_its_size_and_headers_and_no_chunks(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path, omitted: str
) -> None:
    headers = {"Content-Type": "application/zip", "Content-Length": "209715200"}
    record = response(
        tmp_path,
        None,
        headers=headers,
        length=209715200,
        declared_length=209715200,
        omitted=omitted,
    )
    assert keep(sessions, record).outcome == omitted
    assert (count(engine, "file_blob"), count(engine, "file_chunk")) == (0, 0)
    capture = rows(engine, "SELECT body_sha256, body_length, omitted, headers FROM captures")
    assert capture == [
        {
            "body_sha256": "",
            "body_length": 209715200,
            "omitted": omitted,
            "headers": rows(engine, "SELECT headers FROM capture")[0]["headers"],
        }
    ]
    assert "209715200" in capture[0]["headers"]
    file = rows(engine, "SELECT state, declared_length, current_blob_id FROM site_file")
    expected_length = 209715200 if omitted == "too_large" else None
    assert file == [{"state": omitted, "declared_length": expected_length, "current_blob_id": None}]


def test_a_multi_mib_file_is_chunked_and_round_trips(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    body = random.Random(14).randbytes(2 * file_blobs.CHUNK_BYTES) + PDF * 400
    assert len(body) > 3 * file_blobs.CHUNK_BYTES
    keep(sessions, response(tmp_path, body))
    chunks = rows(engine, "SELECT seq, length(data) AS size FROM file_chunk ORDER BY seq")
    assert [c["seq"] for c in chunks] == list(range(-(-len(body) // file_blobs.CHUNK_BYTES)))
    blob = rows(engine, "SELECT length, stored_length FROM file_blob")[0]
    assert blob == {"length": len(body), "stored_length": sum(c["size"] for c in chunks)}
    with sessions() as session:
        read = list(storage.file_chunks(session, hashlib.sha256(body).hexdigest()))
    assert max(map(len, read)) == file_blobs.CHUNK_BYTES and b"".join(read) == body


def test_a_spool_file_that_is_not_the_body_leaves_nothing(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    record = response(tmp_path)
    assert record.path is not None
    record.path.write_bytes(PDF[:-1] + b"!")
    with pytest.raises(file_blobs.SpoolMismatch):
        keep(sessions, record)
    assert [count(engine, t) for t in ("capture", "site_file", "file_blob", "file_chunk")] == [
        0
    ] * 4


def test_the_text_is_written_once_and_indexed(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    indexed: list[tuple[int, str | None, str]] = []
    monkeypatch.setattr(
        storage.files,
        "index_file_text",
        lambda _s, blob, name, text: indexed.append((blob, name, text)),
    )
    archive_page(sessions, page(1, attachments=[{"url": PDF_URL, "text": "规划"}]))
    text = storage.FileTextRecord("giant panda 保护规划", "ok", 1, "pypdf 5")
    keep(sessions, response(tmp_path, text=text))
    keep(
        sessions, response(tmp_path, fetched_at=LATER, text=dataclasses.replace(text, text="other"))
    )
    assert indexed == [(1, "规划", "giant panda 保护规划")]
    blob = rows(engine, "SELECT text, text_status, text_pages, text_library FROM file_blob")
    assert blob == [
        {
            "text": "giant panda 保护规划",
            "text_status": "ok",
            "text_pages": 1,
            "text_library": "pypdf 5",
        }
    ]
    with sessions() as session:
        assert storage.page_files(session, 1)[0].text_length == len(text.text or "")


def test_the_attachments_view_has_its_columns(engine: Engine) -> None:
    columns = [column["name"] for column in inspect(engine).get_columns("attachments")]
    assert columns == [field.name for field in dataclasses.fields(storage.PageFile)]
    assert "omitted" in {column["name"] for column in inspect(engine).get_columns("captures")}


def test_0011_downgrades_to_0010_and_back_keeping_every_row(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    archive_page(sessions, page(1, attachments=[{"url": PDF_URL, "text": "规划"}]))
    with sessions.begin() as session:
        storage.record_capture(
            session, storage.CaptureRecord(PDF_URL + ".html", PDF_URL, 200, SEEN, b"<p>")
        )
    before = rows(engine, "SELECT id, url, body_sha256, kind FROM captures ORDER BY id")
    articles = rows(engine, "SELECT id, url FROM article")
    config = _alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0010")
    assert rows(engine, "SELECT id, url, body_sha256, kind FROM captures ORDER BY id") == before
    assert "site_file" not in inspect(engine).get_table_names()
    storage.upgrade_archive(engine)
    assert rows(engine, "SELECT id, url, body_sha256, kind FROM captures ORDER BY id") == before
    assert rows(engine, "SELECT omitted FROM captures") == [{"omitted": None}]
    assert rows(engine, "SELECT id, url FROM article") == articles
    assert keep(sessions, response(tmp_path)).outcome == "stored"  # and files are kept again


def test_a_document_pages_attachments_say_document(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    from tests.test_document_storage import MEASURES

    article_id = archive_page(sessions, MEASURES)
    with sessions() as session:
        files = storage.page_files(session, article_id)
    assert [(f.page_type, f.role, f.name, f.url) for f in files] == [
        ("document", "attachment", "附件1.pdf", MEASURES.attachments[0]["url"])
    ]


def test_an_empty_body_is_an_empty_blob(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """A 200 with no bytes (the spool keeps no file for it): stored, zero chunks."""
    empty = dataclasses.replace(
        response(tmp_path), path=None, length=0, sha256=hashlib.sha256(b"").hexdigest()
    )
    assert keep(sessions, empty).outcome == "stored"
    (blob,) = rows(engine, "SELECT length, stored_length FROM file_blob")
    assert (blob["length"], blob["stored_length"]) == (0, 0)
    assert count(engine, "file_chunk") == 0
    with sessions() as session:
        assert list(storage.file_chunks(session, empty.sha256 or "")) == []
