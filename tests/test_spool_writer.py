"""The spool writer on its own (no reactor, no network), and the private Scrapy names the live
handler relies on (govcrawler/crawl/spool.py)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from scrapy.exceptions import IgnoreRequest
from scrapy.utils.test import get_crawler
from twisted.internet.defer import CancelledError
from twisted.python.failure import Failure
from twisted.web.client import ResponseDone, ResponseFailed
from twisted.web.http import PotentialDataLoss, _DataLoss

from govcrawler.crawl.spool import _BodyWriter
from govcrawler.crawl.spoolfiles import EMPTY_SHA256, Sink, crawl_spool, spool_bytes

ROOT = Path(__file__).resolve().parent.parent


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


def test_a_body_that_does_not_end_cleanly_is_cut(tmp_path: Path) -> None:
    body = writer(tmp_path, None)
    body.dataReceived(b"abc")
    body.connectionLost(Failure(ResponseFailed([Failure(_DataLoss())])))
    spooled = spooled_of(body)
    assert (spooled.omitted, spooled.path, spooled.length, spooled.head) == ("cut", None, 3, b"abc")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_body_with_no_length_ended_by_a_close_is_kept(tmp_path: Path) -> None:
    """No Content-Length, not chunked: the body ends with the connection (PotentialDataLoss)."""
    body = writer(tmp_path, None)
    body.dataReceived(b"abc")
    body.connectionLost(Failure(PotentialDataLoss()))
    spooled = spooled_of(body)
    assert spooled.omitted is None and spooled.length == 3 and spooled.path is not None
    assert spooled.path.read_bytes() == b"abc"


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


def test_a_disk_that_fails_is_an_ignored_request_and_leaves_no_file(tmp_path: Path) -> None:
    body = writer(tmp_path, 10)

    class Full:
        def write(self, data: bytes) -> int:
            raise OSError(28, "No space left on device")

        def close(self) -> None:
            pass

    body.sink.file.close()
    body.sink.file = Full()  # type: ignore[assignment]
    errors: list[Failure] = []
    body.finished.addErrback(errors.append)
    body.dataReceived(b"abc")
    assert errors[0].check(IgnoreRequest) and body.transport.stopped  # type: ignore[union-attr]
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_an_empty_body_keeps_no_file_but_has_the_empty_digest(tmp_path: Path) -> None:
    crawler = get_crawler(settings_dict={"GOVCRAWLER_SPOOL_DIR": str(tmp_path)})
    spooled = spool_bytes(crawl_spool(crawler), "https://www.sc.gov.cn/e.pdf", b"")
    assert (spooled.path, spooled.sha256, spooled.length, spooled.omitted) == (
        None, EMPTY_SHA256, 0, None
    )  # fmt: skip
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_dead_crawls_spool_is_swept_and_a_live_ones_kept(tmp_path: Path) -> None:
    """A crawl killed before it removed its spool leaves it behind; the next crawl sweeps it."""
    from govcrawler.crawl.spoolfiles import SPOOL_PREFIX, sweep

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = tmp_path / f"{SPOOL_PREFIX}{dead.pid}-abc"
    left.mkdir()
    (left / "x.part").write_bytes(b"half a file")
    alive = tmp_path / f"{SPOOL_PREFIX}{os.getppid()}-def"
    alive.mkdir()
    other = tmp_path / "someone-elses"
    other.mkdir()
    sweep(tmp_path)
    assert not left.exists() and alive.is_dir() and other.is_dir()
