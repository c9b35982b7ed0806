"""Files (attachments, images) streamed to disk instead of memory.

A request with `meta["govcrawler_file"]` (`"attachment"` or `"image"`) is a file request: its
body goes to a file of the crawl's spool directory while it arrives, hashed on the way, and the
Response has an empty body and `meta["govcrawler_spooled"]`, a `Spooled`. Scrapy's handler
buffers every body in memory and has no public streaming hook, so file requests are made here
with Twisted's public `Agent` over the connection pool and TLS policy of Scrapy's own handler
(the only private names used: `_pool`, `_contextFactory`; tests/test_spool.py checks them).
Downloader middlewares (robots, politeness, retry) see file requests as any other: only the
handler differs. Every other request goes to Scrapy's handler unchanged.

Limits: a declared Content-Length over `GOVCRAWLER_FILE_MAX_BYTES` is not read (too_large); a
body passing the limit as it arrives is aborted (too_large); a body that ends early, or with no
length and no clean end (PotentialDataLoss), is cut. Neither keeps a file. An empty body keeps
no file either (`path` None, `omitted` None). The spool directory is one per crawl, removed
when the engine stops: the pipeline is done with its files by then.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from time import monotonic
from typing import TYPE_CHECKING, Any, BinaryIO, cast
from urllib.parse import urldefrag
from weakref import WeakKeyDictionary

from scrapy import signals
from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.http import Headers
from scrapy.responsetypes import responsetypes
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.error import ConnectionRefusedError, DNSLookupError
from twisted.internet.protocol import Protocol, connectionDone
from twisted.web.client import (
    Agent,
    FileBodyProducer,
    ResponseDone,
    ResponseFailed,
    ResponseNeverReceived,
)
from twisted.web.client import Response as TxResponse
from twisted.web.http_headers import Headers as TxHeaders
from twisted.web.iweb import UNKNOWN_LENGTH

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure
    from twisted.web.iweb import IBodyProducer

logger = logging.getLogger(__name__)

FILE_META = "govcrawler_file"
SPOOLED_META = "govcrawler_spooled"
HEAD_BYTES = 8192
DEFAULT_MAX_BYTES = 104857600
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True)
class Spooled:
    """A file response's body, on disk. `path` None: no file (omitted, or an empty body)."""

    path: Path | None  # the whole body; None when not kept (too large, cut) or empty
    length: int  # bytes received; the declared Content-Length when not read
    sha256: str | None  # of the body, computed while streaming (None when not kept)
    head: bytes  # its first 8 KiB (for sniffing), b"" when none
    omitted: str | None  # None, "too_large" or "cut"
    declared_length: int | None  # Content-Length as sent, if any


def is_file_request(request: Request) -> bool:
    return bool(request.meta.get(FILE_META))


def discard(spooled: Spooled | None) -> None:
    """Remove a spooled body once recorded: a long crawl would otherwise fill the disk."""
    if spooled is not None and spooled.path is not None:
        spooled.path.unlink(missing_ok=True)


class Spool:
    """The crawl's spool directory (made on first use) and its size limit."""

    def __init__(self, crawler: Crawler) -> None:
        self.parent = crawler.settings.get("GOVCRAWLER_SPOOL_DIR") or None
        self.max_bytes = crawler.settings.getint("GOVCRAWLER_FILE_MAX_BYTES", DEFAULT_MAX_BYTES)
        self.stats = crawler.stats
        self.directory: Path | None = None

    def open(self) -> tuple[Path, BinaryIO]:
        """A new spool file; IgnoreRequest (not an OSError: no retry) if the disk refuses."""
        try:
            if self.directory is None:
                self.directory = Path(tempfile.mkdtemp(prefix="govcrawler-spool-", dir=self.parent))
            fd, name = tempfile.mkstemp(dir=self.directory, suffix=".part")
        except OSError as exc:
            self.count("spool_error", "cannot write to the spool directory: %s", exc)
            raise IgnoreRequest(f"spool: {exc}") from exc
        return Path(name), os.fdopen(fd, "wb")

    def remove(self) -> None:
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def count(self, reason: str, message: str, *args: Any) -> None:
        logger.warning(message, *args)
        if self.stats is not None:
            self.stats.inc_value(f"govcrawler/files/{reason}")

    def too_large(self, url: str, declared: int) -> Spooled:
        self.count("too_large", "not reading %s: %d bytes declared, over the limit", url, declared)
        return Spooled(None, declared, None, b"", "too_large", declared)

    def empty(self, declared: int | None) -> Spooled:
        return Spooled(None, 0, EMPTY_SHA256, b"", None, declared)


_SPOOLS: WeakKeyDictionary[Crawler, Spool] = WeakKeyDictionary()


def crawl_spool(crawler: Crawler) -> Spool:
    """The one spool of a crawl, shared by its handlers, removed when its engine stops."""
    spool = _SPOOLS.get(crawler)
    if spool is None:
        spool = _SPOOLS[crawler] = Spool(crawler)
        crawler.signals.connect(spool.remove, signals.engine_stopped)
    return spool


class Sink:
    """One body being written: hashed, its head kept, held to the spool's limit."""

    def __init__(self, spool: Spool, url: str, declared: int | None) -> None:
        self.spool, self.url, self.declared = spool, url, declared
        self.path, self.file = spool.open()
        self.sha256 = hashlib.sha256()
        self.head = b""
        self.length = 0

    def write(self, data: bytes) -> bool:
        """Write a chunk; False (nothing written) once the body passes the limit."""
        self.length += len(data)
        if self.length > self.spool.max_bytes:
            return False
        self.file.write(data)
        self.sha256.update(data)
        if len(self.head) < HEAD_BYTES:
            self.head += data[: HEAD_BYTES - len(self.head)]
        return True

    def keep(self) -> Spooled:
        """The body is whole (unless shorter than declared: then it is cut)."""
        if self.declared is not None and self.length < self.declared:
            return self.drop("cut")
        self.file.close()
        if self.length == 0:
            self.path.unlink(missing_ok=True)
            return self.spool.empty(self.declared)
        return Spooled(
            self.path, self.length, self.sha256.hexdigest(), self.head, None, self.declared
        )

    def drop(self, omitted: str) -> Spooled:
        self.file.close()
        self.path.unlink(missing_ok=True)
        self.spool.count(
            omitted, "file %s %s after %d bytes (declared %s)", self.url, omitted,
            self.length, self.declared,
        )  # fmt: skip
        return Spooled(None, self.length, None, self.head, omitted, self.declared)


class _BodyWriter(Protocol):
    """Receives a body from Twisted chunk by chunk into a Sink."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.finished: Deferred[Spooled] = Deferred(self.cancel)

    def dataReceived(self, data: bytes) -> None:
        if self.finished.called:  # after a cancel, buffered data may still come
            return
        if not self.sink.write(data):
            assert self.transport is not None
            self.transport.stopProducing()  # drops the connection: the rest is never read
            self.finished.callback(self.sink.drop("too_large"))

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if self.finished.called:
            return
        # PotentialDataLoss (no length, no clean end) and a failure (_DataLoss) are both cut.
        if reason.check(ResponseDone):
            self.finished.callback(self.sink.keep())
        else:
            self.finished.callback(self.sink.drop("cut"))

    def cancel(self, _: Deferred[Spooled]) -> None:
        if self.transport is not None:
            self.transport.stopProducing()
        self.sink.drop("timeout")


class _Refuse(Protocol):
    """Takes a body only to drop its connection unread."""

    def connectionMade(self) -> None:
        assert self.transport is not None
        self.transport.stopProducing()


class SpoolingDownloadHandler(BaseDownloadHandler):
    """http(s): file requests streamed to the spool, every other one through Scrapy's handler."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.inner = HTTP11DownloadHandler(crawler)
        self.spool = crawl_spool(crawler)
        self.default_timeout = crawler.settings.getfloat("DOWNLOAD_TIMEOUT")

    async def download_request(self, request: Request) -> Response:
        if not is_file_request(request):
            return await self.inner.download_request(request)
        if request.meta.get("proxy"):  # Scrapy's proxy agents are private: buffered, then spooled
            response = await self.inner.download_request(request)
            request.meta[SPOOLED_META] = spool_bytes(self.spool, request.url, response.body)
            return response.replace(body=b"")
        return await self._download_file(request)

    async def _download_file(self, request: Request) -> Response:
        from twisted.internet import reactor as _reactor

        reactor = cast("Any", _reactor)  # zope interfaces confuse mypy
        timeout = request.meta.get("download_timeout") or self.default_timeout
        # The parent's pool and TLS policy: same connections, same certificate checks.
        agent = Agent(
            reactor, self.inner._contextFactory, connectTimeout=timeout, pool=self.inner._pool
        )
        headers = TxHeaders(dict(request.headers))
        headers.setRawHeaders(b"Accept-Encoding", [b"identity"])  # the bytes as the site has them
        url = urldefrag(request.url)[0]
        body = (
            cast("IBodyProducer", FileBodyProducer(BytesIO(request.body))) if request.body else None
        )
        start = monotonic()
        current: list[Deferred[Any]] = [
            agent.request(request.method.encode(), url.encode(), headers, body)
        ]
        timer = reactor.callLater(timeout, lambda: current[0].cancel())
        try:
            txresponse = await maybe_deferred_to_future(current[0])
            request.meta["download_latency"] = monotonic() - start
            return await self._response(request, url, txresponse, current)
        except Exception as exc:
            if not timer.active():
                raise DownloadTimeoutError(f"Getting {url} took longer than {timeout} s") from exc
            error = _scrapy_error(exc)
            if error is exc:
                raise
            raise error from exc
        finally:
            if timer.active():
                timer.cancel()

    async def _response(
        self, request: Request, url: str, txresponse: TxResponse, current: list[Deferred[Any]]
    ) -> Response:
        headers = Headers(dict(txresponse.headers.getAllRawHeaders()))
        declared = None if txresponse.length == UNKNOWN_LENGTH else int(txresponse.length)
        if declared is not None:
            headers[b"Content-Length"] = str(declared).encode()
        if headers.pop(b"Content-Encoding", None) is not None:
            # Asked for identity; HttpCompression would try to decode the empty body.
            self.spool.count("encoded", "file %s sent encoded: kept as sent", url)
        request.meta[SPOOLED_META] = await self._body(txresponse, url, declared, current)
        version = txresponse.version
        respcls = responsetypes.from_args(headers=headers, url=url)
        return respcls(
            url=url, status=int(txresponse.code), headers=headers, body=b"", request=request,
            protocol=f"{version[0].decode()}/{version[1]}.{version[2]}",
        )  # fmt: skip

    async def _body(
        self, txresponse: TxResponse, url: str, declared: int | None, current: list[Deferred[Any]]
    ) -> Spooled:
        if declared == 0:  # Twisted never ends an empty body it is asked to deliver
            return self.spool.empty(declared)
        if declared is not None and declared > self.spool.max_bytes:
            txresponse.deliverBody(_Refuse())
            return self.spool.too_large(url, declared)
        try:
            writer = _BodyWriter(Sink(self.spool, url, declared))
        except IgnoreRequest:
            txresponse.deliverBody(_Refuse())
            raise
        current[0] = writer.finished  # a timeout now cancels the body
        txresponse.deliverBody(writer)
        return await maybe_deferred_to_future(writer.finished)

    async def close(self) -> None:
        await self.inner.close()


def spool_bytes(spool: Spool, url: str, body: bytes, declared: int | None = None) -> Spooled:
    """A body already in memory, spooled as if streamed."""
    sink = Sink(spool, url, declared)
    if not sink.write(body):
        return sink.drop("too_large")
    return sink.keep()


def _scrapy_error(exc: Exception) -> Exception:
    """Twisted's errors as Scrapy's handler raises them (RetryMiddleware retries those)."""
    if isinstance(exc, ConnectionRefusedError):
        return DownloadConnectionRefusedError(str(exc))
    if isinstance(exc, DNSLookupError):
        return CannotResolveHostError(str(exc))
    if isinstance(exc, (ResponseFailed, ResponseNeverReceived, CancelledError)):
        return DownloadFailedError(str(exc))
    return exc
