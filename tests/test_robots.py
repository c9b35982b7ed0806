"""robots.txt holds for every request, those sent together before it is parsed included
(govcrawler/crawl/robots.py).

The crawl tests run the project's settings and Scrapy stack in a subprocess
(`python -m tests.test_robots ORIGIN MIDDLEWARE OUT.json`) against `tests/hostile_server.py`
through `GOVCRAWLER_GATEWAY`: the server counts what reached it. The other tests drive the
middleware on an asyncio loop with a fake engine whose robots.txt answer they hold back.
Scrapy's own middleware is run too, as a strict xfail: once it passes, Scrapy has fixed the
bug and govcrawler/crawl/robots.py can go.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from scrapy import Request, Spider
from scrapy.crawler import CrawlerProcess
from scrapy.downloadermiddlewares import robotstxt
from scrapy.http import Response, TextResponse
from scrapy.utils.test import get_crawler
from twisted.internet.defer import Deferred

from govcrawler.cli.runner import crawl_settings
from govcrawler.crawl.robots import RobotsTxtMiddleware
from tests.hostile_server import Behaviour, HostileServer, close_at_once, page

ROOT = Path(__file__).resolve().parent.parent
SITE = "https://www.sc.gov.cn"
NETLOC = "www.sc.gov.cn"
ROBOTS = b"User-agent: *\nDisallow: /private/\n"
# What a spider yields at once at start: the start page, due revisits, file requests.
DISALLOWED = [f"/private/{name}" for name in ("index.shtml", "a.shtml", "b.shtml", "c.pdf")]
OURS = "govcrawler.crawl.robots.RobotsTxtMiddleware"
PROJECT = "project"  # the crawl with the project's DOWNLOADER_MIDDLEWARES as they are
SCRAPYS = "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware"
SCRAPY_FIXED = "Scrapy 2.19 hands the parser to one waiter only; passing: drop crawl/robots.py"


class BurstSpider(Spider):
    name = "robots_burst"

    async def start(self) -> Any:
        for path in DISALLOWED:
            yield Request(SITE + path, dont_filter=True)

    def parse(self, response: Response) -> Any:
        yield {"url": response.url}


def main(origin: str, middleware: str, out: str) -> None:
    settings = crawl_settings(
        {"GOVCRAWLER_GATEWAY": origin, "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False}
        | {"ITEM_PIPELINES": {}, "EXTENSIONS": {}, "LOG_LEVEL": "WARNING"}
    )
    if middleware == SCRAPYS:
        scrapys = settings.getdict("DOWNLOADER_MIDDLEWARES") | {OURS: None, SCRAPYS: 100}
        settings.set("DOWNLOADER_MIDDLEWARES", scrapys)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(BurstSpider)
    process.crawl(crawler)
    process.start()
    assert crawler.stats is not None
    Path(out).write_text(json.dumps(crawler.stats.get_stats(), default=str))


def crawl(tmp_path: Path, middleware: str, robots: Behaviour) -> tuple[dict[str, Any], dict]:
    """The burst crawled through the real stack: its stats, and the hits per path."""
    out = tmp_path / "stats.json"
    with HostileServer(lambda path: robots if path == "/robots.txt" else page(b"<p>x</p>")) as s:
        command = [sys.executable, "-m", "tests.test_robots", s.origin, middleware, str(out)]
        result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(out.read_text()), dict(s.hits)


SCRAPY_S_FAILS = pytest.mark.xfail(strict=True, reason=SCRAPY_FIXED)


@pytest.mark.slow
@pytest.mark.parametrize(
    "middleware", [PROJECT, pytest.param(SCRAPYS, marks=SCRAPY_S_FAILS)], ids=["project", "scrapy"]
)
def test_requests_sent_together_at_start_are_all_refused(tmp_path: Path, middleware: str) -> None:
    stats, hits = crawl(tmp_path, middleware, page(ROBOTS, headers={"Content-Type": "text/plain"}))
    assert stats.get("robotstxt/forbidden") == len(DISALLOWED)
    assert hits == {"/robots.txt": 1}  # none reached the server
    assert "item_scraped_count" not in stats  # nor the pipeline


@pytest.mark.slow
def test_without_robots_txt_the_burst_goes_through_as_with_scrapy(tmp_path: Path) -> None:
    stats, hits = crawl(tmp_path, PROJECT, close_at_once())  # a download error, after retries
    assert stats["robotstxt/request_count"] == 1 and "robotstxt/forbidden" not in stats
    assert hits == {"/robots.txt": 3} | dict.fromkeys(DISALLOWED, 1)
    assert stats["item_scraped_count"] == len(DISALLOWED)


async def burst(middleware_class: type, answer: Response | Exception) -> tuple[list, list]:
    """What each request of a burst gets from `robot_parser`, and what `_parsers` held when
    Scrapy fired the pending Deferred (robots.txt answered with `answer`)."""
    crawler = get_crawler(Spider, {"ROBOTSTXT_OBEY": True})
    held: asyncio.Future[Response] = asyncio.get_running_loop().create_future()

    async def download_async(request: Request) -> Response:
        return await held

    crawler.engine = SimpleNamespace(download_async=download_async)
    middleware = middleware_class.from_crawler(crawler)
    waiters = [middleware.robot_parser(Request(SITE + path)) for path in DISALLOWED]
    tasks = [asyncio.ensure_future(waiter) for waiter in waiters]
    await asyncio.sleep(0)  # all are waiting for robots.txt
    pending = middleware._parsers[NETLOC]
    assert isinstance(pending, Deferred), "Scrapy no longer keeps a Deferred in _parsers"
    stored: list = []
    pending.addBoth(lambda result: stored.append(middleware._parsers[NETLOC]))
    if isinstance(answer, Exception):
        held.set_exception(answer)
    else:
        held.set_result(answer)
    return await asyncio.wait_for(asyncio.gather(*tasks), timeout=5), stored


ANSWER = TextResponse(SITE + "/robots.txt", body=ROBOTS)


@pytest.mark.parametrize(
    "middleware",
    [RobotsTxtMiddleware, pytest.param(robotstxt.RobotsTxtMiddleware, marks=SCRAPY_S_FAILS)],
    ids=["ours", "scrapy"],
)
def test_every_waiter_gets_the_parser(middleware: type) -> None:
    parsers, _ = asyncio.run(burst(middleware, ANSWER))
    assert all(parser is parsers[0] is not None for parser in parsers)
    assert not parsers[0].allowed(SITE + DISALLOWED[0], "govcrawler")


def test_after_a_download_error_every_waiter_gets_none_and_none_hangs() -> None:
    parsers, stored = asyncio.run(burst(RobotsTxtMiddleware, ConnectionRefusedError()))
    assert parsers == [None] * len(DISALLOWED) and stored == [None]  # Scrapy's: all allowed


def test_what_the_subclass_relies_on_in_scrapy() -> None:
    """Scrapy awaits `robot_parser(request)`, keeps a Deferred in `_parsers[netloc]` while
    robots.txt is pending and stores the parser there before firing it (checked in `burst`)."""
    process_request = inspect.getsource(robotstxt.RobotsTxtMiddleware.process_request)
    assert "await self.robot_parser(request)" in process_request
    parent = robotstxt.RobotsTxtMiddleware.robot_parser
    assert inspect.iscoroutinefunction(parent)
    assert list(inspect.signature(parent).parameters) == ["self", "request"]
    _, stored = asyncio.run(burst(robotstxt.RobotsTxtMiddleware, ANSWER))
    assert stored and not isinstance(stored[0], Deferred) and stored[0] is not None


if __name__ == "__main__":
    main(*sys.argv[1:])
