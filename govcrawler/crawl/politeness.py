"""Politeness toward www.sc.gov.cn beyond Scrapy's own delay, AutoThrottle and robots.txt.

`PacingMiddleware` paces the download slot of the host:

- Crawl-delay: `RobotsTxtMiddleware` fetches robots.txt through the engine, so the response
  passes this middleware, which reads `Crawl-delay` (or `Request-rate`) for our User-Agent,
  else `*`, with Protego. It becomes the slot's floor: every later request to the host waits at
  least that long. It comes from the site, so it holds whatever the settings say: replay sets
  `DOWNLOAD_DELAY` 0 at "spider" priority, and the floor still applies on top.
- Retry-After on a 429 or 503 (seconds or an HTTP-date) up to `GOVCRAWLER_MAX_RETRY_AFTER`:
  nothing goes to the host before it has passed, then the request is retried, within the
  `RETRY_TIMES` budget it shares with `RetryMiddleware` (`retry_times` meta).
- Back-off: consecutive 5xx (and 429) double the slot delay, capped at `AUTOTHROTTLE_MAX_DELAY`;
  the next other answer restores the normal delay. A zero delay (replay) has nothing to double.

The slot is set on `response_downloaded`, which the downloader sends before it sends the next
queued request, and after AutoThrottle has adjusted the delay (extensions are built before the
downloader's middlewares, so AutoThrottle's receiver comes first): AutoThrottle may raise the
delay, never take it below the floor. The downloader jitters each wait (delay × 1±jitter):
the jitter is narrowed so that the shortest wait is still the floor.

Block pages (412, 521, a Retry-After longer than allowed, a tiny page that sets a cookie by
script) are dropped: stat `govcrawler/blocked[/<reason>]`, one warning naming the URL, and
`IgnoreRequest`, so no pipeline sees them and nothing retries them. A blocked start page is
also recorded as such (`govcrawler.crawl.startpage`): no later middleware sees it.

Order (`DOWNLOADER_MIDDLEWARES`): a response passes from the highest number to the lowest:
850 DownloaderStats, 750 HttpProxy, **720 BlockStatus**, 700 Cookies, 600 Redirect,
590 HttpCompression, **585 ChallengePage**, 580 MetaRefresh, **560 Pacing**, 550 Retry,
**100 RobotsTxt** (Scrapy's, each waiter checked: govcrawler/crawl/robots.py), 40 SiteOnly.

- BlockStatus needs only status and headers, so it comes before Cookies: a block answer's
  `Set-Cookie` never reaches the cookie jar (nor its public-suffix lookup).
- ChallengePage reads the body: after HttpCompression, and before MetaRefresh could follow a
  challenge's `<meta refresh>`. A 200 challenge's `Set-Cookie` has reached the jar by then,
  but the script that sets the cookie opening the site never runs.
- Pacing retries a 429/503 when the site said, before Retry (550) would on its own schedule;
  Retry still handles 5xx without a Retry-After. Both see the raw status.
"""

from __future__ import annotations

import html
import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from time import monotonic
from typing import TYPE_CHECKING, NoReturn

from protego import Protego
from scrapy import signals
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import TextResponse
from scrapy.robotstxt import decode_robotstxt
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.httpobj import urlparse_cached

from govcrawler.crawl.startpage import record_fate

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Self

    from scrapy import Request
    from scrapy.core.downloader import Slot
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

RETRY_AFTER_STATUSES = frozenset({429, 503})
BLOCK_STATUSES = {412: "http_412", 521: "http_521"}
# A challenge page shows next to nothing: a "please wait" line at most.
CHALLENGE_MAX_TEXT = 200
_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)(?:</script\s*>|\Z)", re.IGNORECASE | re.DOTALL)
_HIDDEN = re.compile(
    r"<(script|style|noscript|template|title)\b.*?(?:</\1\s*>|\Z)|<!--.*?(?:-->|\Z)",
    re.IGNORECASE | re.DOTALL,
)
_TAG = re.compile(r"<[^>]*>")
_COOKIE = re.compile(r"cookie", re.IGNORECASE)
_NAVIGATION = re.compile(r"\blocation\b\s*(?:=|\.\s*(?:href|replace|assign|reload)\b)|reload\s*\(")
_DELAY_SECONDS = re.compile(r"\d+", re.ASCII)
_HOLD_DELAY = 0.001  # seconds: the least slot delay while a Retry-After holds the slot


def retry_after_seconds(value: str, now: datetime) -> float | None:
    """Seconds to wait from a `Retry-After` value (delay-seconds or an HTTP-date), or None if it
    cannot be read. A date in the past means no wait."""
    value = value.strip()
    if _DELAY_SECONDS.fullmatch(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def response_retry_after(response: Response, now: datetime) -> float | None:
    """The wait a 429 or 503 asks for in its `Retry-After`, or None."""
    header = response.headers.get(b"Retry-After")
    if response.status not in RETRY_AFTER_STATUSES or not header:
        return None
    return retry_after_seconds(header.decode("latin-1"), now)


def visible_text(page: str) -> str:
    """What a browser would show of a small page: no scripts, styles or comments."""
    text = html.unescape(_TAG.sub(" ", _HIDDEN.sub(" ", page)))
    return " ".join(text.split())


def is_challenge_page(response: Response, max_bytes: int) -> bool:
    """A small page, next to no visible text, whose script sets a cookie, or navigates (a
    redirect or reload) after a `Set-Cookie`. An article page has scripts too (pager,
    statistics), but it is 10-40 KB and mostly text."""
    if len(response.body) >= max_bytes or not isinstance(response, TextResponse):
        return False
    scripts = " ".join(_SCRIPT.findall(response.text))
    if not scripts.strip() or len(visible_text(response.text)) >= CHALLENGE_MAX_TEXT:
        return False
    if _COOKIE.search(scripts):
        return True
    return b"Set-Cookie" in response.headers and bool(_NAVIGATION.search(scripts))


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _required(crawler: Crawler, name: str) -> float:
    value = crawler.settings.get(name)
    if value is None:
        raise NotConfigured(f"{name} is not set")
    return float(value)


class _Blocking:
    """Records a block page and drops its request: counted, logged, never archived or retried.

    After `GOVCRAWLER_STOP_AFTER_BLOCKED` blocked responses the run stops (reason `blocked`):
    a site that keeps refusing us is left alone until the next run.
    """

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats
        self.crawler: Crawler | None = None
        self.stop_after = 0

    def watch(self, crawler: Crawler) -> Self:
        self.crawler = crawler
        self.stop_after = crawler.settings.getint("GOVCRAWLER_STOP_AFTER_BLOCKED", 0)
        return self

    def drop(self, request: Request, response: Response, reason: str) -> NoReturn:
        self.stats.inc_value("govcrawler/blocked")
        self.stats.inc_value(f"govcrawler/blocked/{reason}")
        logger.warning("blocked by the site (%s), not archived: %s", reason, response.url)
        record_fate(self.stats, request, "blocked", f"{reason}: {response.url}")
        blocked = self.stats.get_value("govcrawler/blocked", 0)
        if self.stop_after and blocked == self.stop_after and self.crawler and self.crawler.engine:
            logger.error("blocked %d times: stopping the run", blocked)
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="blocked"))
        raise IgnoreRequest(f"blocked ({reason}): {response.url}")


class BlockStatusMiddleware(_Blocking):
    """A 412 or 521, or a 429/503 whose Retry-After is longer than we wait, is a block."""

    def __init__(self, stats: StatsCollector, max_retry_after: float) -> None:
        super().__init__(stats)
        self.max_retry_after = max_retry_after
        self.now: Callable[[], datetime] = _utcnow

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        assert crawler.stats is not None
        return cls(crawler.stats, _required(crawler, "GOVCRAWLER_MAX_RETRY_AFTER")).watch(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status in BLOCK_STATUSES:
            self.drop(request, response, BLOCK_STATUSES[response.status])
        wait = response_retry_after(response, self.now())
        if wait is not None and wait > self.max_retry_after:
            self.drop(request, response, "retry_after_too_long")
        return response


class ChallengePageMiddleware(_Blocking):
    """A small page that sets a cookie by script, with next to no text, is a block."""

    def __init__(self, stats: StatsCollector, max_bytes: int) -> None:
        super().__init__(stats)
        self.max_bytes = max_bytes

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        assert crawler.stats is not None
        max_bytes = int(_required(crawler, "GOVCRAWLER_CHALLENGE_MAX_BYTES"))
        return cls(crawler.stats, max_bytes).watch(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if is_challenge_page(response, self.max_bytes):
            self.drop(request, response, "challenge_page")
        return response


@dataclass
class _HostPace:
    floor: float = 0.0  # from robots.txt
    jitter: float | None = None  # the slot's own jitter, before any narrowing
    normal: float | None = None  # the delay to come back to after a back-off
    failures: int = 0  # consecutive 5xx or 429 responses
    resume_at: float = 0.0  # no request before this (downloader clock): Retry-After


class PacingMiddleware:
    """Crawl-delay floor, Retry-After holds and retries, back-off on repeated server errors."""

    def __init__(self, crawler: Crawler, max_retry_after: float) -> None:
        assert crawler.stats is not None
        self.crawler = crawler
        self.stats = crawler.stats
        self.max_retry_after = max_retry_after
        self.max_delay = crawler.settings.getfloat("AUTOTHROTTLE_MAX_DELAY")
        settings = crawler.settings
        self.user_agent: str = settings["ROBOTSTXT_USER_AGENT"] or settings["USER_AGENT"] or ""
        self.hosts: defaultdict[str, _HostPace] = defaultdict(_HostPace)
        self.clock: Callable[[], float] = monotonic  # the downloader's clock
        self.now: Callable[[], datetime] = _utcnow

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        middleware = cls(crawler, _required(crawler, "GOVCRAWLER_MAX_RETRY_AFTER"))
        crawler.signals.connect(middleware.response_downloaded, signals.response_downloaded)
        return middleware

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status == 200 and urlparse_cached(request).path == "/robots.txt":
            self._read_robots(request, response)
        wait = response_retry_after(response, self.now())
        if wait is None or wait > self.max_retry_after or request.meta.get("dont_retry"):
            return response
        assert self.crawler.spider is not None
        retry = get_retry_request(
            request,
            spider=self.crawler.spider,
            reason=f"retry_after_{response.status}",
            stats_base_key="govcrawler/politeness/retry_after/retry",
        )
        if retry is None:  # the budget is spent: RetryMiddleware must not start it again
            request.meta["dont_retry"] = True
            return response
        return retry

    def response_downloaded(self, response: Response, request: Request) -> None:
        """Set the slot before the downloader sends the host its next request."""
        found = self._slot(request)
        if found is None:
            return
        key, slot = found
        wait = response_retry_after(response, self.now())
        if wait is not None and wait <= self.max_retry_after:
            pace = self.hosts[key]
            pace.resume_at = max(pace.resume_at, self.clock() + wait)
            self.stats.inc_value("govcrawler/politeness/retry_after")
            self.stats.max_value("govcrawler/politeness/retry_after/max_seconds", wait)
            logger.info("%s asks to wait %.0f s (Retry-After): holding its requests", key, wait)
        self._pace(key, slot, failed=response.status >= 500 or response.status == 429)

    def _read_robots(self, request: Request, response: Response) -> None:
        robots = Protego.parse(decode_robotstxt(response.body, self.crawler.spider))
        delay = robots.crawl_delay(self.user_agent) or 0.0
        rate = robots.request_rate(self.user_agent)
        if rate is not None and rate.requests > 0:
            delay = max(delay, rate.seconds / rate.requests)
        found = self._slot(request)
        if delay <= 0 or found is None:
            return
        key, slot = found
        self.hosts[key].floor = delay
        self.stats.set_value("govcrawler/politeness/crawl_delay", delay)
        logger.info("robots.txt of %s asks for %.1f s between requests", key, delay)
        self._pace(key, slot, failed=None)

    def _slot(self, request: Request) -> tuple[str, Slot] | None:
        downloader = self.crawler.engine.downloader
        key = request.meta.get(downloader.DOWNLOAD_SLOT) or downloader.get_slot_key(request)
        slot = downloader.slots.get(key)
        return None if slot is None else (key, slot)

    def _pace(self, key: str, slot: Slot, *, failed: bool | None) -> None:
        """The normal delay (AutoThrottle's, or the one from before a back-off), doubled per
        consecutive failure, never under the floor; the slot held until `resume_at`."""
        pace = self.hosts[key]
        if pace.jitter is None:
            pace.jitter = slot.jitter
        normal = max(slot.delay if pace.normal is None else pace.normal, pace.floor)
        if failed is not None:
            pace.failures = pace.failures + 1 if failed else 0
        delay = normal
        if failed and normal > 0:
            delay = max(normal, min(self.max_delay, normal * 2**pace.failures))
            self.stats.inc_value("govcrawler/politeness/backoff")
            self.stats.max_value("govcrawler/politeness/backoff/max_delay", delay)
            logger.info("%s: back-off after failure #%d, %.1f s apart", key, pace.failures, delay)
        if pace.resume_at > self.clock():
            delay = max(delay, _HOLD_DELAY)  # at 0 the downloader does not look at the clock
        pace.normal = normal if delay > normal else None
        slot.delay = delay
        # the downloader waits delay * (1 ± jitter): keep the shortest wait at the floor
        slot.jitter = min(pace.jitter, 1 - pace.floor / delay) if pace.floor else pace.jitter
        # a hold moves the last request's time forward, so the downloader's own arithmetic
        # sends nothing sooner (a raised delay would also hold the request after next)
        slot.lastseen = max(slot.lastseen, pace.resume_at - delay * (1 - slot.jitter))
