"""Files (attachments, images) streamed to disk instead of memory.

A request with `meta["govcrawler_file"]` (`"attachment"` or `"image"`) is a file request: its
body goes to a file of the crawl's spool directory while it arrives, hashed on the way, and the
Response has an empty body and `meta["govcrawler_spooled"]`, a `Spooled`. Scrapy's handler
buffers every body in memory and has no public streaming hook, so file requests are made here
with Twisted's public `Agent` over the connection pool and TLS policy of Scrapy's own handler
(the only private names used: `_pool`, `_contextFactory`; tests/test_spool.py checks them).
Downloader middlewares (robots, politeness, retry) see file requests as any other: only the
handler differs. Every other request goes to Scrapy's handler unchanged.

Limits: a declared Content-Length over `GOVCRAWLER_FILE_MAX_BYTES` is not read (too_large: the
connection is dropped); a body passing the limit as it arrives is aborted (too_large); a body
that ends short of its declared length is cut (one with no length that ends when the server
closes the connection is whole, as HTTP has it). Any status is
spooled: the pipeline decides. The `Spooled` and the spool directory: crawl/spoolfiles.py.
"""

from __future__ import annotations

from io import BytesIO
from time import monotonic
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urldefrag

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
    PotentialDataLoss,
    ResponseDone,
    ResponseFailed,
    ResponseNeverReceived,
)
from twisted.web.client import Response as TxResponse
from twisted.web.http_headers import Headers as TxHeaders
from twisted.web.iweb import UNKNOWN_LENGTH

from govcrawler.crawl.spoolfiles import (
    FILE_META,
    SPOOLED_META,
    Sink,
    Spooled,
    crawl_spool,
    discard,
    empty_body,
    is_file_request,
    spool_bytes,
)

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure
    from twisted.web.iweb import IBodyProducer

__all__ = ["FILE_META", "SPOOLED_META", "Spooled", "SpoolingDownloadHandler", "discard"]


class _BodyWriter(Protocol):
    """Receives a body from Twisted chunk by chunk into a Sink."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.finished: Deferred[Spooled] = Deferred(self.cancel)

    def dataReceived(self, data: bytes) -> None:
        if self.finished.called:  # after a cancel, buffered data may still come
            return
        assert self.transport is not None
        try:
            written = self.sink.write(data)
        except OSError as exc:
            self.transport.stopProducing()
            self.finished.errback(self.sink.fail(exc))
            return
        if not written:
            self.transport.stopProducing()  # drops the connection: the rest is never read
            self.finished.callback(self.sink.drop("too_large"))

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        if self.finished.called:
            return
        # A body sent with no length and no chunking ends when the server closes the
        # connection (PotentialDataLoss): HTTP allows it, and old servers do it; it is kept, as
        # Scrapy keeps such a page. One short of its declared length (_DataLoss) is cut.
        if reason.check(ResponseDone):
            self.finished.callback(self.sink.keep())
        elif reason.check(PotentialDataLoss):
            self.sink.spool.count(
                "ended_by_close", "%s: no length, ended by a close", self.sink.url
            )
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
        if not all(hasattr(self.inner, name) for name in ("_pool", "_contextFactory")):
            # Fail at start, loudly, rather than crawl without files (a Scrapy upgrade).
            raise RuntimeError("HTTP11DownloadHandler lost _pool/_contextFactory: see spool.py")
        self.spool = crawl_spool(crawler)
        self.default_timeout = crawler.settings.getfloat("DOWNLOAD_TIMEOUT")

    async def download_request(self, request: Request) -> Response:
        if not is_file_request(request):
            return await self.inner.download_request(request)
        if request.meta.get("proxy"):  # Scrapy's proxy agents are private: buffered, then spooled
            request.headers[b"Accept-Encoding"] = b"identity"
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
            if not timer.active():  # time ran out as the headers came: nothing would stop the body
                txresponse.deliverBody(_Refuse())
                raise CancelledError
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
            return empty_body(declared)
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


def _scrapy_error(exc: Exception) -> Exception:
    """Twisted's errors as Scrapy's handler raises them (RetryMiddleware retries those)."""
    if isinstance(exc, ConnectionRefusedError):
        return DownloadConnectionRefusedError(str(exc))
    if isinstance(exc, DNSLookupError):
        return CannotResolveHostError(str(exc))
    if isinstance(exc, (ResponseFailed, ResponseNeverReceived, CancelledError)):
        return DownloadFailedError(str(exc))
    return exc
