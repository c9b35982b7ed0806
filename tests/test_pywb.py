"""A real Wayback replay (pywb) of the WARC that `govcrawler export` writes from a real replay
crawl of the saved site: pages come back byte for byte as the archive holds them.

pywb 2.10 pins redis==2.10.6, which cannot share a venv with our redis>=5, so it lives in a
venv of its own that ci/pywb.sh makes (.ci/run calls it). Without that venv the test skips
locally; in CI (CI=true) it fails instead.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import storage
from storage.models import Capture
from tests.conftest import ROOT, SITE_COPY, ReplayCrawl, sqlite_url
from tests.test_cli_archive import WARCIO, cli, ok, query

pytestmark = pytest.mark.slow
PYWB_VENV = Path(os.environ.get("GOVCRAWLER_PYWB_VENV", ROOT / ".venv-pywb"))
COLLECTION = "archive"


def pywb_tool(name: str) -> Path:
    tool = PYWB_VENV / "bin" / name
    if tool.is_file():
        return tool
    reason = f"pywb not installed at {PYWB_VENV}: run ci/pywb.sh (a venv of its own)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def wayback(warc: Path, root: Path) -> Iterator[str]:
    """pywb's `wayback` serving `warc` on 127.0.0.1; yields its base URL."""
    manager, server = pywb_tool("wb-manager"), pywb_tool("wayback")
    for args in (["init", COLLECTION], ["add", COLLECTION, str(warc)]):
        done = subprocess.run([manager, *args], cwd=root, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr[-2000:]
    port = free_port()
    log = (root / "wayback.log").open("w")
    process = subprocess.Popen(
        [server, "-p", str(port), "-b", "127.0.0.1"], cwd=root, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process, root / "wayback.log")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def wait_until_up(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-2000:]
        try:
            with urllib.request.urlopen(base + "/", timeout=5):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise AssertionError(f"wayback did not answer in 60 s: {log.read_text()[-2000:]}")


def replayed(base: str, url: str, fetched_at: datetime) -> tuple[int, bytes]:
    """What pywb serves for `url` at that capture's second, unrewritten (`id_`)."""
    stamp = fetched_at.astimezone(UTC).strftime("%Y%m%d%H%M%S")
    with urllib.request.urlopen(f"{base}/{COLLECTION}/{stamp}id_/{url}", timeout=30) as answer:
        return answer.status, answer.read()


def archived(archive: Path, url: str) -> list[tuple[datetime, bytes]]:
    """Every capture of `url` (revisits too) and its raw bytes as the archive keeps them (a
    file's from its blob)."""
    engine = storage.open_archive(sqlite_url(archive), read_only=True)
    try:
        with storage.session_factory(engine)() as session:
            query = select(Capture).where(Capture.final_url == url).order_by(Capture.id)
            captures = list(session.scalars(query))
            assert captures, f"{url} was not captured"
            return [(capture.fetched_at, body_of(session, capture)) for capture in captures]
    finally:
        engine.dispose()


def body_of(session: Session, capture: Capture) -> bytes:
    if capture.kind in ("attachment", "image"):
        return b"".join(storage.file_chunks(session, capture.body_sha256))
    return storage.capture_body(session, capture)


# A page of the crawl with a stored image and a stored PDF, if the crawl fetched files.
WITH_FILES = """
SELECT a.url, max(CASE WHEN f.kind = 'image' THEN f.url END),
       max(CASE WHEN b.kind = 'pdf' THEN f.url END)
FROM file_link AS l JOIN article AS a ON a.id = l.article_id
JOIN site_file AS f ON f.id = l.file_id JOIN file_blob AS b ON b.id = f.current_blob_id
WHERE f.state = 'stored' GROUP BY a.url
HAVING count(CASE WHEN f.kind = 'image' THEN 1 END) > 0
   AND count(CASE WHEN b.kind = 'pdf' THEN 1 END) > 0
ORDER BY a.url LIMIT 1
"""


@pytest.fixture(scope="module")
def exported(
    replay_crawl: ReplayCrawl, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[str]]:
    """A copy of the shared replay crawl's archive, exported as a WARC next to it, and the URLs
    to replay: a page, its image, its PDF, as the crawl fetched them."""
    base = tmp_path_factory.mktemp("pywb")
    archive = replay_crawl.copy(base / "archive.sqlite3")
    found = query(archive, WITH_FILES)
    assert found, "no page of the crawl has a stored image and a stored PDF"
    urls = list(found[0])
    ok(cli(archive, "export", "--format", "warc", "-o", str(base / "archive.warc.gz")))
    return archive, urls


def test_export_passes_warcio_check(exported: tuple[Path, list[str]]) -> None:
    archive, _ = exported
    done = subprocess.run(
        [str(WARCIO), "check", "-v", str(archive.with_name("archive.warc.gz"))],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_pywb_replays_a_page_its_image_and_its_pdf_byte_for_byte(
    exported: tuple[Path, list[str]], tmp_path: Path
) -> None:
    archive, urls = exported
    with wayback(archive.with_name("archive.warc.gz"), tmp_path) as base:
        for url in urls:
            for fetched_at, body in archived(archive, url):  # a revisit gives the same bytes
                status, served = replayed(base, url, fetched_at)
                assert status == 200, (url, fetched_at)
                assert served == body, (url, fetched_at)
        for url in urls[1:]:  # the image and the PDF: the saved site's very bytes
            saved = SITE_COPY / unquote(url.removeprefix("https://"))
            assert replayed(base, url, archived(archive, url)[0][0])[1] == saved.read_bytes()
