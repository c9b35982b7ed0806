"""Replay gives a file request (`meta["govcrawler_file"]`) the live handler's contract: the
saved file read into the spool in chunks, a sidecar's Content-Length taken as declared."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from govcrawler.crawl import spoolfiles
from govcrawler.crawl.replay import ReplayDownloadHandler
from govcrawler.crawl.spool import FILE_META, SPOOLED_META, Spooled

SITE = "https://www.sc.gov.cn/att"
BODY = bytes(range(256)) * 10_000  # 2.5 MB: several chunks


@pytest.fixture
def root(tmp_path: Path) -> Path:
    files = tmp_path / "copy" / "www.sc.gov.cn" / "att"
    files.mkdir(parents=True)
    (files / "a.pdf").write_bytes(BODY)
    (files / "a.docx").write_bytes(b"PK\x03\x04 a docx")
    (files / "huge.pdf").write_bytes(b"%PDF-1.4 small in fact")
    (files / "short.pdf").write_bytes(b"%PDF-1.4 fewer bytes than declared")
    (files / "page.pdf").write_bytes(b"<html>a page, not a PDF</html>")
    (files / "bad.pdf").write_bytes(b"%PDF-1.4 bad sidecar")
    sidecars = {
        "huge.pdf": {"headers": {"Content-Length": "209715200"}},
        "short.pdf": {"headers": {"Content-Length": "1000"}},
        "page.pdf": {"headers": {"Content-Type": "text/html"}},
        "bad.pdf": {"headers": {"Content-Length": "lots"}},
        "a.pdf": {"headers": {"ETag": '"v1"'}},
    }
    for name, sidecar in sidecars.items():
        (files / f"{name}.meta.json").write_text(json.dumps(sidecar))
    return tmp_path / "copy"


@pytest.fixture
def crawler(root: Path, tmp_path: Path) -> Crawler:
    (tmp_path / "spool").mkdir()
    settings = {"GOVCRAWLER_REPLAY_DIR": str(root), "GOVCRAWLER_SPOOL_DIR": str(tmp_path / "spool")}
    crawler = get_crawler(settings_dict=settings)
    assert crawler.stats is not None
    crawler.stats.open_spider()
    return crawler


def fetch(crawler: Crawler, name: str, **meta: Any) -> tuple[Response, Spooled]:
    handler = ReplayDownloadHandler(crawler)
    request = Request(f"{SITE}/{name}", meta={FILE_META: "attachment", **meta})
    response = asyncio.run(handler.download_request(request))
    return response, response.meta[SPOOLED_META]


def spool_files(tmp_path: Path) -> list[Path]:
    return [path for path in (tmp_path / "spool").rglob("*") if path.is_file()]


def test_a_file_is_read_into_the_spool(crawler: Crawler) -> None:
    response, spooled = fetch(crawler, "a.pdf")
    assert response.status == 200 and response.body == b""
    assert response.headers["Content-Type"] == b"application/pdf"
    assert spooled.path is not None and spooled.path.read_bytes() == BODY
    assert spooled.sha256 == hashlib.sha256(BODY).hexdigest()
    assert (spooled.length, spooled.declared_length, spooled.omitted) == (
        len(BODY),
        len(BODY),
        None,
    )
    assert spooled.head == BODY[:8192]


def test_the_file_is_read_in_chunks(crawler: Crawler, monkeypatch: pytest.MonkeyPatch) -> None:
    writes: list[int] = []
    write = spoolfiles.Sink.write

    def counted(self: spoolfiles.Sink, data: bytes) -> bool:
        writes.append(len(data))
        return write(self, data)

    monkeypatch.setattr(spoolfiles.Sink, "write", counted)
    fetch(crawler, "a.pdf")
    assert len(writes) == 3 and max(writes) == spoolfiles.CHUNK_BYTES


def test_a_declared_length_over_the_limit_is_not_read(crawler: Crawler, tmp_path: Path) -> None:
    _, spooled = fetch(crawler, "huge.pdf")
    assert spooled == Spooled(None, 209715200, None, b"", "too_large", 209715200)
    assert spool_files(tmp_path) == []
    assert crawler.stats is not None
    assert crawler.stats.get_value("govcrawler/files/too_large") == 1


def test_a_declared_length_larger_than_the_file_is_a_cut_body(
    crawler: Crawler, tmp_path: Path
) -> None:
    _, spooled = fetch(crawler, "short.pdf")
    saved = b"%PDF-1.4 fewer bytes than declared"
    assert (spooled.omitted, spooled.path, spooled.sha256) == ("cut", None, None)
    assert (spooled.length, spooled.declared_length, spooled.head) == (len(saved), 1000, saved)
    assert spool_files(tmp_path) == []
    assert crawler.stats is not None
    assert crawler.stats.get_value("govcrawler/files/cut") == 1


def test_a_missing_file_is_a_404_that_leaves_no_spool_file(
    crawler: Crawler, tmp_path: Path
) -> None:
    response, spooled = fetch(crawler, "gone.pdf")
    assert response.status == 404 and spooled.path is None and spooled.omitted is None
    assert spooled.length == 0 and spooled.sha256 == spoolfiles.EMPTY_SHA256
    assert spool_files(tmp_path) == []


def test_an_answer_with_no_file_replaces_a_retried_requests_spooled(crawler: Crawler) -> None:
    old = Spooled(Path("/nonexistent"), 3, "x", b"abc", None, 3)
    _, spooled = fetch(crawler, "gone.pdf", **{SPOOLED_META: old})
    assert spooled.path is None


def test_a_conditional_request_answered_304_has_an_empty_spooled(crawler: Crawler) -> None:
    handler = ReplayDownloadHandler(crawler)
    request = Request(f"{SITE}/a.pdf", headers={"If-None-Match": '"v1"'}, meta={FILE_META: "image"})
    response = asyncio.run(handler.download_request(request))
    assert response.status == 304 and response.meta[SPOOLED_META].path is None


def test_the_sidecars_type_and_the_sites_types_are_sent(crawler: Crawler) -> None:
    response, spooled = fetch(crawler, "page.pdf")
    assert response.headers["Content-Type"] == b"text/html" and spooled.path is not None
    response, _ = fetch(crawler, "a.docx")
    assert (response.headers["Content-Type"] or b"").startswith(b"application/vnd.openxml")


def test_a_bad_sidecar_length_is_logged_and_the_files_size_used(
    crawler: Crawler, caplog: pytest.LogCaptureFixture
) -> None:
    _, spooled = fetch(crawler, "bad.pdf")
    assert spooled.omitted is None and spooled.length == len(b"%PDF-1.4 bad sidecar")
    assert "bad Content-Length" in caplog.text


def test_a_page_request_is_unchanged(crawler: Crawler) -> None:
    handler = ReplayDownloadHandler(crawler)
    response = asyncio.run(handler.download_request(Request(f"{SITE}/page.pdf")))
    assert response.body == b"<html>a page, not a PDF</html>" and SPOOLED_META not in response.meta


def test_the_spool_directory_is_removed_when_the_crawl_closes(
    crawler: Crawler, tmp_path: Path
) -> None:
    _, spooled = fetch(crawler, "a.pdf")
    assert spooled.path is not None and spooled.path.is_file()
    crawler.signals.send_catch_log(signals.engine_stopped)
    assert list((tmp_path / "spool").iterdir()) == []
