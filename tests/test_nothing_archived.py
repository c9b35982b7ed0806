"""A crawl that archives nothing is loud: exit status 4, a `PROBLEM:` line on stderr (under the
README's cron line too: `--quiet --log-file`), the problem in `runs --json`, and never a
traceback on the terminal. Each case is a first run, into a fresh archive.

The start page fails by being unreachable (a gateway on a closed port: refused), missing from a
replay copy (404), answering 500, or redirecting off the site; a start page that answers but
links to nothing gives "nothing found". The start-page middlewares are unit-tested here too.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from govcrawler.crawl.startpage import START_META, StartPageMiddleware, StartPageSpiderMiddleware
from govcrawler.runs.health import EXIT_BLOCKED, EXIT_HEALTH

ROOT = Path(__file__).resolve().parent.parent
GOVCRAWLER = [sys.executable, "-c", "from govcrawler.cli import main; main()"]
START = "https://www.sc.gov.cn/10462/10758/index.shtml"
START_FILE = Path("www.sc.gov.cn/10462/10758/index.shtml")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def crawl(tmp_path: Path, *options: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GOVCRAWLER_")}
    environ |= {"GOVCRAWLER_DOWNLOAD_DELAY": "0", **env}  # retries without waiting
    database = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    command = [*GOVCRAWLER, "crawl", "--spider", "sc_open_governance", "--database", database]
    command += list(options)
    return subprocess.run(
        command, capture_output=True, text=True, cwd=tmp_path, env=environ, timeout=120
    )


def last_run(tmp_path: Path) -> dict[str, object]:
    database = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    runs = subprocess.run(
        [*GOVCRAWLER, "runs", "--json", "--database", database],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    latest: dict[str, object] = json.loads(runs.stdout)[0]
    return latest


def site_copy(
    tmp_path: Path,
    start_page: bytes | None,
    sidecar: dict[str, object] | None,
    robots: str | None = None,
) -> Path:
    """A replay copy holding at most the start page (and its sidecar) and robots.txt."""
    copy = tmp_path / "copy"
    (copy / START_FILE).parent.mkdir(parents=True)
    if robots is not None:
        (copy / "www.sc.gov.cn" / "robots.txt").write_text(robots, encoding="utf-8")
    if start_page is not None:
        (copy / START_FILE).write_bytes(start_page)
    if sidecar is not None:
        meta = (copy / START_FILE).with_name(START_FILE.name + ".meta.json")
        meta.write_text(json.dumps(sidecar), encoding="utf-8")
    return copy


def assert_loud(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == EXIT_HEALTH, result.stderr[-3000:]
    problems = [line for line in result.stderr.splitlines() if line.startswith("PROBLEM: ")]
    assert len(problems) == 1, result.stderr
    for text in expected:
        assert text in problems[0]
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.slow
def test_an_unreachable_site_under_the_cron_line_exits_4_with_a_problem(tmp_path: Path) -> None:
    gateway = f"http://127.0.0.1:{closed_port()}"
    log = tmp_path / "logs" / "crawl.log"
    result = crawl(tmp_path, "--quiet", "--log-file", str(log), GOVCRAWLER_GATEWAY=gateway)
    assert_loud(result, f"start page {START} failed", "Connection was refused")
    assert "pages fetched: 0" in result.stdout  # the summary comes with the problem
    run = last_run(tmp_path)
    assert (run["outcome"], run["exit_status"]) == ("failed_health", EXIT_HEALTH)
    printed = result.stderr.splitlines()[-1].removeprefix("PROBLEM: ")
    assert run["problems"] == [printed.removesuffix(" [sc_open_governance]")]
    assert "Traceback" in log.read_text(encoding="utf-8")  # the detail stays in the file


@pytest.mark.slow
def test_an_unreachable_site_logs_one_line_per_error_on_the_terminal(tmp_path: Path) -> None:
    result = crawl(tmp_path, GOVCRAWLER_GATEWAY=f"http://127.0.0.1:{closed_port()}")
    assert_loud(result, "Connection was refused")
    robots = [
        line
        for line in result.stderr.splitlines()
        if "[scrapy.downloadermiddlewares.robotstxt]" in line
    ]
    assert len(robots) == 1 and "Connection was refused" in robots[0]
    assert all(line.startswith(("20", "PROBLEM: ")) for line in result.stderr.splitlines())


@pytest.mark.parametrize(
    ("start_page", "sidecar", "expected"),
    [
        pytest.param(None, None, f"start page {START} failed (404)", id="missing"),
        pytest.param(
            b"<h1>Server error</h1>",
            {"status": 500},
            f"start page {START} failed (500)",
            id="server-error",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            b"",
            {"status": 302, "headers": {"Location": "https://mirror.example.org/"}},
            "failed (refused: redirected off the site: https://mirror.example.org/)",
            id="redirected-off-site",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            b"<html><body><p>Under maintenance.</p></body></html>",
            None,
            f"start page {START} answered (200) but the run found no list page and no article",
            id="leads-nowhere",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            b"<html><body><a href='/10462/10758/10760/index.shtml'>News</a></body></html>",
            None,
            "failed (refused: Forbidden by robots.txt)",
            id="robots-forbids",
            marks=pytest.mark.slow,
        ),
    ],
)
def test_a_replay_whose_start_page_fails_exits_4_on_the_first_run(
    tmp_path: Path, start_page: bytes | None, sidecar: dict[str, object] | None, expected: str
) -> None:
    robots = "User-agent: *\nDisallow: /10462/10758/index.shtml\n" if "robots" in expected else None
    copy = site_copy(tmp_path, start_page, sidecar, robots)
    result = crawl(
        tmp_path, "--quiet", "--log-file", str(tmp_path / "crawl.log"), "--replay", str(copy)
    )
    assert_loud(result, expected)
    with sqlite3.connect(tmp_path / "archive.sqlite3") as archive:
        recorded = archive.execute("SELECT outcome, exit_status FROM crawl_run").fetchall()
    assert recorded == [("failed_health", EXIT_HEALTH)]


@pytest.mark.slow
def test_a_blocked_start_page_is_a_problem_and_exits_5_as_blocked(tmp_path: Path) -> None:
    copy = site_copy(tmp_path, b"", {"status": 412})
    result = crawl(tmp_path, "--quiet", "--replay", str(copy))
    assert result.returncode == EXIT_BLOCKED, result.stderr[-3000:]
    problems = [line for line in result.stderr.splitlines() if line.startswith("PROBLEM: ")]
    assert len(problems) == 2 and problems[0].startswith("PROBLEM: blocked: 1 responses")
    assert problems[1].startswith(f"PROBLEM: start page {START} failed (blocked: http_412: ")
    assert "Traceback" not in result.stderr


# --- the middlewares on their own -------------------------------------------------------------


async def _start() -> AsyncIterator[Request]:
    yield Request(START)
    yield Request("https://www.sc.gov.cn/10462/10758/10760/10765/2022/9/26/a.shtml")


def test_only_the_first_start_request_is_the_start_page() -> None:
    crawler = get_crawler()
    assert crawler.stats is not None
    middleware = StartPageSpiderMiddleware.from_crawler(crawler)

    async def collect() -> list[Request]:
        return [request async for request in middleware.process_start(_start())]

    first, second = asyncio.run(collect())
    assert first.meta.get(START_META) is True and START_META not in second.meta
    assert crawler.stats.get_value("govcrawler/start_url") == START


def test_the_final_answer_or_error_of_the_start_page_is_counted() -> None:
    crawler = get_crawler()
    assert crawler.stats is not None
    middleware = StartPageMiddleware.from_crawler(crawler)
    start = Request(START, meta={START_META: True})
    other = Request("https://www.sc.gov.cn/10462/10758/10760/index.shtml")
    middleware.process_response(start, HtmlResponse(START, status=404, request=start))
    middleware.process_response(other, HtmlResponse(other.url, status=500, request=other))
    middleware.process_exception(start, IgnoreRequest("Forbidden by robots.txt"))
    counted = {
        key: value
        for key, value in crawler.stats.get_stats().items()
        if key.startswith("govcrawler/start")
    }
    assert counted == {
        "govcrawler/start/404": 1,
        "govcrawler/start/refused": 1,
        "govcrawler/start_detail": "Forbidden by robots.txt",
    }


def test_a_redirect_of_the_start_page_off_the_site_is_counted_once_when_scheduled() -> None:
    crawler = get_crawler()
    assert crawler.stats is not None
    middleware = StartPageSpiderMiddleware.from_crawler(crawler)
    meta = {START_META: True, "redirect_urls": [START]}
    onsite = Request("https://www.sc.gov.cn/10462/10758/index_new.shtml", meta=dict(meta))
    offsite = Request("https://mirror.example.org/", meta=dict(meta))
    for request in (onsite, offsite, offsite):
        middleware.request_scheduled(request)
    assert crawler.stats.get_value("govcrawler/start/refused") == 1
    assert onsite.meta[START_META] is True and START_META not in offsite.meta
