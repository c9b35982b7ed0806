"""File requests stream their bodies to the spool (govcrawler/crawl/spool.py): live against a
server on 127.0.0.1 through the whole Scrapy stack (robots, retry), with memory that does not
grow with the body; the limits, cut bodies and statuses; and the writer on its own."""

from __future__ import annotations

import hashlib
import json
import socket
import ssl
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

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
    "/closed.pdf": stream(1, declared=False),  # no length, not chunked: ends with the connection
    "/cut.pdf": short_body(PDF),
    "/missing.pdf": page(b"<html>404 Not Found</html>", 404),
    "/retried.pdf": sequence(page(b"busy", 503), page(PDF, headers=PDF_TYPE)),
    "/private/x.pdf": page(PDF),
    "/big.pdf": stream(64),
    "/stall.pdf": stall_mid_body(PDF),
    "/stall-head.pdf": stall(),
}  # fmt: skip


def crawl(
    tmp_path: Path,
    requests: list[list[Any]],
    settings: dict[str, Any],
    server: HostileServer | None = None,
    scheme: str = "http",
    site: str | None = None,
) -> dict[str, Any]:
    with server or HostileServer(ROUTES.get) as server:
        origin = server.origin.replace("http:", f"{scheme}:")
        config = {"origin": origin, "requests": requests, "settings": settings}
        if site is not None:  # the site's URLs, sent to the server through the gateway
            config |= {"site": site}
            config["settings"] = {
                **settings,
                "GOVCRAWLER_GATEWAY": origin,
                "ADDONS": {"govcrawler.crawl.gateway.GatewayAddon": 0},
            }
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
    paths = ["/a.pdf", "/declared.pdf", "/undeclared.bin", "/chunked.pdf", "/closed.pdf"]
    paths += ["/cut.pdf"]
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
    # a.pdf, chunked.pdf, closed.pdf, missing.pdf (its 404 page), retried.pdf (the 503's page,
    # then the file)
    assert cases["stats"]["govcrawler/files/spooled"] == 6


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
def test_a_body_that_ends_with_the_connection_is_kept(cases: dict) -> None:
    """HTTP/1.1 lets a response with no length end when the server closes the connection."""
    spooled = cases["by_path"]["closed.pdf"]["spooled"]
    assert spooled["on_disk"] and spooled["omitted"] is None
    assert spooled["sha256"] == streamed_sha256(1) and spooled["length"] == MiB
    assert cases["stats"]["govcrawler/files/ended_by_close"] == 1


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
def test_a_file_through_the_gateway_is_streamed_too(tmp_path: Path) -> None:
    requests = [["/page.html", None], ["/a.pdf", "attachment"]]
    result = crawl(tmp_path, requests, {}, site="https://www.sc.gov.cn")
    (entry,) = [e for e in result["results"] if e["path"] == "a.pdf"]
    assert entry["body_length"] == 0 and entry["spooled"]["omitted"] is None
    assert entry["spooled"]["disk_sha256"] == hashlib.sha256(PDF).hexdigest()


@pytest.mark.slow
def test_a_big_body_is_streamed_without_memory_growing_by_its_size(tmp_path: Path) -> None:
    result = crawl(tmp_path, [["/big.pdf", "attachment"]], {})
    (entry,) = result["results"]
    assert entry["spooled"]["sha256"] == entry["spooled"]["disk_sha256"] == streamed_sha256(64)
    assert entry["spooled"]["length"] == 64 * MiB
    # A buffered body would add its 64 MiB at least (Scrapy's BytesIO, then bytes).
    assert result["memory"]["traced_peak"] < 8 * MiB, result["memory"]
    assert result["memory"]["rss_growth"] < 24 * MiB, result["memory"]


def self_signed(directory: Path) -> ssl.SSLContext:
    """A server context with a throwaway certificate (Scrapy's default TLS policy checks none)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(1)
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    (directory / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    return context


@pytest.mark.slow
def test_a_file_over_https_is_streamed_with_scrapys_tls_policy(tmp_path: Path) -> None:
    server = HostileServer(ROUTES.get)
    listening = server._server.socket
    server._server.socket = self_signed(tmp_path).wrap_socket(listening, server_side=True)
    requests: list[list[Any]] = [["/page.html", None], ["/a.pdf", "attachment"]]
    requests.append(["/chunked.pdf", "image"])
    result = crawl(tmp_path, requests, {}, server=server, scheme="https")
    by_path = {entry["path"]: entry for entry in result["results"]}
    assert by_path["page.html"]["body_length"] > 0
    assert by_path["a.pdf"]["spooled"]["disk_sha256"] == hashlib.sha256(PDF).hexdigest()
    assert by_path["chunked.pdf"]["spooled"]["sha256"] == streamed_sha256(1)
