"""robots.txt for every request, even those that wait for it together.

Scrapy 2.19's `RobotsTxtMiddleware.robot_parser` keeps a Deferred in `_parsers[netloc]` while
the host's robots.txt is on its way, and each request arriving meanwhile awaits that one
Deferred. Awaiting it (`Deferred.asFuture`, or a bare `await` without asyncio) consumes its
result: the first waiter gets the parser, every later one None, which Scrapy reads as "no
robots.txt, all allowed". The start page, the revisits and file requests a spider yields at
once thus went out unchecked: the crawl's first burst ignored robots.txt.

`RobotsTxtMiddleware` here awaits the pending Deferred only as a signal, then reads the
parser from `_parsers` (a private attribute, the one private API used): Scrapy stores the
parser (or None after a download error, "allowed" as Scrapy intends) there before it fires
the Deferred. Everything else, the fetch, its stats and logs included, is Scrapy's.
`tests/test_robots.py` fails if a Scrapy upgrade changes that contract, and tells when Scrapy
fixes the bug itself (then this module can go).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares import robotstxt
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.robotstxt import RobotParser


class RobotsTxtMiddleware(robotstxt.RobotsTxtMiddleware):
    """Scrapy's, with each request waiting for robots.txt checked against it."""

    async def robot_parser(self, request: Request) -> RobotParser | None:
        netloc = urlparse_cached(request).netloc
        pending = self._parsers.get(netloc)
        if not isinstance(pending, Deferred):  # the first request, or robots.txt known
            return await super().robot_parser(request)
        await maybe_deferred_to_future(pending)  # its result is None for all but one waiter
        parser = self._parsers[netloc]
        assert not isinstance(parser, Deferred)  # Scrapy stores it before it fires
        return parser
