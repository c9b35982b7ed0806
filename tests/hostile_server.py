"""A misbehaving HTTP server on 127.0.0.1, for the hostile cases files cannot express.

`tests/test_hostile.py` puts it in front of the real crawl with `GOVCRAWLER_GATEWAY`, so the
crawl keeps asking for www.sc.gov.cn URLs while this server answers them: it stalls, resets
connections mid-body, sends fewer bytes than it announced, breaks chunked encoding, lies about
gzip, answers 503 with a Retry-After and then recovers (or not), and redirects forever.

Each route is a behaviour: a function writing raw bytes to the socket, told how many times its
path has been requested (the first request is hit 1). Responses close the connection, so every
request is a new connection and `hits` counts exactly what the crawler sent. Behaviours never
raise: a peer that goes away is part of the game.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading
from collections import Counter
from collections.abc import Callable
from http import HTTPStatus

Behaviour = Callable[[socket.socket, int, "HostileServer"], None]
Router = Callable[[str], Behaviour | None]

# How long a stalling behaviour holds the connection at most (the crawl times out long before).
STALL_SECONDS = 20.0


def response_head(status: int, headers: dict[str, str]) -> bytes:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _html_headers(body: bytes, extra: dict[str, str] | None = None) -> dict[str, str]:
    headers = {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(body))}
    headers["Connection"] = "close"
    headers.update(extra or {})
    return headers


def page(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Behaviour:
    """A well-formed response."""

    def behave(conn: socket.socket, hit: int, server: HostileServer) -> None:
        conn.sendall(response_head(status, _html_headers(body, headers)) + body)

    return behave


def not_found() -> Behaviour:
    return page(b"<html><body><h1>404 Not Found</h1></body></html>", 404)


def stall() -> Behaviour:
    """Reads the request and never answers."""

    def behave(conn: socket.socket, hit: int, server: HostileServer) -> None:
        server.stopping.wait(STALL_SECONDS)

    return behave


def stall_mid_body(body: bytes) -> Behaviour:
    """Headers and half the body, then silence."""

    def behave(conn: socket.socket, hit: int, server: HostileServer) -> None:
        conn.sendall(response_head(200, _html_headers(body)) + body[: len(body) // 2])
        server.stopping.wait(STALL_SECONDS)

    return behave


def drip(body: bytes, interval: float = 0.2) -> Behaviour:
    """A slow server: the announced body, a few bytes at a time, slower than any timeout."""

    def behave(conn: socket.socket, hit: int, server: HostileServer) -> None:
        conn.sendall(response_head(200, _html_headers(body)))
        for start in range(0, len(body), 16):
            if server.stopping.wait(interval):
                return
            conn.sendall(body[start : start + 16])

    return behave


def reset_mid_body(body: bytes) -> Behaviour:
    """Half the announced body, then a TCP reset (SO_LINGER 0)."""

    def behave(conn: socket.socket, hit: int, server: HostileServer) -> None:
        conn.sendall(response_head(200, _html_headers(body)) + body[: len(body) // 2])
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    return behave


def short_body(body: bytes, missing: int = 4096) -> Behaviour:
    """Announces `missing` bytes more than it sends, then closes cleanly."""

    def behave(conn: socket.socket, hit: int, server: HostileServer) -> None:
        headers = _html_headers(body, {"Content-Length": str(len(body) + missing)})
        conn.sendall(response_head(200, headers) + body)

    return behave


def close_at_once() -> Behaviour:
    """Closes the connection without a byte of response."""

    def behave(conn: socket.socket, hit: int, server: HostileServer) -> None:
        return

    return behave


def raw(data: bytes) -> Behaviour:
    """Whatever bytes, then close (a garbage status line, a broken header block...)."""

    def behave(conn: socket.socket, hit: int, server: HostileServer) -> None:
        conn.sendall(data)

    return behave


def bad_chunked(body: bytes) -> Behaviour:
    """`Transfer-Encoding: chunked` with a first chunk, then a chunk size that is not hex."""

    def behave(conn: socket.socket, hit: int, server: HostileServer) -> None:
        head = response_head(
            200,
            {"Content-Type": "text/html", "Transfer-Encoding": "chunked", "Connection": "close"},
        )
        half = body[: len(body) // 2]
        conn.sendall(head + f"{len(half):x}\r\n".encode() + half + b"\r\nZZZ-not-hex\r\n")

    return behave


def declared_huge(length: int) -> Behaviour:
    """Announces `length` bytes (say 2 GiB) and sends next to nothing."""

    def behave(conn: socket.socket, hit: int, server: HostileServer) -> None:
        headers = {"Content-Type": "text/html", "Content-Length": str(length)}
        conn.sendall(response_head(200, headers) + b"<html><body>")
        server.stopping.wait(STALL_SECONDS)

    return behave


def sequence(*behaviours: Behaviour) -> Behaviour:
    """The n-th request gets the n-th behaviour; the last one repeats."""

    def behave(conn: socket.socket, hit: int, server: HostileServer) -> None:
        behaviours[min(hit, len(behaviours)) - 1](conn, hit, server)

    return behave


class _Handler(socketserver.BaseRequestHandler):
    server: _TCPServer

    def handle(self) -> None:
        conn: socket.socket = self.request
        conn.settimeout(STALL_SECONDS + 5)
        try:
            path = _read_request_path(conn)
            if path is None:
                return
            owner = self.server.owner
            hit = owner.record(path)
            behaviour = owner.router(path) or not_found()
            behaviour(conn, hit, owner)
        except OSError:  # the crawler gave up on us first: part of the game
            return


def _read_request_path(conn: socket.socket) -> str | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > 1_000_000:
            return None
    request_line = data.split(b"\r\n", 1)[0].decode("latin-1")
    parts = request_line.split(" ")
    return parts[1] if len(parts) == 3 else None


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    owner: HostileServer


class HostileServer:
    """`with HostileServer(router) as server:` serves on `server.origin` until the block ends.

    `router(path)` gives the behaviour for a request path (query included), None for a 404.
    `hits` counts the requests per path; `requests` lists them in arrival order.
    """

    def __init__(self, router: Router) -> None:
        self.router = router
        self.hits: Counter[str] = Counter()
        self.requests: list[str] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._server = _TCPServer(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"http://{host}:{port}"

    def record(self, path: str) -> int:
        with self._lock:
            self.hits[path] += 1
            self.requests.append(path)
            return self.hits[path]

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
