"""File requests stream their bodies to the spool (govcrawler/crawl/spool.py): live against a
server on 127.0.0.1 through the whole Scrapy stack (robots, retry), with memory that does not
grow with the body; the limits, cut bodies and statuses; and the writer on its own."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.test import get_crawler
from twisted.internet.defer import CancelledError
from twisted.python.failure import Failure
from twisted.web.client import ResponseDone, ResponseFailed
from twisted.web.http import PotentialDataLoss, _DataLoss

from govcrawler.crawl.spool import _BodyWriter
from govcrawler.crawl.spoolfiles import EMPTY_SHA256, Sink, crawl_spool, spool_bytes
from tests.hostile_server import (
    Behaviour,
    HostileServer,
    declared_huge,
    page,
    response_head,
    sequence,
    short_body,
    stall,
    stall_mid_body,
)

ROOT = Path(__file__).resolve().parent.parent
MiB = 1 << 20
CHUNK = bytes(range(256)) * 4096  # 1 MiB
PDF = b"%PDF-1.4\n" + b"x" * 20000 + b"\n%%EOF\n"
PDF_TYPE = {"Content-Type": "application/pdf"}
TEXT_TYPE = {"Content-Type": "text/plain"}


def stream(chunks: int, declared: bool = True, chunked: bool = False) -> Behaviour:
    """`chunks` MiB of CHUNK, sent a MiB at a time (with a length, chunked, or neither)."""

    def behave(conn: socket.socket, hit: int, server: HostileServer) -> None:
        headers = {"Content-Type": "application/pdf", "Connection": "close"}
        if declared:
            headers["Content-Length"] = str(chunks * MiB)
        if chunked:
            headers["Transfer-Encoding"] = "chunked"
        conn.sendall(response_head(200, headers))
        for _ in range(chunks):
            conn.sendall(f"{MiB:x}\r\n".encode() + CHUNK + b"\r\n" if chunked else CHUNK)
        if chunked:
            conn.sendall(b"0\r\n\r\n")

    return behave


def streamed_sha256(chunks: int) -> str:
    sha = hashlib.sha256()
    for _ in range(chunks):
        sha.update(CHUNK)
    return sha.hexdigest()


ROUTES: dict[str, Behaviour] = {
    "/robots.txt": page(b"User-agent: *\nDisallow: /private/\n", headers=TEXT_TYPE),
    "/a.pdf": page(PDF, headers=PDF_TYPE),
    "/page.html": page(b"<html><body>a page</body></html>"),
    "/declared.pdf": declared_huge(209715200),
    "/undeclared.bin": stream(3, declared=False),
    "/chunked.pdf": stream(1, declared=False, chunked=True),
    "/cut.pdf": short_body(PDF),
    "/missing.pdf": page(b"<html>404 Not Found</html>", 404),
    "/retried.pdf": sequence(page(b"busy", 503), page(PDF, headers=PDF_TYPE)),
    "/private/x.pdf": page(PDF),
    "/big.pdf": stream(64),
    "/stall.pdf": stall_mid_body(PDF),
    "/stall-head.pdf": stall(),
}  # fmt: skip


def crawl(tmp_path: Path, requests: list[list[Any]], settings: dict[str, Any]) -> dict[str, Any]:
    with HostileServer(ROUTES.get) as server:
        config = {"origin": server.origin, "requests": requests, "settings": settings}
        (tmp_path / "config.json").write_text(json.dumps(config))
        out = tmp_path / "out.json"
        subprocess.run(
            [sys.executable, "-m", "tests.spool_crawl", str(tmp_path / "config.json"), str(out)],
            cwd=ROOT, check=True, timeout=120,
        )  # fmt: skip
        result: dict[str, Any] = json.loads(out.read_text())
        result["hits"] = dict(server.hits)
    return result


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("spool")
    (tmp / "spool").mkdir()
    paths = ["/a.pdf", "/declared.pdf", "/undeclared.bin", "/chunked.pdf", "/cut.pdf"]
    paths += ["/missing.pdf", "/retried.pdf", "/private/x.pdf"]
    requests: list[list[Any]] = [["/page.html", None]] + [[path, "attachment"] for path in paths]
    requests += [
        [path, "image", {"download_timeout": 1}] for path in ("/stall.pdf", "/stall-head.pdf")
    ]
    settings = {"GOVCRAWLER_FILE_MAX_BYTES": 2 * MiB, "GOVCRAWLER_SPOOL_DIR": str(tmp / "spool")}
    result = crawl(tmp, requests, settings)
    result["by_path"] = {entry["path"]: entry for entry in result["results"]}
    result["spool_dir"] = tmp / "spool"
    return result


@pytest.mark.slow
def test_a_file_is_streamed_to_the_spool_and_the_response_body_is_empty(cases: dict) -> None:
    entry = cases["by_path"]["a.pdf"]
    spooled = entry["spooled"]
    assert entry["status"] == 200 and entry["body_length"] == 0
    assert spooled["on_disk"] and spooled["omitted"] is None
    assert spooled["sha256"] == spooled["disk_sha256"] == hashlib.sha256(PDF).hexdigest()
    assert spooled["length"] == spooled["declared_length"] == len(PDF)
    assert bytes.fromhex(spooled["head"]) == PDF[:8192]


@pytest.mark.slow
def test_a_declared_length_over_the_limit_is_not_read(cases: dict) -> None:
    spooled = cases["by_path"]["declared.pdf"]["spooled"]
    assert spooled == {
        "path": None, "on_disk": False, "disk_sha256": None, "length": 209715200, "sha256": None,
        "head": "", "omitted": "too_large", "declared_length": 209715200,
    }  # fmt: skip
    assert cases["stats"]["govcrawler/files/too_large"] == 2  # with the undeclared one


@pytest.mark.slow
def test_an_undeclared_body_over_the_limit_is_aborted_and_removed(cases: dict) -> None:
    spooled = cases["by_path"]["undeclared.bin"]["spooled"]
    assert spooled["omitted"] == "too_large" and spooled["path"] is None
    assert 2 * MiB < spooled["length"] < 3 * MiB and spooled["declared_length"] is None


@pytest.mark.slow
def test_a_chunked_body_without_a_length_is_kept(cases: dict) -> None:
    spooled = cases["by_path"]["chunked.pdf"]["spooled"]
    assert spooled["on_disk"] and spooled["sha256"] == streamed_sha256(1)
    assert spooled["length"] == MiB and spooled["declared_length"] is None


@pytest.mark.slow
def test_a_cut_body_keeps_no_file(cases: dict) -> None:
    spooled = cases["by_path"]["cut.pdf"]["spooled"]
    assert spooled["omitted"] == "cut" and spooled["path"] is None and spooled["sha256"] is None
    assert spooled["length"] == len(PDF) and spooled["declared_length"] == len(PDF) + 4096
    assert cases["stats"]["govcrawler/files/cut"] == 1


@pytest.mark.slow
def test_a_404_is_spooled_like_any_status(cases: dict) -> None:
    entry = cases["by_path"]["missing.pdf"]
    assert entry["status"] == 404 and entry["spooled"]["on_disk"]
    assert bytes.fromhex(entry["spooled"]["head"]) == b"<html>404 Not Found</html>"


@pytest.mark.slow
def test_downloader_middlewares_still_apply_to_file_requests(cases: dict) -> None:
    assert cases["hits"]["/retried.pdf"] == 2  # RetryMiddleware: the 503, then the file
    assert cases["by_path"]["retried.pdf"]["spooled"]["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert "/private/x.pdf" not in cases["hits"] and "private/x.pdf" not in cases["by_path"]
    assert cases["stats"]["robotstxt/forbidden"] == 1


@pytest.mark.slow
def test_other_requests_are_unchanged(cases: dict) -> None:
    entry = cases["by_path"]["page.html"]
    assert entry["status"] == 200 and entry["spooled"] is None
    assert entry["body_length"] == len(b"<html><body>a page</body></html>")


@pytest.mark.slow
def test_a_timeout_is_an_error_retried_as_scrapys(cases: dict) -> None:
    failures = {"stall.pdf": "DownloadTimeoutError", "stall-head.pdf": "DownloadTimeoutError"}
    assert cases["failures"] == {**failures, "private/x.pdf": "IgnoreRequest"}  # robots
    assert cases["hits"]["/stall.pdf"] == cases["hits"]["/stall-head.pdf"] == 3
    assert cases["stats"]["govcrawler/files/timeout"] == 3  # the partial bodies, removed


@pytest.mark.slow
def test_the_spool_directory_is_removed_when_the_crawl_closes(cases: dict) -> None:
    assert list(cases["spool_dir"].iterdir()) == []


@pytest.mark.slow
def test_a_big_body_is_streamed_without_memory_growing_by_its_size(tmp_path: Path) -> None:
    result = crawl(tmp_path, [["/big.pdf", "attachment"]], {})
    (entry,) = result["results"]
    assert entry["spooled"]["sha256"] == entry["spooled"]["disk_sha256"] == streamed_sha256(64)
    assert entry["spooled"]["length"] == 64 * MiB
    # A buffered body would add its 64 MiB at least (Scrapy's BytesIO, then bytes).
    assert result["memory"]["traced_peak"] < 8 * MiB, result["memory"]
    assert result["memory"]["rss_growth"] < 24 * MiB, result["memory"]


def test_the_private_scrapy_names_spool_uses_still_exist() -> None:
    """spool.py reuses the pool and TLS policy of Scrapy's handler by their private names:
    a Scrapy upgrade that renames them must fail here, not in a crawl."""
    code = (
        "from scrapy.utils.test import get_crawler\n"
        "from scrapy.utils.reactor import install_reactor\n"
        "from twisted.web.client import HTTPConnectionPool\n"
        "from twisted.web.iweb import IPolicyForHTTPS\n"
        "install_reactor('twisted.internet.asyncioreactor.AsyncioSelectorReactor')\n"
        "from govcrawler.crawl.spool import SpoolingDownloadHandler\n"
        "crawler = get_crawler(settings_dict={'TWISTED_REACTOR_ENABLED': True})\n"
        "h = SpoolingDownloadHandler(crawler).inner\n"
        "assert isinstance(h._pool, HTTPConnectionPool), h._pool\n"
        "assert IPolicyForHTTPS.providedBy(h._contextFactory), h._contextFactory\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


# --- the writer alone: no reactor, no network -------------------------------------------------


class FakeTransport:
    stopped = False

    def stopProducing(self) -> None:
        self.stopped = True


def writer(tmp_path: Path, declared: int | None, limit: int = 1000) -> _BodyWriter:
    crawler = get_crawler(
        settings_dict={"GOVCRAWLER_SPOOL_DIR": str(tmp_path), "GOVCRAWLER_FILE_MAX_BYTES": limit}
    )
    assert crawler.stats is not None
    crawler.stats.open_spider()
    body = _BodyWriter(Sink(crawl_spool(crawler), "https://www.sc.gov.cn/a.pdf", declared))
    body.makeConnection(FakeTransport())
    return body


def spooled_of(body: _BodyWriter) -> Any:
    results: list[Any] = []
    body.finished.addCallback(results.append)
    return results[0]


@pytest.mark.parametrize(
    "reason",
    [Failure(PotentialDataLoss()), Failure(ResponseFailed([Failure(_DataLoss())]))],
    ids=["no length, no clean end", "data loss"],
)
def test_a_body_that_does_not_end_cleanly_is_cut(tmp_path: Path, reason: Failure) -> None:
    body = writer(tmp_path, None)
    body.dataReceived(b"abc")
    body.connectionLost(reason)
    spooled = spooled_of(body)
    assert (spooled.omitted, spooled.path, spooled.length, spooled.head) == ("cut", None, 3, b"abc")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_clean_end_short_of_the_declared_length_is_cut(tmp_path: Path) -> None:
    body = writer(tmp_path, 10)
    body.dataReceived(b"abc")
    body.connectionLost(Failure(ResponseDone()))
    assert spooled_of(body).omitted == "cut"


def test_passing_the_limit_stops_the_transport_and_removes_the_partial(tmp_path: Path) -> None:
    body = writer(tmp_path, None, limit=5)
    body.dataReceived(b"abc")
    body.dataReceived(b"def")
    body.dataReceived(b"ghi")  # after the abort: ignored
    spooled = spooled_of(body)
    assert body.transport.stopped  # type: ignore[union-attr]
    assert (spooled.omitted, spooled.length, spooled.path) == ("too_large", 6, None)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_whole_body_is_kept_with_its_digest(tmp_path: Path) -> None:
    body = writer(tmp_path, 6)
    body.dataReceived(b"abc")
    body.dataReceived(b"def")
    body.connectionLost(Failure(ResponseDone()))
    spooled = spooled_of(body)
    assert spooled.path.read_bytes() == b"abcdef" and spooled.omitted is None
    assert spooled.sha256 == hashlib.sha256(b"abcdef").hexdigest() and spooled.length == 6


def test_a_cancelled_body_stops_the_transport_and_removes_the_partial(tmp_path: Path) -> None:
    body = writer(tmp_path, 10)
    body.dataReceived(b"abc")
    errors: list[Failure] = []
    body.finished.addErrback(errors.append)
    body.finished.cancel()
    assert body.transport.stopped and errors[0].check(CancelledError)  # type: ignore[union-attr]
    body.connectionLost(Failure(ResponseFailed([Failure(_DataLoss())])))  # later: ignored
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_an_empty_body_keeps_no_file_but_has_the_empty_digest(tmp_path: Path) -> None:
    crawler = get_crawler(settings_dict={"GOVCRAWLER_SPOOL_DIR": str(tmp_path)})
    spooled = spool_bytes(crawl_spool(crawler), "https://www.sc.gov.cn/e.pdf", b"")
    assert (spooled.path, spooled.sha256, spooled.length, spooled.omitted) == (
        None, EMPTY_SHA256, 0, None
    )  # fmt: skip
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
