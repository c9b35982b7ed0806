"""Gateway: requests for the site go to another origin, as if it were the site.

`GOVCRAWLER_GATEWAY = "http://127.0.0.1:8765"` sends every http(s) request of the crawl to that
origin (same path and query) while the crawl, its URLs and its archive stay those of
www.sc.gov.cn. Tests use it to put a misbehaving server on 127.0.0.1 in front of the real
Scrapy stack (stalls, resets, redirect loops) and to record fixtures from a local server;
an operator can use it for a local mirror of the site. Requests are still checked against the
site's host before they get here (`SiteOnlyMiddleware`): a gateway never widens the scope.
A gateway that is set but is not an http(s) origin fails closed (`BadSetting`, before any
request): Scrapy would only log a disabled add-on and crawl the live site instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.exceptions import NotConfigured

from govcrawler.crawl.spool import SPOOLED_META, SpoolingDownloadHandler
from govcrawler.exceptions import BadSetting

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings


def gateway_url(url: str, origin: str) -> str:
    """`url` with its scheme and host replaced by the gateway's."""
    parts, gateway = urlsplit(url), urlsplit(origin)
    return urlunsplit((gateway.scheme, gateway.netloc, parts.path or "/", parts.query, ""))


def check_origin(origin: str) -> None:
    """Raise `BadSetting` unless `origin` is `http(s)://host[:port]` (a path, query or
    fragment would be dropped from every request, so it is refused too)."""
    try:
        parts = urlsplit(origin)
        usable = (
            parts.scheme in ("http", "https")
            and bool(parts.hostname)
            and (parts.port is None or parts.port > 0)
            and parts.path in ("", "/")
            and not (parts.query or parts.fragment)
        )
    except ValueError:  # a port that is not a number or out of range, a broken [IPv6]
        usable = False
    if not usable:
        raise BadSetting(
            f"GOVCRAWLER_GATEWAY must be an http(s) origin such as http://127.0.0.1:8765, "
            f"not {origin!r}"
        )


class GatewayDownloadHandler(BaseDownloadHandler):
    """Downloads through the gateway origin; the response keeps the requested URL."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.origin = crawler.settings.get("GOVCRAWLER_GATEWAY")
        if not self.origin:
            raise NotConfigured("GOVCRAWLER_GATEWAY is not set")
        self.inner = SpoolingDownloadHandler(crawler)  # files streamed to disk, as without it

    async def download_request(self, request: Request) -> Response:
        forwarded = request.replace(url=gateway_url(request.url, self.origin))
        response = await self.inner.download_request(forwarded)
        if SPOOLED_META in forwarded.meta:  # `replace` copied the meta: the body is on the copy
            request.meta[SPOOLED_META] = forwarded.meta[SPOOLED_META]
        return response.replace(url=request.url, request=request)

    async def close(self) -> None:
        await self.inner.close()


class GatewayAddon:
    """Routes http(s) downloads through `GOVCRAWLER_GATEWAY` when it is set."""

    def update_settings(self, settings: BaseSettings) -> None:
        origin = settings.get("GOVCRAWLER_GATEWAY")
        if not origin:
            raise NotConfigured
        check_origin(str(origin))
        handler = "govcrawler.crawl.gateway.GatewayDownloadHandler"
        settings.set("DOWNLOAD_HANDLERS", {"http": handler, "https": handler}, "spider")
