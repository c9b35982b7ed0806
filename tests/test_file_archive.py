"""A file's archive step inside a batch: one that cannot be stored is left out whole (a
savepoint), counted, and the batch's other writes are kept."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from govcrawler.crawl.spool import Spooled
from govcrawler.items import FileFetch, FileRead
from govcrawler.pipelines.files import archive_file

SEEN = datetime(2026, 12, 7, 9, tzinfo=UTC)
SITE = "https://www.sc.gov.cn/10462/zfwjts/2026/12/7/ab/files/"


def fetched(tmp_path: Path, name: str, body: bytes, claimed: bytes | None = None) -> FileFetch:
    """A 200 for `name`, its body spooled; `claimed`: the bytes the download said it saw."""
    path = tmp_path / name
    path.write_bytes(body)
    seen = body if claimed is None else claimed
    spooled = Spooled(path, len(seen), hashlib.sha256(seen).hexdigest(), body[:8192], None, None)
    read = FileRead("pdf", "application/pdf", "四川 text", "ok", 1, "pypdfium2")
    headers = {"Content-Type": "application/pdf"}
    url = SITE + name
    return FileFetch(url, url, 200, SEEN, headers, "attachment", spooled, read)


def test_a_file_not_what_the_download_saw_is_left_out_and_the_batch_goes_on(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    good = fetched(tmp_path, "a.pdf", b"%PDF-1.7 a")
    changed = fetched(tmp_path, "b.pdf", b"%PDF-1.7 b", claimed=b"%PDF-1.7 b, longer")
    missing = fetched(tmp_path, "c.pdf", b"%PDF-1.7 c")
    assert missing.spooled is not None and missing.spooled.path is not None
    missing.spooled.path.unlink()
    with sessions.begin() as session:
        outcomes = [archive_file(session, item) for item in (good, changed, missing)]
    assert outcomes[0][0] == "file_stored"
    assert outcomes[1] == ["file_error/SpoolMismatch"]
    assert outcomes[2] == ["file_error/FileNotFoundError"]
    with engine.connect() as db:
        urls = [row[0] for row in db.execute(text("SELECT url FROM site_file ORDER BY url"))]
        blobs = db.execute(text("SELECT COUNT(*) FROM file_blob")).scalar()
        captures = db.execute(text("SELECT COUNT(*) FROM capture")).scalar()
    assert (urls, blobs, captures) == ([good.url], 1, 1)  # nothing of the other two
