"""Politeness (govcrawler/crawl/politeness.py): Crawl-delay as the slot's floor, Retry-After,
back-off on repeated 5xx, and block and challenge pages dropped, never archived.

Unit tests drive the real middlewares, AutoThrottle and download slot of a crawler whose engine
is built but never started: a response is "downloaded" by sending `response_downloaded` and
passing it to `process_response`, as the downloader does. They assert on the delays the code
sets, never on time spent. The end-to-end test crawls `tests/fixtures/blocked` in a subprocess.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request, signals
from scrapy.core.downloader import Slot
from scrapy.core.engine import ExecutionEngine
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Headers, HtmlResponse, Response
from scrapy.responsetypes import responsetypes
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

import govcrawler.settings as project
from govcrawler.crawl.politeness import (
    BlockStatusMiddleware,
    ChallengePageMiddleware,
    PacingMiddleware,
    retry_after_seconds,
)
from govcrawler.crawl.replay import RESERVED_SUFFIXES, read_sidecar
from govcrawler.runs.health import EXIT_BLOCKED
from govcrawler.spiders.sc_open_governance import OpenGovernanceSpider
from tests.conftest import FIXTURES, SITE_COPY, scrapy_crawl

ROOT = Path(__file__).resolve().parent.parent
BLOCKED_COPY = FIXTURES / "blocked"
HOST = "www.sc.gov.cn"
ROBOTS = f"https://{HOST}/robots.txt"
PAGE = f"https://{HOST}/10462/10758/10760/10765/2024/5/20/2e7a028bbbc6ca2a6566dc6842e6e677.shtml"
COLUMN = "/10462/10758/10760/10765/2024/"
NORMAL = f"https://{HOST}{COLUMN}3/8/987c425790716aa616f8a79ff62c3ab6.shtml"
BLOCKED = {
    f"https://{HOST}{COLUMN}5/20/2e7a028bbbc6ca2a6566dc6842e6e677.shtml": "http_412",
    f"https://{HOST}{COLUMN}5/20/8900db7a73501e0978cadd81d52aeee3.shtml": "http_521",
    f"https://{HOST}{COLUMN}5/20/f0d9c69ae31d7c3fe16ddb1a095952fe.shtml": "challenge_page",
}
NOW = datetime(2024, 5, 20, 8, 0, 0, tzinfo=UTC)


def project_settings(**overrides: Any) -> dict[str, Any]:
    """govcrawler/settings.py, minus what would touch a database or the network."""
    settings = {name: getattr(project, name) for name in dir(project) if name.isupper()}
    settings |= {
        "ITEM_PIPELINES": {},
        "EXTENSIONS": {},
        # AutoThrottle is the one extension these tests need; the others want a running loop.
        "EXTENSIONS_BASE": {"scrapy.extensions.throttle.AutoThrottle": 0},
        "DOWNLOAD_HANDLERS": {"http": None, "https": None},
    }
    return settings | overrides


@dataclass
class Crawl:
    crawler: Crawler
    slot: Slot

    @property
    def pacing(self) -> PacingMiddleware:
        middleware = self.crawler.get_downloader_middleware(PacingMiddleware)
        assert middleware is not None
        return middleware

    def stat(self, key: str) -> Any:
        assert self.crawler.stats is not None
        return self.crawler.stats.get_value(key)

    def download(
        self, url: str, status: int = 200, headers: dict[str, str] | None = None, **kw: Any
    ) -> Request | Response:
        """One response arriving from the host, through AutoThrottle and the pacing."""
        request = kw.pop("request", None) or Request(url)
        request.meta.update(download_slot=HOST, download_latency=kw.pop("latency", 0.05))
        response = HtmlResponse(url, status=status, headers=headers, request=request, **kw)
        results = self.crawler.signals.send_catch_log(
            signals.response_downloaded, response=response, request=request, spider=None
        )
        assert not [result for _, result in results if isinstance(result, Failure)]
        return self.pacing.process_response(request, response)

    @property
    def shortest_wait(self) -> float:
        """The least the downloader waits between two requests (its jitter is delay × 1±j)."""
        return self.slot.delay * (1 - self.slot.jitter)

    @property
    def earliest(self) -> float:
        """The soonest the downloader sends the host its next request (downloader clock)."""
        return self.slot.lastseen + self.shortest_wait


def start(delay: float = 1.0, **settings: Any) -> Crawl:
    """A crawler with its engine built (not started), AutoThrottle opened, and the host's slot."""
    crawler = get_crawler(OpenGovernanceSpider, project_settings(**settings))
    crawler.spider = OpenGovernanceSpider.from_crawler(crawler)
    crawler.engine = ExecutionEngine(crawler, lambda _: None)
    crawler.signals.send_catch_log(signals.spider_opened, spider=crawler.spider)
    slot = Slot(concurrency=1, delay=delay, jitter=0.5)
    crawler.engine.downloader.slots[HOST] = slot
    crawl = Crawl(crawler, slot)
    crawl.pacing.clock = lambda: 1000.0  # the downloader's monotonic clock
    crawl.pacing.now = lambda: NOW
    return crawl


def robots(crawl: Crawl, text: str) -> None:
    response = crawl.download(ROBOTS, headers={"Content-Type": "text/plain"}, body=text.encode())
    assert isinstance(response, Response)


# --- Crawl-delay ---------------------------------------------------------------------------


def test_crawl_delay_of_robots_txt_is_the_floor_of_the_slot() -> None:
    crawl = start()
    robots(crawl, "User-agent: *\nCrawl-delay: 2\nAllow: /10462/\n")
    assert crawl.slot.delay == 2.0
    assert crawl.shortest_wait == 2.0  # jitter narrowed: never less than the Crawl-delay
    assert crawl.stat("govcrawler/politeness/crawl_delay") == 2.0


def test_the_crawl_delay_for_our_user_agent_wins_over_the_one_for_everyone() -> None:
    crawl = start()
    robots(crawl, "User-agent: govcrawler\nCrawl-delay: 5\n\nUser-agent: *\nCrawl-delay: 1\n")
    assert crawl.slot.delay == 5.0
    crawl = start()
    robots(crawl, "User-agent: *\nRequest-rate: 1/10\n")
    assert crawl.slot.delay == 10.0


def test_no_crawl_delay_changes_nothing() -> None:
    crawl = start()
    robots(crawl, "User-agent: *\nDisallow: /private/\n")
    crawl.download(ROBOTS, status=404)
    assert (crawl.slot.delay, crawl.slot.jitter) == (1.0, 0.5)
    assert crawl.stat("govcrawler/politeness/crawl_delay") is None


def test_autothrottle_never_brings_the_delay_below_the_crawl_delay() -> None:
    control = start(delay=5.0)
    for _ in range(5):
        control.download(PAGE, latency=0.01)
    assert control.slot.delay == 1.0  # AutoThrottle at work: down to DOWNLOAD_DELAY
    crawl = start(delay=5.0)
    robots(crawl, "User-agent: *\nCrawl-delay: 2\n")
    crawl.download(PAGE, latency=6.0)
    assert crawl.slot.delay == 6.0  # a slow answer: AutoThrottle may raise it
    assert crawl.shortest_wait >= 2.0
    for _ in range(8):
        crawl.download(PAGE, latency=0.01)
        assert crawl.shortest_wait >= 2.0
    assert crawl.slot.delay == 2.0


def test_crawl_delay_applies_in_replay_where_download_delay_is_zero() -> None:
    crawl = start(delay=0.0, GOVCRAWLER_REPLAY_DIR=str(BLOCKED_COPY))
    assert crawl.crawler.settings.getfloat("DOWNLOAD_DELAY") == 0
    assert not crawl.crawler.settings.getbool("AUTOTHROTTLE_ENABLED")
    body = (BLOCKED_COPY / HOST / "robots.txt").read_text()
    robots(crawl, body)
    crawl.download(PAGE)
    assert crawl.slot.delay == 2.0
    assert crawl.shortest_wait == 2.0


# --- Retry-After ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Mon, 20 May 2024 08:05:00 GMT", 300.0),
        ("Mon, 20 May 2024 07:00:00 GMT", 0.0),  # already past: no wait
        ("soon", None),
        ("-5", None),
        ("1.5", None),
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(value: str, seconds: float | None) -> None:
    assert retry_after_seconds(value, NOW) == seconds


@pytest.mark.parametrize(
    ("status", "value", "wait"),
    [(503, "120", 120.0), (429, "Mon, 20 May 2024 08:02:00 GMT", 120.0), (503, "0", 0.0)],
)
def test_retry_after_holds_the_slot_then_retries(status: int, value: str, wait: float) -> None:
    crawl = start()
    crawl.slot.lastseen = 995.0  # the request went out 5 s before its answer (clock: 1000)
    retry = crawl.download(PAGE, status=status, headers={"Retry-After": value})
    assert crawl.earliest == 1000.0 + wait
    assert isinstance(retry, Request)
    assert (retry.url, retry.meta["retry_times"], retry.dont_filter) == (PAGE, 1, True)
    assert crawl.stat("govcrawler/politeness/retry_after") == 1
    assert crawl.stat("govcrawler/politeness/retry_after/retry/count") == 1


def test_an_answer_to_another_request_in_flight_does_not_end_the_hold() -> None:
    crawl = start()
    crawl.slot.lastseen = 1000.0
    crawl.download(PAGE, status=503, headers={"Retry-After": "60"})
    crawl.download(NORMAL)  # sent before the 503 came back
    assert crawl.earliest == 1060.0


def test_after_the_hold_the_normal_delay_is_back() -> None:
    crawl = start()
    robots(crawl, "User-agent: *\nCrawl-delay: 2\n")
    crawl.slot.lastseen = 1000.0
    crawl.download(PAGE, status=429, headers={"Retry-After": "60"})
    assert crawl.earliest == 1060.0
    crawl.pacing.clock = lambda: 1061.0
    crawl.slot.lastseen = 1060.0  # the retry went out when the hold ended
    crawl.download(PAGE)
    assert (crawl.slot.delay, crawl.shortest_wait) == (2.0, 2.0)  # the Crawl-delay again
    assert crawl.earliest == 1062.0


def test_a_hold_applies_in_replay_where_the_delay_is_zero() -> None:
    crawl = start(delay=0.0, GOVCRAWLER_REPLAY_DIR=str(BLOCKED_COPY))
    crawl.slot.lastseen = 1000.0
    crawl.download(PAGE, status=503, headers={"Retry-After": "30"})
    assert crawl.slot.delay > 0  # at 0 the downloader would not look at the clock at all
    assert crawl.earliest == pytest.approx(1030.0)
    crawl.pacing.clock = lambda: 1031.0
    crawl.download(PAGE)
    assert crawl.slot.delay == 0.0


def test_retries_after_retry_after_are_bounded_and_retry_middleware_does_not_restart() -> None:
    crawl = start()
    request = Request(PAGE, meta={"retry_times": project.RETRY_TIMES})
    response = crawl.download(PAGE, status=503, headers={"Retry-After": "30"}, request=request)
    assert isinstance(response, Response) and response.status == 503
    assert crawl.stat("govcrawler/politeness/retry_after/retry/max_reached") == 1
    retry = crawl.crawler.get_downloader_middleware(RetryMiddleware)
    assert retry is not None
    assert retry.process_response(request, response) is response
    assert crawl.stat("retry/count") is None


def test_a_retry_after_longer_than_allowed_is_a_block_and_not_waited_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    crawl = start()
    blocker = crawl.crawler.get_downloader_middleware(BlockStatusMiddleware)
    assert blocker is not None
    blocker.now = lambda: NOW
    crawl.slot.lastseen = 1000.0
    too_long = [("601", 503), ("Mon, 20 May 2024 10:00:00 GMT", 429)]
    for value, status in too_long:
        request = Request(PAGE, meta={"download_slot": HOST})
        response = HtmlResponse(PAGE, status=status, headers={"Retry-After": value})
        with caplog.at_level(logging.WARNING), pytest.raises(IgnoreRequest):
            blocker.process_response(request, response)
        crawl.download(PAGE, status=status, headers={"Retry-After": value})
    assert crawl.slot.lastseen == 1000.0  # backed off, not held
    assert crawl.stat("govcrawler/blocked") == 2
    assert crawl.stat("govcrawler/blocked/retry_after_too_long") == 2
    assert crawl.stat("govcrawler/politeness/retry_after") is None
    assert caplog.text.count(f"(retry_after_too_long), not archived: {PAGE}") == 2


# --- back-off on 5xx -------------------------------------------------------------------------


def test_consecutive_5xx_double_the_delay_up_to_the_cap_then_a_success_resets_it() -> None:
    crawl = start()
    delays = []
    for status in (500, 502, 503, 504, 500, 500, 500):
        crawl.download(PAGE, status=status)
        delays.append(crawl.slot.delay)
    assert delays == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]  # AUTOTHROTTLE_MAX_DELAY is 30
    assert crawl.stat("govcrawler/politeness/backoff") == 7
    crawl.download(PAGE, status=404)  # the server answers: not a failure
    assert (crawl.slot.delay, crawl.slot.jitter) == (1.0, 0.5)
    crawl.download(PAGE, status=500)
    assert crawl.slot.delay == 2.0  # counted afresh


def test_back_off_starts_from_the_crawl_delay_and_returns_to_it() -> None:
    crawl = start()
    robots(crawl, "User-agent: *\nCrawl-delay: 3\n")
    crawl.download(PAGE, status=500)
    crawl.download(PAGE, status=500)
    assert crawl.slot.delay == 12.0
    crawl.download(PAGE)
    assert crawl.slot.delay == 3.0


# --- block and challenge pages -------------------------------------------------------------


def saved_response(root: Path, page: Path) -> Response:
    """A saved page as replay serves it: its sidecar's status and headers."""
    url = "https://" + page.relative_to(root).as_posix()
    saved = read_sidecar(page)
    headers = Headers({"Content-Type": "text/html", **(saved.get("headers") or {})})
    body = page.read_bytes()
    cls = responsetypes.from_args(headers=headers, url=url, body=body)
    return cls(url, status=int(saved.get("status", 200)), headers=headers, body=body)


def blockers(crawler: Crawler) -> list[BlockStatusMiddleware | ChallengePageMiddleware]:
    found = [
        crawler.get_downloader_middleware(BlockStatusMiddleware),
        crawler.get_downloader_middleware(ChallengePageMiddleware),
    ]
    return [middleware for middleware in found if middleware is not None]


def saved_pages(root: Path) -> list[Path]:
    return sorted(
        path
        for path in (root / HOST).rglob("*")
        if path.is_file() and not path.name.endswith(RESERVED_SUFFIXES)
    )


@pytest.mark.parametrize(("url", "reason"), sorted(BLOCKED.items()))
def test_block_and_challenge_pages_are_dropped_with_their_reason(
    url: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    crawl = start()
    response = saved_response(BLOCKED_COPY, BLOCKED_COPY / url.removeprefix("https://"))
    with caplog.at_level(logging.WARNING), pytest.raises(IgnoreRequest, match=reason):
        for middleware in blockers(crawl.crawler):
            middleware.process_response(Request(url), response)
    assert crawl.stat("govcrawler/blocked") == 1
    assert crawl.stat(f"govcrawler/blocked/{reason}") == 1
    assert [record.getMessage() for record in caplog.records] == [
        f"blocked by the site ({reason}), not archived: {url}"
    ]


def test_the_521_challenge_body_is_a_challenge_even_with_a_200() -> None:
    crawl = start()
    url = next(url for url, reason in BLOCKED.items() if reason == "http_521")
    page = (BLOCKED_COPY / url.removeprefix("https://")).read_bytes()
    response = HtmlResponse(url, body=page, headers={"Set-Cookie": "__jsluid_s=1; path=/"})
    [challenge] = [m for m in blockers(crawl.crawler) if isinstance(m, ChallengePageMiddleware)]
    with pytest.raises(IgnoreRequest, match="challenge_page"):
        challenge.process_response(Request(url), response)


@pytest.mark.parametrize(
    ("body", "headers", "blocked"),
    [
        ('<script>location.href="/10462/10758/index.shtml"</script>', {}, False),
        ('<script>location.replace("/")</script>', {"Set-Cookie": "s=1"}, True),
        ('<body><script>document["cookie"]="a=1";</script></body>', {}, True),
        ("<p>" + "Public notice. " * 20 + '</p><script>document.cookie="a=1"</script>', {}, False),
        ("<p>Short notice.</p>" + " " * 5000 + '<script>document.cookie="a=1"</script>', {}, False),
        ("<p>Page not found.</p>", {"Set-Cookie": "s=1"}, False),
    ],
    ids=["js-redirect", "cookie+reload", "cookie-write", "text", "large", "no-script"],
)
def test_the_challenge_rule(body: str, headers: dict[str, str], blocked: bool) -> None:
    crawl = start()
    [challenge] = [m for m in blockers(crawl.crawler) if isinstance(m, ChallengePageMiddleware)]
    response = HtmlResponse(PAGE, body=body.encode(), headers=headers, encoding="utf-8")
    try:
        challenge.process_response(Request(PAGE), response)
    except IgnoreRequest:
        assert blocked
    else:
        assert not blocked


@pytest.mark.parametrize(
    "page", saved_pages(SITE_COPY), ids=lambda page: page.relative_to(SITE_COPY).as_posix()
)
def test_no_page_of_the_saved_site_is_taken_for_a_block(page: Path) -> None:
    crawl = start()
    response = saved_response(SITE_COPY, page)
    for middleware in blockers(crawl.crawler):
        assert middleware.process_response(Request(response.url), response) is response
    assert crawl.stat("govcrawler/blocked") is None


def test_the_normal_pages_of_the_blocked_copy_pass() -> None:
    crawl = start()
    pages = [
        page
        for page in saved_pages(BLOCKED_COPY)
        if "https://" + page.relative_to(BLOCKED_COPY).as_posix() not in BLOCKED
    ]
    assert len(pages) == 4  # robots.txt, home, channel, article
    for page in pages:
        response = saved_response(BLOCKED_COPY, page)
        for middleware in blockers(crawl.crawler):
            assert middleware.process_response(Request(response.url), response) is response


# --- wiring ----------------------------------------------------------------------------------


def test_the_middlewares_sit_where_the_docstring_says() -> None:
    crawl = start()
    order = [type(m).__name__ for m in crawl.crawler.engine.downloader.middleware.middlewares]
    assert order.index("RetryMiddleware") < order.index("PacingMiddleware")
    assert order.index("PacingMiddleware") < order.index("MetaRefreshMiddleware")
    assert order.index("MetaRefreshMiddleware") < order.index("ChallengePageMiddleware")
    assert order.index("ChallengePageMiddleware") < order.index("HttpCompressionMiddleware")
    assert order.index("HttpCompressionMiddleware") < order.index("BlockStatusMiddleware")
    assert "CookiesMiddleware" not in order  # COOKIES_ENABLED = False: no cookie is ever kept


@pytest.mark.parametrize(
    ("middleware", "setting"),
    [
        (PacingMiddleware, "GOVCRAWLER_MAX_RETRY_AFTER"),
        (BlockStatusMiddleware, "GOVCRAWLER_MAX_RETRY_AFTER"),
        (ChallengePageMiddleware, "GOVCRAWLER_CHALLENGE_MAX_BYTES"),
    ],
)
def test_a_middleware_without_its_setting_is_not_configured(middleware: Any, setting: str) -> None:
    crawler = get_crawler(OpenGovernanceSpider, project_settings(**{setting: None}))
    with pytest.raises(NotConfigured, match=setting):
        middleware.from_crawler(crawler)


# --- end to end --------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_replay_crawl_archives_the_article_and_records_every_block(tmp_path: Path) -> None:
    database = tmp_path / "archive.sqlite3"
    command = [
        sys.executable,
        "-c",
        "from govcrawler.cli import main; main()",
        "crawl",
        *("--spider", "sc_open_governance"),
        "--replay",
        str(BLOCKED_COPY),
        "--database",
        f"sqlite:///{database}",
        "--log-level",
        "INFO",
    ]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=240)
    assert result.returncode == EXIT_BLOCKED, result.stderr[-3000:]
    with sqlite3.connect(database) as connection:
        articles = connection.execute("SELECT url FROM articles").fetchall()
        captured = connection.execute(
            "SELECT url, status FROM captures WHERE kind = 'page'"
        ).fetchall()
        every = {url for (url,) in connection.execute("SELECT url FROM captures")}
    assert articles == [(NORMAL,)]
    assert captured == [(NORMAL, 200)]
    assert not every & set(BLOCKED)  # nor as a list page: a block is never archived
    for url, reason in BLOCKED.items():
        assert f"blocked by the site ({reason}), not archived: {url}" in result.stderr
    stats = re.search(r"'govcrawler/politeness/crawl_delay': ([\d.]+)", result.stderr)
    assert stats is not None and float(stats.group(1)) == 2.0
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_run_stops_after_enough_blocked_responses(tmp_path: Path) -> None:
    """With GOVCRAWLER_STOP_AFTER_BLOCKED=2, the second block ends the run as `blocked`."""
    database = tmp_path / "archive.sqlite3"
    command = scrapy_crawl(
        database, BLOCKED_COPY, GOVCRAWLER_STOP_AFTER_BLOCKED=2, LOG_LEVEL="INFO"
    )
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "blocked 2 times: stopping the run" in result.stderr
    assert "'finish_reason': 'blocked'" in result.stderr
    with sqlite3.connect(database) as connection:
        run = connection.execute("SELECT outcome, exit_status, blocked FROM crawl_run").fetchone()
    assert run[:2] == ("blocked", EXIT_BLOCKED)
    assert run[2] >= 2  # a response already in flight may still be counted
