"""Hostile input: every kind of broken response ends as a clear, counted outcome.

Four real crawls run in subprocesses, started side by side once for the module:

- `replay`: `govcrawler crawl --replay` (the cron path) over a copy of `tests/fixtures/hostile`
  plus what is generated here (a 10 MB article, a list of 10,000 missing articles, a page of
  10,000 links, a 30-hop redirect chain, a symlink out of the copy, and a sentinel file beside
  the copy that must never be read).
- `gateway`: `scrapy crawl` with `GOVCRAWLER_GATEWAY` pointing at `tests/hostile_server.py`
  (stalls, resets, short bodies, broken chunking, fake gzip, Retry-After) and
  `DOWNLOAD_TIMEOUT=2`, without the politeness delay.
- `throttled`: the same server, a column whose articles answer 503 + `Retry-After: 1` once.
- `pager_full`: `scrapy crawl` with `GOVCRAWLER_FULL` over the list whose pager script declares
  100000 pages.

`test_hostile_cases[<case>]` checks each case's own outcome over the shared results; the other
tests check what must hold for every crawl (no traceback, no half-filled row, no request off
www.sc.gov.cn, no read outside the replay directory, a sound database). A case that exposes a
bug is marked `xfail(strict=True)` with the file and line to fix: it passes once the code is
(`Case.fixed` keeps the record of the bugs found here and fixed since).
`tests/fixtures/hostile/README.md` lists every case, what is wrong and the outcome it must give.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from tests.conftest import scrapy_crawl
from tests.hostile_server import (
    Behaviour,
    HostileServer,
    bad_chunked,
    close_at_once,
    declared_huge,
    drip,
    page,
    raw,
    reset_mid_body,
    sequence,
    short_body,
    stall,
    stall_mid_body,
)

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
SITE = "https://www.sc.gov.cn"
NEWS = "/10462/10758/10760/10765"
PAGER = "/10462/10758/10760/10768"
BULK = "/10462/10758/10760/10769"
THROTTLED = "/10462/10758/10760/10770"  # served by the hostile server only
THROTTLED_ARTICLES = 6
SENTINEL = "HOSTILE-SENTINEL-5f0e3c1d: this file lies outside the replay directory"
BULK_LINKS = 10_000  # the list of missing articles (all 10,000 the issue asks for)
MANY_LINKS = 10_000  # anchors on one page: 5,000 to the spam mirror, 5,000 to one article
CHAIN_HOPS = 30  # article redirects in a row, more than REDIRECT_MAX_TIMES (20)
MAX_REDIRECTS = 20  # Scrapy's REDIRECT_MAX_TIMES: the bound a redirect chain must respect
PAGER_BOUND = 10  # numbered list pages a --full run may try beyond the last one that exists
CRAWL_TIMEOUT = 270
GOVCRAWLER = [sys.executable, "-c", "from govcrawler.cli import main; main()"]
MIRROR = "http://www.sc-gov-cn.mirror-news.top"  # a spam clone of the site (SITE.md)


def html_page(title: str, body: str) -> str:
    head = f"<head><meta charset='utf-8'><title>{title}</title></head>"
    return f"<html>{head}<body>{body}</body></html>\n"


def hexid(name: str) -> str:
    return hashlib.md5(name.encode()).hexdigest()


def article(name: str, month: int, day: int, column: str = NEWS) -> str:
    """The URL of a case's article page: `/…/<column>/2024/<M>/<D>/<32-hex>.shtml`."""
    return f"{SITE}{column}/2024/{month}/{day}/{hexid(name)}.shtml"


def marker(name: str, number: int) -> str:
    """The tag every generated paragraph carries: `(item <name words> <n>)`."""
    return f"(item {name.replace('_', ' ')} {number})"


# --------------------------------------------------------------------------------------------
# The crawls
# --------------------------------------------------------------------------------------------


@dataclass
class Crawl:
    """One finished crawl: its archive, its DEBUG log, its stats and exit status."""

    name: str
    database: Path
    log: str
    stdout: str
    returncode: int
    server_hits: Counter[str] = field(default_factory=Counter)
    killed: bool = False  # stopped by the test once its log proved the bug (see STOP_WHEN)

    @cached_property
    def stats(self) -> dict[str, int]:
        dump = self.log.rsplit("Dumping Scrapy stats:", 1)[-1]
        return {key: int(value) for key, value in re.findall(r"'([^']+)': (\d+)[,}]", dump)}

    def stat(self, key: str) -> int:
        return self.stats.get(key, 0)

    @cached_property
    def crawled(self) -> dict[str, list[int]]:
        """Every URL that got a response, with its statuses (one per attempt)."""
        found: dict[str, list[int]] = {}
        for status, url in re.findall(r"Crawled \((\d+)\) <GET (\S+)>", self.log):
            found.setdefault(url, []).append(int(status))
        return found

    @cached_property
    def sent(self) -> list[str]:
        """Every URL a request was sent for: answered, retried, given up or failed."""
        pattern = r"(?:Crawled \(\d+\)|Retrying|Gave up retrying|Error downloading) <GET (\S+)>"
        return re.findall(pattern, self.log) + list(self.redirects)

    @cached_property
    def redirects(self) -> dict[str, list[tuple[str, str]]]:
        """Redirects Scrapy followed (HTTP and meta refresh): from URL -> [(reason, to URL)]."""
        found: dict[str, list[tuple[str, str]]] = {}
        pattern = r"Redirecting \(([^)]*)\) to <GET (\S+)> from <GET (\S+)>"
        for reason, target, source in re.findall(pattern, self.log):
            found.setdefault(source, []).append((reason, target))
        return found

    def redirects_from(self, url: str) -> list[tuple[str, str]]:
        return self.redirects.get(url, [])

    def statuses(self, url: str) -> list[int]:
        return self.crawled.get(url, [])

    def query(self, sql: str, *args: object) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.database) as connection:
            return connection.execute(sql, args).fetchall()

    def article(self, url: str) -> dict[str, Any] | None:
        rows = self.query(
            "SELECT url, title, published_on, body, column_id FROM articles WHERE url = ?", url
        )
        assert len(rows) <= 1
        if not rows:
            return None
        keys = ("url", "title", "published_on", "body", "column_id")
        return dict(zip(keys, rows[0], strict=True))

    def captures(self, url: str) -> list[tuple[int, int, int | None]]:
        """(status, body length, article id) of each capture of `url`."""
        return self.query(
            "SELECT status, body_length, article_id FROM captures WHERE url = ? ORDER BY id", url
        )

    def hits(self, url: str) -> int:
        """Requests the hostile server received for `url`'s path and query."""
        parts = urlsplit(url)
        return self.server_hits[parts.path + (f"?{parts.query}" if parts.query else "")]


@dataclass
class Results:
    replay: Crawl
    gateway: Crawl
    pager_full: Crawl
    throttled: Crawl
    site: Path


# ---- the site copy and what is generated at test time ---------------------------------------


def build_site(base: Path) -> Path:
    """A copy of the hostile fixtures at `base/outside/site`, with sentinels beside it."""
    site = base / "outside" / "site"
    shutil.copytree(HOSTILE, site, symlinks=True, ignore=shutil.ignore_patterns("README.md"))
    host = site / "www.sc.gov.cn"
    sentinel = f"<html><head><title>{SENTINEL}</title></head><body><div class='contText'>"
    sentinel += f"<p>{SENTINEL}</p></div></body></html>\n"
    for folder in (base / "outside", base):  # where `..` from the copy would land
        (folder / "sentinel.shtml").write_text(sentinel, encoding="utf-8")
    symlink = host / article("traversal_symlink", 2, 18).removeprefix(SITE + "/")
    symlink.parent.mkdir(parents=True, exist_ok=True)
    symlink.symlink_to(base / "outside" / "sentinel.shtml")
    _write(host, article("huge_page_10mb", 1, 8), huge_page())
    _write(host, f"{SITE}{BULK}/index.shtml", bulk_list())
    _write(host, f"{SITE}{NEWS}/many_links.shtml", many_links())
    for hop in range(CHAIN_HOPS):  # the last hop's target is missing: a 404
        target = article(f"chain{hop + 1}", 4, 1)
        _write(host, article(f"chain{hop}", 4, 1), "<html><body>Moved</body></html>\n")
        sidecar = f'{{"status": 302, "headers": {{"Location": "{target}"}}}}\n'
        _write(host, article(f"chain{hop}", 4, 1) + ".meta.json", sidecar)
    return site


def _write(host: Path, url: str, text: str) -> None:
    target = host / url.removeprefix(SITE + "/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def control_page() -> str:
    return (
        HOSTILE / "www.sc.gov.cn" / article("control", 1, 2).removeprefix(SITE + "/")
    ).read_text(encoding="utf-8")


def huge_paragraph(number: int) -> str:
    sentence = "the provincial government reviewed progress on rural roads, water and schools. "
    return f"Paragraph {number} of the very long report: " + sentence * 12


HUGE_PARAGRAPHS = 10_000  # about 10 MB of page


def huge_page() -> str:
    """The control article with a 10 MB body (10,000 paragraphs of ~1 KB)."""
    html = control_page()
    start = html.index(">", html.index('<div class="view')) + 1
    end = html.index("</div>", start)
    body = "\n".join(f"<p>{huge_paragraph(n)}</p>" for n in range(HUGE_PARAGRAPHS))
    html = html[:start] + body + html[end:]
    replacements = {
        hexid("control"): hexid("huge_page_10mb"),
        "Hostile Case Control Page": "A Ten Megabyte Article",
        "2024.01.02": "2024.01.08",
        "2024-01-02": "2024-01-08",
        "/2024/1/2/": "/2024/1/8/",
    }
    for old, new in replacements.items():
        html = html.replace(old, new)
    return html


def bulk_urls() -> list[str]:
    return [article(f"bulk{n}", 1 + n % 12, 1 + n % 28, column=BULK) for n in range(BULK_LINKS)]


def bulk_list() -> str:
    items = "\n".join(
        f'<li><a href="{url.removeprefix(SITE)}">Bulk article {n}</a></li>'
        for n, url in enumerate(bulk_urls())
    )
    return html_page("Bulk", f"<ul>\n{items}\n</ul>")


def many_links() -> str:
    """5,000 links to the spam mirror and 5,000 spellings of one article's URL."""
    target = article("many_links_target", 2, 24).removeprefix(SITE)
    spellings = [target, SITE + target, "http://www.sc.gov.cn" + target, "//www.sc.gov.cn" + target]
    spellings.append(target.replace("/10758/", "//10758/"))
    anchors = []
    for n in range(MANY_LINKS // 2):
        mirror = f"{MIRROR}{NEWS}/2024/1/{1 + n % 28}/{hexid(f'mirror{n}')}.shtml"
        anchors.append(f'<a href="{mirror}">mirror {n}</a>')
        anchors.append(f'<a href="{spellings[n % len(spellings)]}">same article {n}</a>')
    return html_page("Many links", "\n".join(anchors))


# ---- the hostile server -------------------------------------------------------------------

SERVER_CASES: dict[str, tuple[int, Callable[[bytes], Behaviour]]] = {
    # name: (day in June 2024, behaviour given the article's bytes)
    "server_control": (1, page),
    "stall": (2, lambda body: stall()),
    "stall_mid_body": (3, stall_mid_body),
    "drip": (4, drip),
    "reset_mid_body": (5, reset_mid_body),
    "short_body": (6, short_body),
    "close_at_once": (7, lambda body: close_at_once()),
    "garbage_status_line": (
        8,
        lambda body: raw(b"HTTP/1.1 abc Nonsense\r\nContent-Length: 5\r\n\r\nhello"),
    ),
    "not_http": (9, lambda body: raw(b"SSH-2.0-OpenSSH_8.9\r\n")),
    "bad_chunked": (10, bad_chunked),
    "fake_gzip": (11, lambda body: page(body, headers={"Content-Encoding": "gzip"})),
    "declared_2gib": (12, lambda body: declared_huge(2**31)),
    "retry_after_then_ok": (
        13,
        lambda body: sequence(
            page(b"<html><body>busy</body></html>", 503, {"Retry-After": "1"}), page(body)
        ),
    ),
    "retry_after_always": (
        14,
        lambda body: page(b"<html><body>busy</body></html>", 503, {"Retry-After": "1"}),
    ),
    "huge_header": (15, lambda body: page(body, headers={"X-Junk": "a" * 200_000})),
}


def server_url(name: str) -> str:
    return article(name, 6, SERVER_CASES[name][0])


def server_article(name: str) -> bytes:
    """The control article re-dated and re-titled for a server case."""
    day = SERVER_CASES[name][0]
    html = control_page()
    for old, new in {
        hexid("control"): hexid(name),
        "Hostile Case Control Page": f"Server Case {name.replace('_', ' ').title()}",
        "2024.01.02": f"2024.06.{day:02d}",
        "2024-01-02": f"2024-06-{day:02d}",
        "/2024/1/2/": f"/2024/6/{day}/",
    }.items():
        html = html.replace(old, new)
    html = re.sub(r"\(item control (\d)\)", lambda m: marker(name, int(m[1])), html)
    return html.encode("utf-8")


def server_router() -> Callable[[str], Behaviour | None]:
    routes = {
        urlsplit(server_url(name)).path: make(server_article(name))
        for name, (_, make) in SERVER_CASES.items()
    }
    items = "".join(
        f'<li><a href="{urlsplit(server_url(name)).path}">{name}</a></li>' for name in SERVER_CASES
    )
    listing = html_page("News", f"<ul>{items}</ul>")
    routes[f"{NEWS}/index.shtml"] = page(listing.encode("utf-8"))
    busy = page(b"<html><body>busy</body></html>", 503, {"Retry-After": "1"})
    throttled = []
    for url in throttled_urls():
        routes[urlsplit(url).path] = sequence(busy, page(throttled_article(url)))
        throttled.append(f'<li><a href="{urlsplit(url).path}">{url[-20:]}</a></li>')
    listing = html_page("Throttled", f"<ul>{''.join(throttled)}</ul>")
    routes[f"{THROTTLED}/index.shtml"] = page(listing.encode("utf-8"))
    return routes.get


def throttled_urls() -> list[str]:
    return [article(f"throttled{n}", 7, n + 1, column=THROTTLED) for n in range(THROTTLED_ARTICLES)]


def throttled_article(url: str) -> bytes:
    """The control article as the n-th article of the throttled column."""
    n = throttled_urls().index(url)
    html = control_page()
    for old, new in {
        hexid("control"): hexid(f"throttled{n}"),
        "Hostile Case Control Page": f"Throttled Article {n}",
        "2024.01.02": f"2024.07.{n + 1:02d}",
        "2024-01-02": f"2024-07-{n + 1:02d}",
        "/2024/1/2/": f"/2024/7/{n + 1}/",
    }.items():
        html = html.replace(old, new)
    html = re.sub(r"\(item control (\d)\)", lambda m: marker(f"throttled{n}", int(m[1])), html)
    return html.encode("utf-8")


# ---- running them -------------------------------------------------------------------------


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVCRAWLER_")}
    env["PYTHONPATH"] = str(ROOT)
    return env


@dataclass
class _Running:
    name: str
    database: Path
    process: subprocess.Popen[bytes]
    out: Path
    err: Path
    stop_when: Callable[[str], bool] | None = None
    killed: bool = False

    def check(self) -> bool:
        """True once the process has ended (killed if its log shows enough of a bug)."""
        if self.process.poll() is not None:
            return True
        if self.stop_when and self.stop_when(self.err.read_text("utf-8", errors="replace")):
            self.process.kill()
            self.process.wait()
            self.killed = True
            return True
        return False

    def result(self, hits: Counter[str] | None = None) -> Crawl:
        return Crawl(
            self.name,
            self.database,
            self.err.read_text(encoding="utf-8", errors="replace"),
            self.out.read_text(encoding="utf-8", errors="replace"),
            self.process.returncode,
            Counter(hits or {}),
            self.killed,
        )


def wait_for(running: dict[str, _Running], names: set[str]) -> None:
    """Wait until the named crawls end, watching all of them meanwhile."""
    deadline = time.monotonic() + CRAWL_TIMEOUT  # a safety net, not an assertion
    while not all([crawl.check() for name, crawl in running.items() if name in names]):
        for crawl in running.values():
            crawl.check()
        if time.monotonic() > deadline:
            raise TimeoutError(f"crawls still running: {sorted(names)}")
        time.sleep(0.2)


def start(
    name: str,
    work: Path,
    command_for: Callable[[Path], list[str]],
    stop_when: Callable[[str], bool] | None = None,
) -> _Running:
    folder = work / name
    folder.mkdir()
    database = folder / "archive.sqlite3"
    out, err = folder / "stdout.txt", folder / "log.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            command_for(database), cwd=ROOT, env=_environment(), stdout=stdout, stderr=stderr
        )
    return _Running(name, database, process, out, err, stop_when)


def _commands(site: Path, origin: str) -> dict[str, Callable[[Path], list[str]]]:
    """The four crawls, by name: how to start each given its database."""
    return {
        "replay": lambda db: [
            *GOVCRAWLER,
            "crawl",
            *("--spider", "sc_open_governance"),
            "--replay",
            str(site),
            "--database",
            f"sqlite:///{db}",
            "--log-level",
            "DEBUG",
        ],
        "gateway": lambda db: scrapy_crawl(
            db,
            site,
            GOVCRAWLER_REPLAY_DIR="",  # no replay: the server answers
            GOVCRAWLER_GATEWAY=origin,
            GOVCRAWLER_START_URL=f"{SITE}{NEWS}/index.shtml",
            DOWNLOAD_TIMEOUT=2,
            **NO_DELAY,
        ),
        "throttled": lambda db: scrapy_crawl(
            db,
            site,
            GOVCRAWLER_REPLAY_DIR="",
            GOVCRAWLER_GATEWAY=origin,
            GOVCRAWLER_START_URL=f"{SITE}{THROTTLED}/index.shtml",
            GOVCRAWLER_SCOPE_PREFIXES=f"{THROTTLED}/",
            **NO_DELAY,
        ),
        "pager_full": lambda db: scrapy_crawl(
            db,
            site,
            GOVCRAWLER_FULL=True,
            GOVCRAWLER_START_URL=f"{SITE}{PAGER}/index.shtml",
            GOVCRAWLER_SCOPE_PREFIXES=f"{PAGER}/",  # the pager's column alone
            LOG_LEVEL="DEBUG",
        ),
    }


# A local server needs no politeness delay (replay drops it by itself).
NO_DELAY = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "LOG_LEVEL": "DEBUG",
}


def _numbered_pager_pages(log: str) -> int:
    return len(
        re.findall(rf"Crawled \(\d+\) <GET {re.escape(SITE + PAGER)}/index_\d+\.shtml>", log)
    )


# While the unbounded pager stands, the --full crawl schedules 99,999 requests (a minute of
# CPU); once its log shows more numbered pages than the bound, the point is made: stop it.
STOP_WHEN: dict[str, Callable[[str], bool]] = {
    "pager_full": lambda log: _numbered_pager_pages(log) > PAGER_BOUND
}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Results:
    """The four crawls, started side by side (together they take about as long as the replay
    crawl alone), the server kept up until the two crawls that use it are done."""
    base = tmp_path_factory.mktemp("hostile")
    site = build_site(base)
    work = base / "runs"
    work.mkdir()
    running: dict[str, _Running] = {}
    try:
        with HostileServer(server_router()) as server:
            for name, command_for in _commands(site, server.origin).items():
                running[name] = start(name, work, command_for, STOP_WHEN.get(name))
            wait_for(running, {"gateway", "throttled"})
            gateway = running["gateway"].result(server.hits)
            throttled = running["throttled"].result(server.hits)
        wait_for(running, set(running))
        return Results(
            running["replay"].result(), gateway, running["pager_full"].result(), throttled, site
        )
    finally:
        for crawl in running.values():
            if crawl.process.poll() is None:
                crawl.process.kill()
                crawl.process.wait()


# --------------------------------------------------------------------------------------------
# Outcome checks
# --------------------------------------------------------------------------------------------


def stored(
    crawl: Crawl,
    url: str,
    *,
    title: str,
    published_on: str,
    paragraphs: int,
    name: str | None = None,
    exact: list[str] | None = None,
) -> dict[str, Any]:
    """One row at `url` with this title and date, and the body's paragraphs complete."""
    row = crawl.article(url)
    assert row is not None, f"no article stored at {url}"
    assert row["title"] == title
    assert row["published_on"] == published_on
    body = row["body"].split("\n\n")
    if exact is not None:
        assert body == exact
    assert len(body) == paragraphs, body
    if name is not None:
        for number, text in enumerate(body, start=1):
            assert marker(name, number) in text, (number, text[:120])
    assert crawl.captures(url)[-1][0] == 200
    return row


def dropped(crawl: Crawl, url: str, reason: str) -> None:
    """No row; the response kept as a capture; the reason named in the log and the stats."""
    assert crawl.article(url) is None
    assert crawl.statuses(url) == [200]
    assert [(status, article) for status, _, article in crawl.captures(url)] == [(200, None)]
    assert f"no article extracted: {reason.replace('_', ' ')}: {url}" in crawl.log
    assert crawl.stat(f"govcrawler/dropped/{reason}") >= 1


def gone(crawl: Crawl, url: str, status: int) -> None:
    assert crawl.article(url) is None
    assert crawl.statuses(url) == [status]
    assert [capture[0] for capture in crawl.captures(url)] == [status]
    assert crawl.stat(f"govcrawler/gone/{status}") >= 1


def attempts(crawl: Crawl, url: str) -> int:
    """Requests sent for `url`: one, plus one per "Retrying" line (Scrapy logs "Crawled" only
    for the response that is finally kept)."""
    return 1 + crawl.log.count(f"Retrying <GET {url}> (failed")


def http_error(crawl: Crawl, url: str, status: int, tries: int) -> None:
    """A status the crawl does not handle: retried as Scrapy does, then dropped by status,
    counted and named in the log (by Scrapy's HttpError middleware or the spider's errback);
    the error page is never kept."""
    assert crawl.article(url) is None
    assert crawl.statuses(url) == [status]
    assert attempts(crawl, url) == tries
    if tries > 1:
        assert f"Gave up retrying <GET {url}> (failed {tries} times)" in crawl.log
    assert crawl.captures(url) == []
    named = (f"Ignoring response <{status} {url}>", f"dropped (HTTP {status}): {url}")
    assert any(line in crawl.log for line in named)
    assert dropped_by_status(crawl, status) >= 1


def dropped_by_status(crawl: Crawl, status: int) -> int:
    return crawl.stat(f"httperror/response_ignored_status_count/{status}") + crawl.stat(
        f"govcrawler/dropped/http_{status}"
    )


def blocked(crawl: Crawl, url: str, reason: str) -> None:
    """Dropped in the downloader: one request, one warning, never retried, nothing kept."""
    assert crawl.article(url) is None
    assert attempts(crawl, url) == 1
    assert crawl.log.count(f"blocked by the site ({reason}), not archived: {url}") == 1
    assert crawl.captures(url) == []
    assert crawl.stat(f"govcrawler/blocked/{reason}") >= 1


def never_requested(crawl: Crawl, *fragments: str) -> None:
    for url in crawl.sent:
        assert not any(fragment in url for fragment in fragments), url


def traversal(crawl: Crawl, linked: str, allowed: set[int]) -> None:
    """A traversal link: never requested, or answered without reading outside the copy: a
    400 from replay's refusal (counted `replay/refused`) or, for `allowed` 404, a plain miss."""
    target = unquote(linked).lower()
    requested = [url for url in crawl.crawled if unquote(url).lower().rstrip("=") == target]
    for url in requested:
        statuses = crawl.statuses(url)
        assert len(statuses) == 1 and statuses[0] in allowed, (url, statuses)
        if statuses == [400]:
            assert f"replay refused a path outside the copy: {url}" in crawl.log
        assert crawl.captures(url) == [] and crawl.article(url) is None
    assert all(urlsplit(url).path != "/sentinel.shtml" for url in crawl.sent)


def download_failed(crawl: Crawl, url: str, tries: int) -> None:
    """A response that never arrived whole: retried, given up, counted, named in one log
    line; nothing stored."""
    assert crawl.hits(url) == tries
    assert attempts(crawl, url) == tries
    assert crawl.article(url) is None
    assert crawl.captures(url) == []
    assert url not in crawl.crawled
    if tries > 1:
        assert f"Gave up retrying <GET {url}> (failed {tries} times)" in crawl.log
    assert failure_named(crawl, url)


def failure_named(crawl: Crawl, url: str) -> bool:
    """The failure of `url` named in the log: by Scrapy ("Error downloading <GET url>") or by
    the spider's errback ("request failed (<exception>): url")."""
    line = rf"Error downloading <GET {re.escape(url)}>|request failed \([^)]*\): {re.escape(url)}$"
    return re.search(line, crawl.log, re.MULTILINE) is not None


# --------------------------------------------------------------------------------------------
# The cases
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    url: str
    wrong: str
    outcome: str
    check: Callable[[Results], None]
    bug: str | None = None  # an open bug: the case is xfail(strict=True) until it is fixed
    fixed: str | None = None  # a bug this case found that has since been fixed (kept as record)


CASES: dict[str, Case] = {}


def case(
    case_id: str,
    url: str,
    wrong: str,
    outcome: str,
    bug: str | None = None,
    fixed: str | None = None,
) -> Callable[[Callable[[Results], None]], Callable[[Results], None]]:
    def register(check: Callable[[Results], None]) -> Callable[[Results], None]:
        assert case_id not in CASES
        CASES[case_id] = Case(case_id, url, wrong, outcome, check, bug, fixed)
        return check

    return register


# ---- markup ---------------------------------------------------------------------------------


@case(
    "control",
    article("control", 1, 2),
    "Nothing: a clean Generation-B article.",
    "Stored: title, date 2024-01-02, 4 paragraphs.",
)
def _(r: Results) -> None:
    stored(
        r.replay,
        article("control", 1, 2),
        title="Hostile Case Control Page",
        published_on="2024-01-02",
        paragraphs=4,
        name="control",
    )


@case(
    "malformed_html",
    article("malformed_html", 1, 3),
    "Unquoted and broken attributes, unclosed `<p>`, mis-nested `<b><i>`, stray "
    "`</div></div></span></td>` and `</font>` inside the body.",
    "Stored: all 4 paragraphs, in order.",
)
def _(r: Results) -> None:
    stored(
        r.replay,
        article("malformed_html", 1, 3),
        title="Malformed Markup Does Not Stop the Archive",
        published_on="2024-01-03",
        paragraphs=4,
        name="malformed_html",
    )


@case(
    "truncated_html",
    article("truncated_html", 1, 4),
    "The response stops in the middle of the 3rd paragraph (no closing tags, no footer).",
    "Stored with the 2 complete paragraphs only; the cut one is not stored.",
)
def _(r: Results) -> None:
    row = stored(
        r.replay,
        article("truncated_html", 1, 4),
        title="Truncated Page Keeps Only Whole Paragraphs",
        published_on="2024-01-04",
        paragraphs=2,
        name="truncated_html",
    )
    assert marker("truncated_html", 3) not in row["body"]


@case(
    "two_html_closes",
    article("two_html_closes", 1, 5),
    "`</body></html>` twice at the end, with a comment and a stray `<div>` between them.",
    "Stored: 4 paragraphs; nothing after the first `</html>` reaches the body.",
)
def _(r: Results) -> None:
    row = stored(
        r.replay,
        article("two_html_closes", 1, 5),
        title="Page With Two Closing HTML Tags",
        published_on="2024-01-05",
        paragraphs=4,
        name="two_html_closes",
    )
    assert "visits" not in row["body"]


@case(
    "html_close_mid_body",
    article("html_close_mid_body", 1, 28),
    "A `</body></html>` between the 2nd and 3rd paragraph of the body container (a CMS include), "
    "another at the end.",
    "Stored with all 4 paragraphs, as a browser shows them (HTML5 ignores a stray `</html>`).",
    fixed="govcrawler/extract/article.py:57 parses with lxml's libxml2 HTML parser (parsel), which "
    "ends the container at the first </html>: paragraphs 3-4 are silently lost and a 2-paragraph "
    "row is stored. Parse as HTML5 does (e.g. lxml.html.html5parser / html5-parser), or drop "
    "stray </body></html> before parsing",
)
def _(r: Results) -> None:
    stored(
        r.replay,
        article("html_close_mid_body", 1, 28),
        title="Page Closed Twice, Once Mid-Body",
        published_on="2024-01-28",
        paragraphs=4,
        name="html_close_mid_body",
    )


@case(
    "nested_tables_500",
    article("nested_tables_500", 1, 6),
    "The body paragraphs sit inside 500 nested `<table><tr><td>`.",
    "Stored: 4 paragraphs.",
)
def _(r: Results) -> None:
    stored(
        r.replay,
        article("nested_tables_500", 1, 6),
        title="Body Inside 500 Nested Tables",
        published_on="2024-01-06",
        paragraphs=4,
        name="nested_tables_500",
    )


@case(
    "nested_tables_5000",
    article("nested_tables_5000", 1, 7),
    "5,000 nested tables (15,000 levels): beyond libxml2's nesting limit.",
    "Dropped `missing_body` (named in log and stats); the raw response is kept as a capture, no "
    "row, no crash.",
)
def _(r: Results) -> None:
    url = article("nested_tables_5000", 1, 7)
    dropped(r.replay, url, "missing_body")
    assert r.replay.captures(url)[0][1] > 150_000  # the whole page was kept


@case(
    "huge_page_10mb",
    article("huge_page_10mb", 1, 8),
    "A 10 MB article page (10,000 paragraphs), generated at test time.",
    "Stored whole: every paragraph, the capture holds all the bytes; memory stays sane.",
)
def _(r: Results) -> None:
    url = article("huge_page_10mb", 1, 8)
    row = r.replay.article(url)
    assert row is not None
    assert (row["title"], row["published_on"]) == ("A Ten Megabyte Article", "2024-01-08")
    body = row["body"].split("\n\n")
    assert len(body) == HUGE_PARAGRAPHS
    assert (
        body[0] == huge_paragraph(0).strip()
        and body[-1] == huge_paragraph(HUGE_PARAGRAPHS - 1).strip()
    )
    assert r.replay.captures(url)[0][1] == len(huge_page().encode("utf-8")) >= 9_900_000


@case(
    "empty_body",
    article("empty_body", 1, 9),
    "200 with a 0-byte body.",
    "Dropped `empty_page`; the empty capture kept.",
)
def _(r: Results) -> None:
    url = article("empty_body", 1, 9)
    dropped(r.replay, url, "empty_page")
    assert r.replay.captures(url)[0][1] == 0


@case(
    "binary_as_html",
    article("binary_as_html", 1, 10),
    "16 KB of random bytes (NULs included, a PNG signature first) served as `text/html`.",
    "Dropped `missing_title`; capture kept; no crash.",
)
def _(r: Results) -> None:
    dropped(r.replay, article("binary_as_html", 1, 10), "missing_title")


# ---- encodings -----------------------------------------------------------------------------

GBK_PARAGRAPHS = {
    "gbk_labelled_utf8": [
        "省政府常务会议研究部署冬季能源保供工作，要求确保群众温暖过冬。",
        "会议指出，各地要加强天然气和电力调度，保障重点企业用能需求。",
        "会议强调，要抓好安全生产，严防重特大事故发生。",
    ],
    "no_charset_gbk": [
        "成都市举办国际美食节，吸引数十万市民和游客参加。",
        "活动期间，川菜名厨现场展示传统烹饪技艺，并推出多款新菜品。",
        "主办方表示，美食节将推动餐饮消费和文旅融合发展。",
    ],
}


@case(
    "gbk_labelled_utf8",
    article("gbk_labelled_utf8", 1, 11),
    "GBK bytes; header and `<meta>` both say `charset=utf-8`.",
    "Stored with the Chinese title and body decoded correctly (GB18030 rescue, counted under "
    "`govcrawler/encoding/corrected/…`).",
)
def _(r: Results) -> None:
    stored(
        r.replay,
        article("gbk_labelled_utf8", 1, 11),
        title="省政府常务会议部署冬季能源保供工作",
        published_on="2024-01-11",
        paragraphs=3,
        exact=GBK_PARAGRAPHS["gbk_labelled_utf8"],
    )
    assert r.replay.stat("govcrawler/encoding/corrected/utf-8->gb18030") >= 1


@case(
    "no_charset_gbk",
    article("no_charset_gbk", 1, 12),
    "GBK bytes, no charset in the header nor in the page.",
    "Stored with the Chinese text decoded correctly.",
)
def _(r: Results) -> None:
    stored(
        r.replay,
        article("no_charset_gbk", 1, 12),
        title="成都国际美食节开幕",
        published_on="2024-01-12",
        paragraphs=3,
        exact=GBK_PARAGRAPHS["no_charset_gbk"],
    )


def _utf8_case(r: Results, name: str, day: int, title: str) -> None:
    row = stored(
        r.replay,
        article(name, 1, day),
        title=title,
        published_on=f"2024-01-{day:02d}",
        paragraphs=4,
        name=name,
    )
    assert "The People’s Park of Chengdu (成都人民公园) was mentioned." in row["body"]
    assert "\ufeff" not in row["title"] + row["body"] and "\ufffd" not in row["body"]


@case(
    "utf8_labelled_gbk",
    article("utf8_labelled_gbk", 1, 13),
    "UTF-8 bytes (curly apostrophes, Chinese); header and `<meta>` say `charset=gbk`.",
    "Stored with the UTF-8 text intact.",
)
def _(r: Results) -> None:
    _utf8_case(r, "utf8_labelled_gbk", 13, "Sichuan’s UTF-8 Page Labelled GBK (四川)")


@case(
    "utf8_bom",
    article("utf8_bom", 1, 14),
    "A UTF-8 byte order mark before `<!DOCTYPE>`; no charset in the header.",
    "Stored; no U+FEFF in title or body.",
)
def _(r: Results) -> None:
    _utf8_case(r, "utf8_bom", 14, "Sichuan’s Page With a Byte Order Mark (四川)")


@case(
    "utf8_bom_labelled_gbk",
    article("utf8_bom_labelled_gbk", 1, 15),
    "UTF-8 with a BOM, while header and `<meta>` say `charset=gbk`.",
    "Stored as UTF-8 (the BOM wins).",
)
def _(r: Results) -> None:
    _utf8_case(r, "utf8_bom_labelled_gbk", 15, "Sichuan’s BOM Page Labelled GBK (四川)")


@case(
    "no_charset_utf8",
    article("no_charset_utf8", 1, 16),
    "UTF-8 bytes, no charset anywhere.",
    "Stored with the UTF-8 text intact.",
)
def _(r: Results) -> None:
    _utf8_case(r, "no_charset_utf8", 16, "Sichuan’s UTF-8 Page Without Charset (四川)")


@case(
    "bogus_charset",
    article("bogus_charset", 1, 17),
    "Header and `<meta>` declare `charset=x-no-such-charset`; the bytes are UTF-8.",
    "Stored with the UTF-8 text intact; no LookupError.",
)
def _(r: Results) -> None:
    _utf8_case(r, "bogus_charset", 17, "Sichuan’s Page With a Bogus Charset (四川)")


@case(
    "utf8_stray_byte",
    article("utf8_stray_byte", 1, 18),
    "A UTF-8 page (declared so in header and `<meta>`) with curly apostrophes and ONE stray byte "
    "0xA0 (a cp1252 no-break space pasted in).",
    "Stored as UTF-8: `Sichuan’s`, `People’s` intact, the stray byte replaced or dropped; never "
    "mojibake.",
    fixed="govcrawler/extract/encoding.py:29: one invalid byte in a page declared and otherwise "
    "valid UTF-8 made page_text re-decode the WHOLE page as gb18030, which succeeds, so every ’ "
    "became 鈥 (stored 'Sichuan鈥檚'). 933b63c's first guard (bad * 10 <= decoded non-ASCII "
    "characters) still failed here, an English page having few of those (6 curly apostrophes); "
    "ab48251 judges on the bytes (bad * 4 <= non-ASCII bytes - bad)",
)
def _(r: Results) -> None:
    row = stored(
        r.replay,
        article("utf8_stray_byte", 1, 18),
        title="Sichuan’s Page With One Stray Byte",
        published_on="2024-01-18",
        paragraphs=4,
    )
    assert "Sichuan’s provincial government and the People’s Congress met on Monday." in row["body"]
    assert "鈥" not in row["title"] + row["body"]


# ---- meta refresh and redirects -------------------------------------------------------------


@case(
    "refresh_self_list",
    f"{SITE}{NEWS}/refresh_self.shtml",
    'A list page with `<meta http-equiv=refresh content="60;url=refresh_self.shtml">` (reloads '
    "itself every minute); it links one article.",
    "Parsed like any list page (a reload is not a redirect): its article is stored.",
    fixed="Scrapy's MetaRefreshMiddleware (enabled by default, not configured in "
    "govcrawler/settings.py:125 DOWNLOADER_MIDDLEWARES) turns a page that refreshes to itself "
    "into a redirect to itself, which the dupefilter drops: the page is never parsed and "
    "everything it links is lost, counted only as dupefilter/filtered. Ignore a meta refresh "
    "whose target is the page itself (or disable METAREFRESH and treat pages as content)",
)
def _(r: Results) -> None:
    assert r.replay.statuses(f"{SITE}{NEWS}/refresh_self.shtml") == [200]
    stored(
        r.replay,
        article("refresh_self_target", 1, 19),
        title="Hostile Case Refresh Self Target Page",
        published_on="2024-01-19",
        paragraphs=4,
        name="refresh_self_target",
    )


@case(
    "refresh_pair_list",
    f"{SITE}{NEWS}/refresh_a.shtml",
    "Two list pages refreshing to each other after 0 s (A → B → A).",
    "The loop is cut: A and B fetched once each, the crawl goes on. (Neither page is parsed: both "
    "are replaced by their refresh.)",
)
def _(r: Results) -> None:
    a, b = f"{SITE}{NEWS}/refresh_a.shtml", f"{SITE}{NEWS}/refresh_b.shtml"
    assert r.replay.redirects_from(a) == [("meta refresh", b)]
    assert r.replay.redirects_from(b) == [("meta refresh", a)]
    assert a not in r.replay.crawled and b not in r.replay.crawled


@case(
    "refresh_article_partner",
    article("refresh_article_partner", 1, 21),
    "An article URL whose page is only a `<meta refresh>` to a partner article, which refreshes "
    "back.",
    "Dropped `missing_title` (article requests never follow redirects blindly); the partner is "
    "not requested.",
)
def _(r: Results) -> None:
    dropped(r.replay, article("refresh_article_partner", 1, 21), "missing_title")
    never_requested(r.replay, hexid("refresh_article_partner_b"))


@case(
    "redirect_loop_articles",
    article("redirect_loop_articles", 1, 23),
    "Article A answers 302 → article B, B answers 302 → A (sidecars).",
    "Each requested once, both 302s kept as captures, no row; the loop ends.",
)
def _(r: Results) -> None:
    for url in (
        article("redirect_loop_articles", 1, 23),
        article("redirect_loop_articles_b", 1, 24),
    ):
        assert r.replay.statuses(url) == [302]
        assert [c[0] for c in r.replay.captures(url)] == [302]
        assert r.replay.article(url) is None


@case(
    "redirect_loop_lists",
    f"{SITE}{NEWS}/loop_a.shtml",
    "List A 302 → B, B 301 → `http://` A.",
    "The loop ends: A and B fetched once each.",
)
def _(r: Results) -> None:
    a, b = f"{SITE}{NEWS}/loop_a.shtml", f"{SITE}{NEWS}/loop_b.shtml"
    assert r.replay.redirects_from(a) == [("302", b)]
    assert r.replay.redirects_from(b) == [("301", a.replace("https://", "http://"))]
    assert r.replay.stat("govcrawler/rewritten/https") >= 1  # then the dupefilter ends it


@case(
    "redirect_chain",
    article("chain0", 4, 1),
    f"{CHAIN_HOPS} article redirects in a row, each to a new article URL (generated at test time).",
    f"Followed at most {MAX_REDIRECTS} times (Scrapy's REDIRECT_MAX_TIMES), then counted as a "
    "redirect failure.",
    fixed="govcrawler/spiders/sc_open_governance.py:198-207 (_follow_redirect) re-requests each "
    "article redirect target with a fresh request: no hop count, no REDIRECT_MAX_TIMES, so a "
    "server minting new URLs leads the crawl on forever (all 30 hops and the final 404 here). "
    "Carry redirect_times/redirect_urls in meta and stop (counted) past the limit",
)
def _(r: Results) -> None:
    hops = [url for url in r.replay.crawled if urlsplit(url).path.startswith(f"{NEWS}/2024/4/1/")]
    assert 1 <= len(hops) <= MAX_REDIRECTS + 1
    assert all([c[0] for c in r.replay.captures(url)] == [302] for url in hops)
    assert r.replay.query(
        "SELECT COUNT(*) FROM articles WHERE url LIKE ?", f"{SITE}{NEWS}/2024/4/1/%"
    ) == [(0,)]
    stopped = [k for k in r.replay.stats if k.startswith("govcrawler/") and "redirect_limit" in k]
    assert stopped and all(r.replay.stat(k) == 1 for k in stopped), r.replay.stats


@case(
    "redirect_offsite_article",
    article("redirect_offsite_article", 1, 25),
    "Article answers 302 → `https://www.example.com/landing`.",
    "Not followed; counted `govcrawler/refused/offsite_redirect`; the 302 kept as a capture.",
)
def _(r: Results) -> None:
    url = article("redirect_offsite_article", 1, 25)
    assert [c[0] for c in r.replay.captures(url)] == [302]
    never_requested(r.replay, "example.com")
    assert r.replay.stat("govcrawler/refused/offsite_redirect") == 1


@case(
    "redirect_mirror_list",
    f"{SITE}{NEWS}/mirror_list.shtml",
    "List page answers 301 → the spam mirror `www.sc-gov-cn.mirror-news.top`.",
    "The mirror is never requested; the refusal is counted.",
)
def _(r: Results) -> None:
    assert r.replay.redirects_from(f"{SITE}{NEWS}/mirror_list.shtml") == [
        ("301", "http://www.sc-gov-cn.mirror-news.top/10462/10758/10760/10765/index.shtml")
    ]
    never_requested(r.replay, "mirror-news.top")
    assert "Filtered offsite request to 'www.sc-gov-cn.mirror-news.top'" in r.replay.log
    assert r.replay.stat("offsite/filtered") + r.replay.stat("govcrawler/refused/offsite") >= 2


@case(
    "redirect_metadata_ip",
    f"{SITE}{NEWS}/metadata.shtml",
    "List page answers 302 → `http://169.254.169.254/latest/meta-data/` (cloud metadata address).",
    "Never requested; the refusal is counted.",
)
def _(r: Results) -> None:
    never_requested(r.replay, "169.254.169.254")
    assert "Filtered offsite request to '169.254.169.254'" in r.replay.log


@case(
    "redirect_http_same_site",
    article("redirect_http_same_site", 1, 26),
    "Article answers 301 → `http://www.sc.gov.cn/10462//10758/…` (another article, http, doubled "
    "slash).",
    "Followed once to the canonical `https://` URL; that article stored; the 301 kept as a "
    "capture.",
)
def _(r: Results) -> None:
    assert [c[0] for c in r.replay.captures(article("redirect_http_same_site", 1, 26))] == [301]
    stored(
        r.replay,
        article("redirect_http_same_site_target", 1, 27),
        title="Hostile Case Redirect Http Same Site Target Page",
        published_on="2024-01-27",
        paragraphs=4,
        name="redirect_http_same_site_target",
    )
    never_requested(r.replay, "http://www.sc.gov.cn/")


# ---- statuses ------------------------------------------------------------------------------


@case(
    "http_404",
    article("http_404", 2, 1),
    "Linked, but no file: replay answers 404.",
    "`gone/404`, the 404 kept as a capture, no row.",
)
def _(r: Results) -> None:
    gone(r.replay, article("http_404", 2, 1), 404)


@case(
    "http_410",
    article("http_410", 2, 2),
    "Sidecar status 410.",
    "`gone/410`, capture kept, no row.",
)
def _(r: Results) -> None:
    gone(r.replay, article("http_410", 2, 2), 410)


@case(
    "http_500",
    article("http_500", 2, 3),
    "Sidecar status 500.",
    "Retried twice (3 attempts), then dropped by status (`govcrawler/dropped/http_500`); the "
    "error page never stored.",
)
def _(r: Results) -> None:
    http_error(r.replay, article("http_500", 2, 3), 500, tries=3)


@case(
    "http_503_retry_after",
    article("http_503_retry_after", 2, 4),
    "Sidecar 503 with `Retry-After: 1`, every time.",
    "Waited out and retried twice (3 attempts), then given up and dropped by status "
    "(`govcrawler/dropped/http_503`); counted under `govcrawler/politeness/retry_after`.",
)
def _(r: Results) -> None:
    url = article("http_503_retry_after", 2, 4)
    http_error(r.replay, url, 503, tries=3)
    assert f"Gave up retrying <GET {url}> (failed 3 times): retry_after_503" in r.replay.log


@case(
    "retry_after_too_long",
    article("retry_after_too_long", 2, 5),
    "503 with `Retry-After: 86400`.",
    "Blocked `retry_after_too_long`: not retried, not stored.",
)
def _(r: Results) -> None:
    blocked(r.replay, article("retry_after_too_long", 2, 5), "retry_after_too_long")


@case(
    "challenge_412",
    article("challenge_412", 2, 6),
    "412 with `Set-Cookie` and a tiny `document.cookie` + `location.href` script.",
    "Blocked `http_412`: not retried, no capture, no row; the run exits 5.",
)
def _(r: Results) -> None:
    blocked(r.replay, article("challenge_412", 2, 6), "http_412")


@case(
    "challenge_200",
    article("challenge_200", 2, 7),
    "The same challenge script served with status 200.",
    "Blocked `challenge_page`.",
)
def _(r: Results) -> None:
    blocked(r.replay, article("challenge_200", 2, 7), "challenge_page")


# ---- fields ---------------------------------------------------------------------------------


@case(
    "missing_date",
    article("missing_date", 2, 8),
    "No `Updated:` line, no `PubDate` meta.",
    "Stored with the URL date, 2024-02-08 (not counted as a page-given date).",
)
def _(r: Results) -> None:
    stored(
        r.replay,
        article("missing_date", 2, 8),
        title="Hostile Case Missing Date Page",
        published_on="2024-02-08",
        paragraphs=4,
        name="missing_date",
    )


@case(
    "future_date",
    article("future_date", 2, 9),
    "`Updated:2031.05.01` and `PubDate` 2031-05-01 on a 2024 URL.",
    "Stored as published: 2031-05-01 (the page's own date wins; a future date is kept, not "
    "corrected).",
)
def _(r: Results) -> None:
    stored(
        r.replay,
        article("future_date", 2, 9),
        title="Hostile Case Future Date Page",
        published_on="2031-05-01",
        paragraphs=4,
        name="future_date",
    )


@case(
    "invalid_date",
    article("invalid_date", 2, 10),
    "`Updated:2024.02.30` and `PubDate` `2024-13-45 25:61:00`.",
    "Stored with the URL date 2024-02-10; no ValueError.",
)
def _(r: Results) -> None:
    stored(
        r.replay,
        article("invalid_date", 2, 10),
        title="Hostile Case Invalid Date Page",
        published_on="2024-02-10",
        paragraphs=4,
        name="invalid_date",
    )


def long_title() -> str:
    html = (
        HOSTILE / "www.sc.gov.cn" / article("long_title_5000", 2, 11).removeprefix(SITE + "/")
    ).read_text("utf-8")
    found = re.search(r'<meta name="ArticleTitle" content="([^"]*)">', html)
    assert found is not None
    return found[1]


@case(
    "long_title_5000",
    article("long_title_5000", 2, 11),
    "A 5,000-character headline (h2 and `ArticleTitle`).",
    "Stored with the whole 5,000-character title.",
)
def _(r: Results) -> None:
    title = long_title()
    assert len(title) == 5000
    stored(
        r.replay,
        article("long_title_5000", 2, 11),
        title=title,
        published_on="2024-02-11",
        paragraphs=4,
        name="long_title_5000",
    )


@case(
    "script_style_in_body",
    article("script_style_in_body", 2, 12),
    "`<script>`, `<style>`, an inline `<script>` inside a paragraph and a `<noscript>` inside the "
    "body container.",
    "Stored: 4 paragraphs; no script, style or noscript text.",
)
def _(r: Results) -> None:
    row = stored(
        r.replay,
        article("script_style_in_body", 2, 12),
        title="Hostile Case Script Style In Body Page",
        published_on="2024-02-12",
        paragraphs=4,
        name="script_style_in_body",
    )
    for leak in ("HOSTILE_", "SCRIPTTEXT", "document.write", "color: red", "enable JavaScript"):
        assert leak not in row["body"]


INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"


@case(
    "entities_zero_width_title",
    article("entities_zero_width_title", 2, 13),
    "Title with `&#8217;`, `&quot;`, `&amp;`, `&shy;`, `&#x4E2D;`, `&nbsp;` and U+200B/C/D, "
    "U+2060, U+FEFF; zero-width characters in the body.",
    'Stored with entities decoded and invisible characters removed: `Sichuan’s "Tianfu" Plan & '
    "Chengdu Expo 中国 Opens`.",
)
def _(r: Results) -> None:
    row = stored(
        r.replay,
        article("entities_zero_width_title", 2, 13),
        title='Sichuan’s "Tianfu" Plan & Chengdu Expo 中国 Opens',
        published_on="2024-02-13",
        paragraphs=4,
        name="entities_zero_width_title",
    )
    assert row["body"].startswith("Zerowidth characters and the & entity — in the body too.")
    assert not set(INVISIBLE) & set(row["title"] + row["body"])


@case(
    "escaped_markup_in_text",
    article("escaped_markup_in_text", 2, 27),
    "Escaped angle brackets in the text: title `Exports Grew &lt;1% While Imports Rose &gt;2%`, "
    "paragraphs with `&lt;1%`, `&gt;2%`, `&lt;&lt;Sichuan Daily&gt;&gt;`, `&amp;lt;p&amp;gt;`, "
    "`&lt;Chengdu&gt;`.",
    "Stored as the page reads: title `Exports Grew <1% While Imports Rose >2%`, all 4 paragraphs "
    "with `<1%`, `<<Sichuan Daily>>`, `&lt;p&gt;`, `<Chengdu>` as text.",
    fixed="govcrawler/extract/article.py:103-107 and text.py:119: strip_boilerplate runs "
    "clean_text (remove_tags + replace_entities) a second time on text already decoded, so '<1% … "
    ">2%' or '<<Sichuan Daily>>' look like tags and '&lt;' is decoded twice; the cleaned text no "
    "longer equals the block, 'text in kept' fails and the WHOLE PARAGRAPH is silently dropped (2 "
    "of 4 here). article.py:125 (_meta) does the same to the ArticleTitle attribute, so the "
    "stored title loses '<1% While Imports Rose >'. Clean markup once; judge boilerplate on plain "
    "text",
)
def _(r: Results) -> None:
    row = stored(
        r.replay,
        article("escaped_markup_in_text", 2, 27),
        title="Exports Grew <1% While Imports Rose >2%",
        published_on="2024-02-27",
        paragraphs=4,
        name="escaped_markup_in_text",
    )
    for text in (
        "exports growing <1% and imports >2%",
        "<<Sichuan Daily>>",
        "&lt;p&gt;",
        "<Chengdu>",
    ):
        assert text in row["body"]


@case(
    "invisible_title",
    article("invisible_title", 2, 14),
    "Headline, `ArticleTitle` and `<title>` hold only `&nbsp;`, `&#8203;`, U+200B/C, U+2060.",
    "Dropped `missing_title`: never a row with an empty or invisible title.",
)
def _(r: Results) -> None:
    dropped(r.replay, article("invisible_title", 2, 14), "missing_title")


@case(
    "images_only",
    article("images_only", 2, 15),
    "The body holds 4 `<img>` and no text.",
    "Dropped `missing_body` (capture kept, so the images' page is not lost).",
)
def _(r: Results) -> None:
    dropped(r.replay, article("images_only", 2, 15), "missing_body")


@case(
    "footer_only",
    article("footer_only", 2, 16),
    "The body holds only footer lines (2022, 2017 and Chinese variants), `Share to:`, `Print | "
    "Close`.",
    "Dropped `missing_body`.",
)
def _(r: Results) -> None:
    dropped(r.replay, article("footer_only", 2, 16), "missing_body")


# ---- traversal ------------------------------------------------------------------------------

TRAVERSALS = {
    "traversal_dotdot": (f"{NEWS}/" + "../" * 6 + "sentinel.shtml", "Plain `../` ×6."),
    "traversal_pct2e": (f"{NEWS}/" + "%2e%2e/" * 6 + "sentinel.shtml", "`%2e%2e/` ×6."),
    "traversal_pct2f": (f"{NEWS}/" + "..%2f" * 6 + "sentinel.shtml", "`..%2f` ×6 (encoded slash)."),
    "traversal_upper": (f"{NEWS}/" + "%2E%2E%2F" * 7 + "sentinel.shtml", "`%2E%2E%2F` ×7."),
    "traversal_backslash": (
        f"{NEWS}/" + "..%5c" * 7 + "sentinel.shtml",
        "`..%5c` ×7 (encoded backslash).",
    ),
    "traversal_article_folder": (
        f"{NEWS}/2024/2/17/" + "..%2F" * 9 + "sentinel.shtml",
        "`..%2F` ×9 from an article folder.",
    ),
    "traversal_query": (
        f"{NEWS}/index.shtml?/../../../../../../sentinel.shtml",
        "`../` in the query string.",
    ),
}


def _traversal_check(path: str) -> Callable[[Results], None]:
    allowed = {400, 404} if "?" in path else {400}
    return lambda r: traversal(r.replay, SITE + path, allowed)


for _name, (_path, _wrong) in TRAVERSALS.items():
    case(
        _name,
        SITE + _path,
        f"A list link to the sentinel outside the copy: {_wrong}",
        "Never reads outside the replay directory: folded to an out-of-scope URL and not "
        "requested, or refused by replay (400, `replay/refused`); the query one is a plain 404.",
    )(_traversal_check(_path))


@case(
    "traversal_symlink",
    article("traversal_symlink", 2, 18),
    "An article path that is a symlink (made at test time) to the sentinel outside the copy.",
    "Refused by replay (400, `replay/refused`): the link target is never read.",
)
def _(r: Results) -> None:
    url = article("traversal_symlink", 2, 18)
    assert r.replay.statuses(url) == [400]
    assert f"replay refused a path outside the copy: {url}" in r.replay.log
    assert r.replay.article(url) is None


# ---- links and URLs ------------------------------------------------------------------------

QUERY_VARIANTS = [
    "?a=1",
    "?utm_source=x",
    "?utm_source=wechat&utm_medium=social",
    "?from=timeline&isappinstalled=0",
    "?_=1700000000000",
    "?a=1#top",
]


@case(
    "self_links_query",
    article("self_links_query", 2, 19),
    "The list (and the article itself) link the article under 6 query strings (`?a=1`, "
    "`?utm_source=x`, …); the copy answers each with the same page, as a static server does.",
    "One article, one request: stored once under its plain URL; no query-string URL requested, "
    "aliased or captured.",
    fixed="govcrawler/extract/urls.py:88 canonical_url keeps the query string, and article_ref "
    "(urls.py:104) ignores it, so each ?utm_source=… spelling of a static .shtml article is "
    "requested, captured and kept as an alias; the first to arrive even becomes the article's URL "
    "(here 'https://…shtml?a=1'). Drop the query of article URLs (or at least tracking "
    "parameters) when canonicalising",
)
def _(r: Results) -> None:
    url = article("self_links_query", 2, 19)
    stored(
        r.replay,
        url,
        title="Hostile Case Self Links Query Page",
        published_on="2024-02-19",
        paragraphs=4,
        name="self_links_query",
    )
    requested = [u for u in r.replay.crawled if hexid("self_links_query") in u]
    assert requested == [url]
    assert (
        r.replay.query(
            "SELECT url FROM article_alias WHERE url LIKE ?", f"%{hexid('self_links_query')}%"
        )
        == []
    )


@case(
    "bad_schemes",
    f"{SITE}{NEWS}/index.shtml",
    "The list links `javascript:`, `JaVaScRiPt:`, `mailto:`, `data:`, `tel:`, "
    "`file:///etc/passwd`, `ftp://www.sc.gov.cn/…`, `vbscript:`, `about:blank`, `ws://`.",
    "None requested; no crash.",
)
def _(r: Results) -> None:
    assert all(url.startswith("https://") for url in r.replay.sent)
    never_requested(
        r.replay, "etc/passwd", "javascript", "mailto", "vbscript", "about:", "data:", "/socket"
    )


@case(
    "many_links",
    f"{SITE}{NEWS}/many_links.shtml",
    f"One page with {MANY_LINKS:,} links (generated): half to the spam mirror, half five "
    "spellings of one article URL (relative, https, http, protocol-relative, doubled slash).",
    "The mirror never requested (counted `govcrawler/links/offsite`); the article requested once "
    "and stored once.",
)
def _(r: Results) -> None:
    url = article("many_links_target", 2, 24)
    assert r.replay.statuses(url) == [200]
    stored(
        r.replay,
        url,
        title="Hostile Case Many Links Target Page",
        published_on="2024-02-24",
        paragraphs=4,
        name="many_links_target",
    )
    assert r.replay.stat("govcrawler/links/offsite") >= MANY_LINKS // 2
    never_requested(r.replay, "mirror-news.top")


@case(
    "base_href_mirror",
    f"{SITE}{NEWS}/base_href.shtml",
    "A list page with `<base "
    'href="https://www.sc-gov-cn.mirror-news.top/10462/10758/10760/10765/">` and a relative '
    "article link.",
    "The link resolves against the base (HTML rules) to the mirror: not followed, counted "
    "offsite; the same path on www.sc.gov.cn is not requested for it.",
    fixed="govcrawler/extract/listing.py:27 page_links and spider.py:_site_url resolve every href "
    "against the response URL and ignore <base href>: links are resolved to URLs the page does "
    "not point to (here a www.sc.gov.cn article fetched for a mirror link). Resolve against the "
    "document's base URL (the first <base href>, itself resolved against the page URL)",
)
def _(r: Results) -> None:
    assert r.replay.statuses(f"{SITE}{NEWS}/base_href.shtml") == [200]
    never_requested(r.replay, hexid("base_href_target"))


@case(
    "base_href_site",
    f"{SITE}{NEWS}/base_site.shtml",
    'A list page with `<base href="https://www.sc.gov.cn/10462/10758/">` (old CMS templates do '
    "this) and the relative link `10760/10765/2024/2/26/<id>.shtml`.",
    "Resolved against the base: the article stored; the doubled path `…/10765/10760/10765/…` "
    "never requested.",
    fixed="same cause as base_href_mirror (listing.py:27, spider.py:_site_url ignore <base>): "
    "the link becomes /10462/10758/10760/10765/10760/10765/2024/2/26/….shtml, a 404 recorded as a "
    "gone article, and the real article is never found",
)
def _(r: Results) -> None:
    stored(
        r.replay,
        article("base_href_site_target", 2, 26),
        title="Hostile Case Base Href Site Target Page",
        published_on="2024-02-26",
        paragraphs=4,
        name="base_href_site_target",
    )
    never_requested(r.replay, f"{NEWS}/10760/10765/")


@case(
    "long_url_over_limit",
    f"{SITE}{NEWS}/{'a' * 10050}.shtml",
    "A link whose path is 10,050 characters.",
    "Not requested: Scrapy's URL length limit (2083) counts it in "
    "`urllength/request_ignored_count`.",
)
def _(r: Results) -> None:
    never_requested(r.replay, "a" * 3000)
    assert r.replay.stat("urllength/request_ignored_count") == 1


@case(
    "long_file_name",
    f"{SITE}{NEWS}/{'b' * 300}.shtml",
    "A link whose file name is 306 characters (URL under 2083, file name over the 255-byte limit "
    "of the file system).",
    "Replay answers 404 (no such page), once: no download error, no traceback.",
    fixed="govcrawler/crawl/replay.py:78 replay_path calls Path.is_file(), which on Python 3.11 "
    "raises OSError(ENAMETOOLONG) instead of returning False: the request fails with 'Error "
    "downloading' and a traceback, is retried twice (retry/reason_count/builtins.OSError). "
    "Catch OSError in replay_path and answer 404 (or refuse)",
)
def _(r: Results) -> None:
    url = f"{SITE}{NEWS}/{'b' * 300}.shtml"
    assert r.replay.statuses(url) == [404]
    assert f"Error downloading <GET {url}>" not in r.replay.log
    assert r.replay.stat("downloader/exception_type_count/builtins.OSError") == 0


@case(
    "deep_long_path",
    f"{SITE}{NEWS}/2024/2/22/{'c' * 40}/{'d' * 250}/{'e' * 250}/{'f' * 250}/{'0' * 32}.shtml",
    "A 1,100-character path of long (250-character) segments.",
    "404 (no such page), once; no error.",
)
def _(r: Results) -> None:
    url = f"{SITE}{NEWS}/2024/2/22/{'c' * 40}/{'d' * 250}/{'e' * 250}/{'f' * 250}/{'0' * 32}.shtml"
    assert r.replay.statuses(url) == [404]


@case(
    "port_link",
    f"http://www.sc.gov.cn:8080{NEWS}/2024/2/25/{hexid('port_link_target')}.shtml",
    "The list links an article as `http://www.sc.gov.cn:8080/…` and as its plain URL.",
    "One article under `https://www.sc.gov.cn/…`; nothing requested on port 8080 (not even its "
    "robots.txt); no `:8080` URL stored.",
    fixed="govcrawler/extract/urls.py:87 canonical_url keeps a non-default port while forcing "
    "https for the site: https://www.sc.gov.cn:8080/… is requested (and its robots.txt), stored "
    "as a capture and as an alias, and can become the article's URL. For the site's host, drop "
    "the port (or refuse the link)",
)
def _(r: Results) -> None:
    url = article("port_link_target", 2, 25)
    stored(
        r.replay,
        url,
        title="Hostile Case Port Link Target Page",
        published_on="2024-02-25",
        paragraphs=4,
        name="port_link_target",
    )
    never_requested(r.replay, "www.sc.gov.cn:8080")
    assert r.replay.query("SELECT url FROM article_alias WHERE url LIKE '%:8080%'") == []
    assert r.replay.query("SELECT url FROM captures WHERE url LIKE '%:8080%'") == []


@case(
    "lookalike_hosts",
    f"https://www.sc.gov.cn@www.sc-gov-cn.mirror-news.top{NEWS}/2024/2/23/{hexid('userinfo')}.shtml",
    "Links to `https://www.sc.gov.cn@mirror/…` (userinfo), `https://mirror\\@www.sc.gov.cn/…` "
    "(backslash), `https://www.sc.gov.cn.mirror-news.top/…` (suffix), `//mirror/…` "
    "(protocol-relative).",
    "None requested; counted as offsite links.",
)
def _(r: Results) -> None:
    never_requested(
        r.replay,
        "mirror-news.top",
        hexid("userinfo"),
        hexid("backslash"),
        hexid("suffix"),
        hexid("protocol_relative"),
        "@",
    )


@case(
    "list_10000_links",
    f"{SITE}{BULK}/index.shtml",
    f"A list page (generated) linking {BULK_LINKS:,} article URLs that do not exist.",
    f"The crawl finishes; each requested once and counted `gone/404` ({BULK_LINKS:,}), each 404 "
    "kept as a capture, no row; memory stays under 512 MB above start-up.",
)
def _(r: Results) -> None:
    urls = bulk_urls()
    assert all(r.replay.statuses(url) == [404] for url in urls)
    (count,) = r.replay.query(
        "SELECT COUNT(*) FROM captures WHERE url LIKE ? AND status = 404", f"{SITE}{BULK}/%"
    )[0]
    assert count == BULK_LINKS
    assert r.replay.query("SELECT COUNT(*) FROM articles WHERE url LIKE ?", f"{SITE}{BULK}/%") == [
        (0,)
    ]
    assert r.replay.stat("govcrawler/gone/404") >= BULK_LINKS
    grown = r.replay.stat("memusage/max") - r.replay.stat("memusage/startup")
    assert 0 <= grown < 512 * 2**20


@case(
    "pager_100000",
    f"{SITE}{PAGER}/index.shtml",
    "A list page linking itself, whose pager script says "
    "`createPageHTML('page_div',100000,1,'index','shtml',1)`; `index_2.shtml` exists, "
    "`index_3.shtml` does not.",
    "First (incremental) run: pages 2 and 3 requested, paging stops at the 404; both articles "
    "stored.",
)
def _(r: Results) -> None:
    numbered = sorted(u for u in r.replay.crawled if re.search(rf"{PAGER}/index_\d+\.shtml$", u))
    assert numbered == [f"{SITE}{PAGER}/index_2.shtml", f"{SITE}{PAGER}/index_3.shtml"]
    for name, day in (("pager_article_1", 1), ("pager_article_2", 2)):
        assert r.replay.article(article(name, 3, day, column=PAGER)) is not None


@case(
    "pager_100000_full",
    f"{SITE}{PAGER}/index.shtml",
    "The same list under `--full` (`GOVCRAWLER_FULL`, also the path of a run recovering from a "
    "crash).",
    f"Paging stops at the first missing page: at most {PAGER_BOUND} numbered pages requested, not "
    "99,999 blindly.",
    fixed="govcrawler/spiders/sc_open_governance.py:126 (_next_page): when walking every page it "
    "yields range(2, count + 1) requests at once from the script's count: 99,999 requests are "
    "scheduled for a 2-page list (scheduler/enqueued 100,003, a minute of CPU, then 99,998 404s; "
    "the test kills the crawl once it has requested more than PAGER_BOUND numbered pages). "
    "Request page N+1 only after page N answered with list content, or bound the count by what "
    "the pager links show",
)
def _(r: Results) -> None:
    assert not r.pager_full.killed
    assert 1 <= _numbered_pager_pages(r.pager_full.log) <= PAGER_BOUND
    assert r.pager_full.stat("scheduler/enqueued") < 100


# ---- the hostile server (gateway crawl) -----------------------------------------------------


def _server_case(
    name: str, wrong: str, outcome: str, fixed: str | None = None
) -> Callable[[Callable[[Results], None]], Callable[[Results], None]]:
    return case(name, server_url(name), wrong, outcome, fixed=fixed)


def _download_failure_check(name: str) -> Callable[[Results], None]:
    return lambda r: download_failed(r.gateway, server_url(name), tries=3)


@_server_case("server_control", "Nothing: the control article through the gateway.", "Stored.")
def _(r: Results) -> None:
    stored(
        r.gateway,
        server_url("server_control"),
        title="Server Case Server Control",
        published_on="2024-06-01",
        paragraphs=4,
        name="server_control",
    )
    assert r.gateway.hits(server_url("server_control")) == 1


for _name, _wrong in {
    "stall": "Accepts the connection, reads the request, never answers.",
    "stall_mid_body": "Sends the headers and half the body, then nothing.",
    "drip": "Sends the body 16 bytes every 0.2 s (slower than any timeout).",
}.items():
    _server_case(
        _name,
        _wrong,
        "Timed out after DOWNLOAD_TIMEOUT (2 s here), 3 attempts, given up and counted "
        "(`DownloadTimeoutError`); no capture, no row.",
    )(_download_failure_check(_name))

for _name, _wrong in {
    "reset_mid_body": "Announces the full Content-Length, sends half, then resets (RST).",
    "short_body": "Announces 4 KB more than it sends, then closes cleanly.",
    "bad_chunked": "`Transfer-Encoding: chunked`: a first chunk, then a chunk size not in hex.",
}.items():
    _server_case(
        _name,
        _wrong,
        "Data loss: 3 attempts, given up and counted (`ResponseDataLossError`); the half body is "
        "never stored.",
    )(_download_failure_check(_name))

for _name, _wrong in {
    "close_at_once": "Closes the connection without a byte.",
    "garbage_status_line": "Answers `HTTP/1.1 abc Nonsense`.",
    "not_http": "Answers an SSH banner.",
    "huge_header": "A 200 KB header line.",
}.items():
    _server_case(
        _name,
        _wrong,
        "3 attempts, given up and counted (`DownloadFailedError`); no capture, no row.",
    )(_download_failure_check(_name))


@_server_case(
    "declared_2gib",
    "Announces `Content-Length: 2147483648` and sends almost nothing.",
    "Cancelled before the body (DOWNLOAD_MAXSIZE), once, counted (`DownloadCancelledError`); "
    "nothing stored.",
)
def _(r: Results) -> None:
    download_failed(r.gateway, server_url("declared_2gib"), tries=1)
    assert (
        r.gateway.stat("downloader/exception_type_count/scrapy.exceptions.DownloadCancelledError")
        == 1
    )


@_server_case(
    "fake_gzip",
    "`Content-Encoding: gzip` on a body that is plain HTML.",
    "A counted failure (a `downloader/exception_type_count/…` or `govcrawler/…` stat names it), "
    "one log line; nothing stored.",
    fixed="no component counts it: scrapy's HttpCompressionMiddleware raises BadGzipFile from "
    "process_response, which is neither a download exception (not in downloader/exception_count, "
    "so not in the health error rate) nor a govcrawler outcome: only 'Error downloading' + "
    "traceback in the log. The article requests built in "
    "govcrawler/spiders/sc_open_governance.py:140,148 have no errback; add one that counts "
    "govcrawler/failed/<exception> and logs one line",
)
def _(r: Results) -> None:
    url = server_url("fake_gzip")
    assert r.gateway.hits(url) >= 1
    assert r.gateway.article(url) is None
    counted = [
        key
        for key in r.gateway.stats
        if "BadGzipFile" in key or key.startswith("govcrawler/failed/")
    ]
    assert counted


@_server_case(
    "retry_after_then_ok",
    "First 503 with `Retry-After: 1`, then 200.",
    "Waited and retried once: stored; counted under `govcrawler/politeness/retry_after`.",
)
def _(r: Results) -> None:
    url = server_url("retry_after_then_ok")
    assert r.gateway.hits(url) == 2
    stored(
        r.gateway,
        url,
        title="Server Case Retry After Then Ok",
        published_on="2024-06-13",
        paragraphs=4,
        name="retry_after_then_ok",
    )
    assert r.gateway.stat("govcrawler/politeness/retry_after") >= 1


@_server_case(
    "retry_after_always",
    "503 with `Retry-After: 1`, every time.",
    "3 attempts 1 s apart, then dropped by status (`govcrawler/dropped/http_503`); nothing stored.",
)
def _(r: Results) -> None:
    url = server_url("retry_after_always")
    assert r.gateway.hits(url) == 3
    http_error(r.gateway, url, 503, tries=3)


@case(
    "polite_throttling",
    f"{SITE}{THROTTLED}/index.shtml",
    f"A column of {THROTTLED_ARTICLES} articles (served by the hostile server, crawl `throttled`) "
    "each answering `503` with `Retry-After: 1` once, then 200: a site pacing a crawler "
    "politely.",
    f"All {THROTTLED_ARTICLES} stored after waiting; the run is healthy (exit 0): a 503 that was "
    "waited out and then answered is not a page that failed.",
    fixed="govcrawler/runs/health.py (_error_rate) counted every 503 waited out as a failed "
    "page: only Scrapy's retries were subtracted, not PacingMiddleware's Retry-After retries",
)
def _(r: Results) -> None:
    crawl = r.throttled
    for n, url in enumerate(throttled_urls()):
        assert crawl.hits(url) == 2
        stored(
            crawl,
            url,
            title=f"Throttled Article {n}",
            published_on=f"2024-07-{n + 1:02d}",
            paragraphs=4,
            name=f"throttled{n}",
        )
    assert crawl.stat("govcrawler/politeness/retry_after/retry/count") == THROTTLED_ARTICLES
    assert crawl.stat("govcrawler/run/exit_status") == 0, crawl.log[-2000:]
    assert crawl.query("SELECT outcome, exit_status FROM crawl_run") == [("finished", 0)]


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


def _param(item: Case) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=item.bug)] if item.bug else []
    return pytest.param(item.id, marks=marks, id=item.id)


@pytest.mark.slow
@pytest.mark.parametrize("case_id", [_param(item) for item in CASES.values()])
def test_hostile_cases(case_id: str, results: Results) -> None:
    CASES[case_id].check(results)


CRAWLS = ["replay", "gateway", "pager_full", "throttled"]


def crawl_of(results: Results, name: str) -> Crawl:
    return getattr(results, name)


@pytest.mark.slow
def test_hostile_replay_run_ends_blocked_with_every_outcome_counted(results: Results) -> None:
    """The replay crawl finishes; the block pages make it exit 5; each drop and block is
    counted exactly once per case that causes it."""
    crawl = results.replay
    assert crawl.returncode == 5, crawl.stdout + crawl.log[-3000:]
    assert "finished: finished" in crawl.stdout
    assert "PROBLEM: blocked: 3 responses" in crawl.log
    expected = {
        "govcrawler/dropped/empty_page": 1,  # empty_body
        # binary_as_html, refresh_article_partner, invisible_title
        "govcrawler/dropped/missing_title": 3,
        "govcrawler/dropped/missing_body": 3,  # nested_tables_5000, images_only, footer_only
        "govcrawler/blocked/http_412": 1,
        "govcrawler/blocked/challenge_page": 1,
        "govcrawler/blocked/retry_after_too_long": 1,
        "govcrawler/blocked": 3,
        "govcrawler/gone/410": 1,
        "govcrawler/refused/offsite_redirect": 1,
    }
    assert {key: crawl.stat(key) for key in expected} == expected
    assert (dropped_by_status(crawl, 500), dropped_by_status(crawl, 503)) == (1, 1)
    assert crawl.query("SELECT outcome, exit_status FROM crawl_run") == [("blocked", 5)]


@pytest.mark.slow
def test_hostile_gateway_run_fails_its_error_rate_health_check(results: Results) -> None:
    """Most server cases fail for good: the run says so (exit status 4), it does not crash."""
    crawl = results.gateway
    assert crawl.stat("govcrawler/run/exit_status") == 4, crawl.log[-3000:]
    assert "health check failed: errors:" in crawl.log
    assert crawl.query("SELECT outcome, exit_status FROM crawl_run") == [("failed_health", 4)]
    # 3 timeouts, 3 data losses, 4 failed exchanges, 3 attempts each; 1 cancelled
    kinds = {
        "DownloadTimeoutError": 9,
        "ResponseDataLossError": 9,
        "DownloadFailedError": 12,
        "DownloadCancelledError": 1,
    }
    for kind, count in kinds.items():
        assert crawl.stat(f"downloader/exception_type_count/scrapy.exceptions.{kind}") == count
    # each of the 12 pages that never gave a usable response is one counted failure
    failed = {k: v for k, v in crawl.stats.items() if k.startswith("govcrawler/failed/")}
    assert sum(failed.values()) == 12, failed


@pytest.mark.slow
def test_hostile_gateway_error_rate_counts_pages_that_failed_for_good(results: Results) -> None:
    """17 pages (robots.txt, the list, 15 cases); 13 failed for good: 11 network failures,
    the fake gzip, the 503 that never ended. Neither the Retry-After retries nor the 503
    waited out before a 200 are failed pages."""
    assert "health check failed: errors: 13 of 17 pages" in results.gateway.log


@pytest.mark.slow
@pytest.mark.parametrize("name", CRAWLS)
def test_hostile_log_has_no_traceback(results: Results, name: str) -> None:
    log = crawl_of(results, name).log
    assert "Spider error processing" not in log
    assert "Traceback" not in log


@pytest.mark.slow
@pytest.mark.parametrize("name", CRAWLS)
def test_hostile_no_row_misses_a_required_field(results: Results, name: str) -> None:
    crawl = crawl_of(results, name)
    assert (
        crawl.query(
            "SELECT url FROM articles WHERE title IS NULL OR trim(title) = '' OR body IS NULL OR "
            "trim(body) = '' OR url IS NULL OR url = ''"
        )
        == []
    )
    assert crawl.query("SELECT id FROM article WHERE current_version_id IS NULL") == []


@pytest.mark.slow
@pytest.mark.parametrize("name", CRAWLS)
def test_hostile_no_request_leaves_www_sc_gov_cn(results: Results, name: str) -> None:
    crawl = crawl_of(results, name)
    assert crawl.sent
    assert {urlsplit(url).hostname for url in crawl.sent} == {"www.sc.gov.cn"}
    assert all(url.startswith("https://") for url in crawl.sent)
    if name == "gateway":
        assert all(path.startswith("/") for path in crawl.server_hits)


@pytest.mark.slow
@pytest.mark.parametrize("name", CRAWLS)
def test_hostile_archive_is_sound(results: Results, name: str) -> None:
    crawl = crawl_of(results, name)
    assert crawl.query("PRAGMA integrity_check") == [("ok",)]
    assert crawl.query("PRAGMA foreign_key_check") == []
    if not crawl.killed:
        assert crawl.query("SELECT COUNT(*) FROM crawl_run WHERE finished_at IS NULL") == [(0,)]


@pytest.mark.slow
def test_hostile_nothing_outside_the_replay_directory_is_read(results: Results) -> None:
    """The sentinels beside the copy are a stored article if anything reads them."""
    crawl = results.replay
    assert SENTINEL not in crawl.log and SENTINEL not in crawl.stdout
    texts = crawl.query("SELECT title || body FROM articles")
    assert not any(SENTINEL in text for (text,) in texts)
    bodies = crawl.query("SELECT body FROM capture WHERE body IS NOT NULL")
    assert not any(SENTINEL.encode() in zlib.decompress(body) for (body,) in bodies)
    refused = [url for url in crawl.crawled if crawl.statuses(url) == [400]]
    assert crawl.stat("replay/refused") == len(refused) >= 2


def test_hostile_readme_lists_every_case() -> None:
    readme = (HOSTILE / "README.md").read_text(encoding="utf-8")
    missing = [item.id for item in CASES.values() if f"`{item.id}`" not in readme]
    assert not missing
    assert len(CASES) >= 40
