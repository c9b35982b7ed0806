"""The developers' fixture workflow, end to end: `govcrawler fixtures record` through a local
server on 127.0.0.1 (GOVCRAWLER_GATEWAY), `from-archive` out of a real replay crawl's archive,
and `update` of the expected outputs; the recorded copy replays as it was served.

Recording runs the real Scrapy stack in a subprocess with `datetime.now` of
`govcrawler.cli.fixtures` frozen, so the sidecars' fetch times are known.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from scrapy import Request
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from govcrawler import settings as project
from govcrawler.cli import expected as outputs
from govcrawler.cli import fixtures, main
from govcrawler.crawl.replay import ReplayDownloadHandler, read_sidecar, replay_path
from govcrawler.extract.article import article_from_page
from govcrawler.extract.encoding import page_text
from tests.conftest import SITE_COPY

ROOT = Path(__file__).resolve().parent.parent
SITE = "https://www.sc.gov.cn"
FROZEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
COLUMN = "/10462/10758/10760/10765"
UTF8_PAGE = f"{COLUMN}/2022/9/26/18e9f46a8996bdf07fa9667505648f34.shtml"
GBK_PAGE = f"{COLUMN}/2015/5/12/10384251.shtml"  # GBK bytes, <meta charset=gb2312>
# The same bytes at another article URL, the charset in the header. (Not a query string: an
# article page is static, so `?charset=gbk` would name the same article and be folded away.)
GBK_DECLARED = f"{COLUMN}/2015/5/13/10384252.shtml"
GZIPPED = f"{COLUMN}/2021/9/28/f8edf9b94ac5717baf83f30fb002e9bb.shtml"  # sent gzip-encoded
MOVED = f"{COLUMN}/2021/9/28/moved.shtml"  # 302 to GZIPPED
OFFSITE = f"{COLUMN}/2024/8/13/3947007d1a4a6ed8c7900c70e94982e2.shtml"  # 302 to a mirror host
MIRROR = "https://www.sc-gov-cn.mirror-news.top/10462/10758/10760/10765/2024/8/13/x.shtml"
MISSING = f"{COLUMN}/2024/2/6/2d01b2ab7deeb18231f677950c2dc073.shtml"
BROKEN = f"{COLUMN}/2023/9/5/bf355c4954eedf249b8acc37989d387a.shtml"
PRIVATE = "/private/page.shtml"  # robots.txt disallows it
ALIAS = "/10462/newsdlb/2021/10/8/69f5614ef9f40196aac065ca843dc5bb.shtml"
REDIRECT_IN_COPY = f"{COLUMN}/2024/8/13/3947007d1a4a6ed8c7900c70e94982e2.shtml"
EMPTY_PAGE = f"{COLUMN}/2023/12/12/0a0a81cb2642c864c3e5852a73e08964.shtml"


def saved(path: str) -> bytes:
    return (SITE_COPY / "www.sc.gov.cn" / path.lstrip("/")).read_bytes()


def expected(path: str) -> dict:
    page = SITE_COPY / "www.sc.gov.cn" / (path.lstrip("/") + ".expected.json")
    return json.loads(page.read_text(encoding="utf-8"))


# --- a local copy of the site on 127.0.0.1 ---------------------------------------------------


@dataclass(frozen=True)
class Route:
    status: int
    headers: dict[str, str]
    body: bytes  # as sent (gzip-encoded when Content-Encoding says so)
    payload: bytes = b""  # what the page holds once decoded (default: the body)

    @property
    def content(self) -> bytes:
        return self.payload or self.body


ROUTES = {
    "/robots.txt": Route(
        200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n"
    ),
    UTF8_PAGE: Route(
        200,
        {
            "Content-Type": "text/html; charset=utf-8",
            "ETag": '"5f1-18e9f46a"',
            "Last-Modified": "Mon, 26 Sep 2022 08:00:00 GMT",
        },
        saved(UTF8_PAGE),
    ),
    GBK_PAGE: Route(200, {"Content-Type": "text/html"}, saved(GBK_PAGE)),
    GBK_DECLARED: Route(200, {"Content-Type": "text/html; charset=gbk"}, saved(GBK_PAGE)),
    GZIPPED: Route(
        200,
        {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"},
        gzip.compress(saved(GZIPPED), mtime=0),
        payload=saved(GZIPPED),
    ),
    MOVED: Route(302, {"Location": SITE + GZIPPED, "Content-Type": "text/html"}, b""),
    OFFSITE: Route(302, {"Location": MIRROR}, b"<html>moved</html>"),
    MISSING: Route(404, {"Content-Type": "text/html"}, b"<html><body>Not Found</body></html>"),
    BROKEN: Route(500, {"Content-Type": "text/html; charset=iso-8859-1"}, saved(BROKEN)),
    PRIVATE: Route(200, {"Content-Type": "text/html"}, b"<html>never fetched</html>"),
}
RECORDED = [UTF8_PAGE, GBK_PAGE, GBK_DECLARED, GZIPPED, MOVED, OFFSITE, MISSING, BROKEN]

# The list API (SITE-ZH §1.1): answers POSTs only, by the page the JSON body asks for.
API = "/cms-scsrmzf/qryZFWJListByConditionsNew"
API_MOVED = "/cms-scsrmzf/qryZFWJListByConditions"  # 307 to API: the POST is repeated
API_PAGE = (
    SITE_COPY / "www.sc.gov.cn" / "cms-scsrmzf" / "qryZFWJListByConditionsNew.POST-3cb46323e488ac59"
).read_bytes()
API_HEADERS = {"Content-Type": "application/json;charset=UTF-8", "Vary": "Origin"}
# Spelled with spaces and its own key order, as a developer types it.
REFERER = SITE + "/10462/c103041/newzfwj.shtml"
QUERY = '{"pageNum": 1, "pageSize": 10, "channelId": ["973183bdfdc94e9c9060f0707db6dd47"]}'


def api_route(path: str, body: bytes) -> Route:
    if path == API_MOVED:
        return Route(307, {"Location": SITE + API}, b"")
    if path != API:
        return Route(404, {"Content-Type": "text/html"}, b"no")
    page = json.loads(body).get("pageNum")
    return Route(200, API_HEADERS, API_PAGE if page == 1 else b'{"results":[]}')


@dataclass
class LocalSite:
    origin: str
    requests: list[tuple[str, str]] = field(default_factory=list)  # (path, User-Agent)
    posts: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)  # path, body


@pytest.fixture(scope="module")
def local_site() -> Iterator[LocalSite]:
    site = LocalSite("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.requests.append((self.path, self.headers.get("User-Agent", "")))
            self.answer(ROUTES.get(self.path, Route(404, {"Content-Type": "text/html"}, b"no")))

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            site.posts.append((self.path, body, dict(self.headers.items())))
            self.answer(api_route(self.path, body))

        def answer(self, route: Route) -> None:
            self.send_response(route.status)
            for name, value in route.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            self.wfile.write(route.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    site.origin = f"http://127.0.0.1:{server.server_address[1]}"
    yield site
    server.shutdown()
    server.server_close()
    thread.join()


# --- the CLI, as a developer runs it ----------------------------------------------------------


@pytest.fixture(scope="module")
def frozen_cli() -> list[str]:
    """The CLI in a subprocess, `datetime.now` in govcrawler.cli.fixtures fixed at FROZEN (UTC)."""
    code = f"""
import datetime
import govcrawler.cli.fixtures

class FrozenClock(datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return datetime.datetime.fromisoformat({FROZEN.isoformat()!r}).astimezone(tz)

govcrawler.cli.fixtures.datetime = FrozenClock
from govcrawler.cli import main
main()
"""
    return [sys.executable, "-c", code]


def record(
    cli: list[str], site: LocalSite, into: Path, *urls: str
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GOVCRAWLER_GATEWAY": site.origin}
    env.pop("GOVCRAWLER_REPLAY_DIR", None)
    command = [*cli, "fixtures", "record", "--into", str(into), "--delay", "0", *urls]
    # In its own directory: a recording must leave no archive behind.
    return subprocess.run(
        command, cwd=into.parent, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def recorded(
    frozen_cli: list[str], local_site: LocalSite, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    into = tmp_path_factory.mktemp("recorded") / "site"
    # UTF8_PAGE by http://: recorded under its canonical https:// URL.
    urls = [f"http://www.sc.gov.cn{UTF8_PAGE}", *(SITE + path for path in RECORDED[1:])]
    done = record(frozen_cli, local_site, into, *urls)
    assert done.returncode == 0, done.stderr[-3000:]
    return into, done


def page_of(root: Path, path: str) -> Path:
    page = replay_path(root, SITE + path)
    assert page is not None, f"{path} was not saved where replay looks for it"
    return page


@pytest.mark.slow
@pytest.mark.parametrize("path", RECORDED)
def test_record_saves_the_bytes_as_the_server_sent_them(
    recorded: tuple[Path, subprocess.CompletedProcess[str]], path: str
) -> None:
    root, _ = recorded
    assert page_of(root, path).read_bytes() == ROUTES[path].content


@pytest.mark.slow
@pytest.mark.parametrize("path", RECORDED)
def test_the_sidecar_has_status_headers_urls_and_fetch_time(
    recorded: tuple[Path, subprocess.CompletedProcess[str]], path: str
) -> None:
    root, _ = recorded
    sidecar = read_sidecar(page_of(root, path))
    route = ROUTES[path]
    headers = {name.lower(): value for name, value in sidecar["headers"].items()}
    assert sidecar["status"] == route.status
    assert sidecar["url"] == SITE + path
    assert sidecar["fetched_at"] == "2026-01-02T03:04:05+00:00"
    for name, value in route.headers.items():
        if name.lower() != "content-encoding":
            assert headers[name.lower()] == value, name
    # The body is saved decoded, so the transfer headers would lie about it.
    assert "content-encoding" not in headers and "content-length" not in headers
    assert "date" in headers  # the server's own headers are kept too


@pytest.mark.slow
def test_a_redirect_is_saved_hop_by_hop_with_its_final_url(
    recorded: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    root, done = recorded
    hop = read_sidecar(page_of(root, MOVED))
    assert hop["status"] == 302 and hop["headers"]["Location"] == SITE + GZIPPED
    assert hop["final_url"] == SITE + GZIPPED
    assert read_sidecar(page_of(root, GZIPPED))["final_url"] == SITE + GZIPPED
    assert f"final URL {SITE + GZIPPED}" in done.stdout
    # A redirect off the site is saved, never followed (the crawler's rule), and is no failure.
    offsite = read_sidecar(page_of(root, OFFSITE))
    assert (offsite["status"], offsite["final_url"]) == (302, SITE + OFFSITE)
    assert offsite["headers"]["Location"] == MIRROR


@pytest.mark.slow
def test_record_prints_one_line_per_saved_page_and_follows_the_crawlers_rules(
    recorded: tuple[Path, subprocess.CompletedProcess[str]], local_site: LocalSite
) -> None:
    root, done = recorded
    lines = done.stdout.splitlines()
    listed = {line.split(" bytes  ")[1].split("  (final URL ")[0] for line in lines}
    # Every recorded URL, plus GZIPPED once more as the end of MOVED's redirect.
    assert len(lines) == len(RECORDED) + 1
    for path in RECORDED:
        assert str(page_of(root, path)) in listed, path
    assert local_site.requests[0][0] == "/robots.txt"
    assert {agent for _, agent in local_site.requests} == {project.USER_AGENT}
    assert not (root.parent / "archive.sqlite3").exists()


@pytest.mark.slow
@pytest.mark.parametrize("path", RECORDED)
def test_the_recorded_copy_replays_as_it_was_served(
    recorded: tuple[Path, subprocess.CompletedProcess[str]], path: str
) -> None:
    root, _ = recorded
    handler = ReplayDownloadHandler(get_crawler(settings_dict={"GOVCRAWLER_REPLAY_DIR": str(root)}))
    response = asyncio.run(handler.download_request(Request(SITE + path)))
    route = ROUTES[path]
    assert (response.status, response.body) == (route.status, route.content)
    for name, value in route.headers.items():
        if name.lower() != "content-encoding":
            assert response.headers.get(name).decode() == value, name


@pytest.mark.slow
@pytest.mark.parametrize("path", [GBK_PAGE, GBK_DECLARED])
def test_a_recorded_gbk_page_extracts_as_its_saved_original(
    recorded: tuple[Path, subprocess.CompletedProcess[str]], path: str
) -> None:
    root, _ = recorded
    article = outputs.extracted(page_of(root, path))
    original = expected(GBK_PAGE)
    identity = {"url", "canonical_id"}  # GBK_DECLARED serves the same page at another URL
    for name in original:
        if name not in identity:
            assert article[name] == original[name], name


@pytest.mark.slow
def test_robots_txt_is_obeyed_and_a_page_it_forbids_is_one_line(
    frozen_cli: list[str], local_site: LocalSite, tmp_path: Path
) -> None:
    into = tmp_path / "site"
    done = record(frozen_cli, local_site, into, SITE + UTF8_PAGE, SITE + PRIVATE)
    assert done.returncode == 1
    # One page failed: one line, and Scrapy's log does not repeat it.
    assert done.stderr.splitlines() == [
        f"Error: not recorded: {SITE + PRIVATE}: Forbidden by robots.txt"
    ]
    assert PRIVATE not in [path for path, _ in local_site.requests]
    assert page_of(into, UTF8_PAGE).read_bytes() == ROUTES[UTF8_PAGE].body


@pytest.mark.parametrize("url", ["https://example.com/10462/a.shtml", "not a url"])
def test_only_pages_of_the_site_are_recorded(url: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["fixtures", "record", "--into", str(tmp_path), url])
    assert result.exit_code == 1
    assert (
        result.output.strip() == f"Error: only pages of www.sc.gov.cn can be recorded, not {url!r}"
    )
    assert not any(tmp_path.iterdir())


# --- POST answers (the list API) ------------------------------------------------------------


def replayed(root: Path, request: Request) -> Response:
    handler = ReplayDownloadHandler(get_crawler(settings_dict={"GOVCRAWLER_REPLAY_DIR": str(root)}))
    return asyncio.run(handler.download_request(request))


def test_a_saved_post_answer_replays_beside_the_get_page(tmp_path: Path) -> None:
    body = QUERY.encode()
    answer = fixtures.SavedResponse(
        SITE + API, SITE + API, 200, API_HEADERS, API_PAGE, FROZEN, "POST", body
    )
    page = fixtures.write_fixture(tmp_path, answer)
    get = fixtures.write_fixture(
        tmp_path, replace(answer, method="GET", request_body=b"", body=b"GET")
    )
    assert page.parent == get.parent and page.name.startswith(get.name + ".POST-")
    assert read_sidecar(page)["request"] == {"method": "POST", "json": json.loads(QUERY)}
    assert "request" not in read_sidecar(get)
    canonical = json.dumps(json.loads(QUERY), sort_keys=True).encode()
    response = replayed(tmp_path, Request(SITE + API, method="POST", body=canonical))
    assert (response.status, response.body) == (200, API_PAGE)
    assert response.headers["Vary"] == b"Origin"
    assert replayed(tmp_path, Request(SITE + API)).body == b"GET"


@pytest.mark.parametrize(
    ("post", "error"),
    [("{pageNum: 1}", "not JSON: "), ("@missing.json", "cannot read missing.json: ")],
    ids=["not json", "no file"],
)
def test_a_post_body_that_cannot_be_sent_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, post: str, error: str
) -> None:
    monkeypatch.chdir(tmp_path)
    args = ["fixtures", "record", "--into", "site", "--post", post, SITE + API]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert f"Invalid value for '--post': {error}" in result.output
    assert sorted(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def recorded_posts(
    frozen_cli: list[str], local_site: LocalSite, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    folder = tmp_path_factory.mktemp("posted")
    (folder / "query.json").write_text(QUERY, encoding="utf-8")
    env = {**os.environ, "GOVCRAWLER_GATEWAY": local_site.origin}
    env.pop("GOVCRAWLER_REPLAY_DIR", None)
    command = [*frozen_cli, "fixtures", "record", "--into", "site", "--delay", "0"]
    command += ["--post", "@query.json", "--referer", REFERER, SITE + API, SITE + API_MOVED]
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return folder / "site", done


@pytest.mark.slow
def test_a_recorded_post_replays_byte_for_byte_with_its_status_and_headers(
    recorded_posts: tuple[Path, subprocess.CompletedProcess[str]], local_site: LocalSite
) -> None:
    root, done = recorded_posts
    sent = [(path, body) for path, body, _ in local_site.posts]
    # Sent as given (never re-spelled); the 307 repeated the POST.
    assert sent == [(API, QUERY.encode()), (API_MOVED, QUERY.encode()), (API, QUERY.encode())]
    for _, _, headers in local_site.posts:
        assert headers["Content-Type"] == "application/json"
        assert headers["User-Agent"] == project.USER_AGENT
    # The page's own Referer on each URL's request; the 307's hop names the URL it came from.
    referers = [headers.get("Referer") for _, _, headers in local_site.posts]
    assert referers == [REFERER, REFERER, SITE + API_MOVED]
    page = replay_path(root, SITE + API, "POST", QUERY.encode())
    assert page is not None and page.read_bytes() == API_PAGE
    sidecar = read_sidecar(page)
    assert sidecar["request"] == {"method": "POST", "json": json.loads(QUERY)}
    assert sidecar["fetched_at"] == "2026-01-02T03:04:05+00:00"
    # The same query spelled as the site's script would send it.
    canonical = json.dumps(json.loads(QUERY), separators=(",", ":")).encode()
    response = replayed(root, Request(SITE + API, method="POST", body=canonical))
    assert (response.status, response.body) == (200, API_PAGE)
    for name, value in API_HEADERS.items():
        assert response.headers[name].decode() == value, name
    moved = replayed(root, Request(SITE + API_MOVED, method="POST", body=canonical))
    assert (moved.status, moved.headers["Location"].decode()) == (307, SITE + API)
    assert replayed(root, Request(SITE + API)).status == 404  # no GET was recorded
    assert len(done.stdout.splitlines()) == 3
    assert str(page.relative_to(root.parent.resolve())) in done.stdout


# --- from the archive ---------------------------------------------------------------------


@pytest.fixture
def archive(crawled_archive: Path) -> Path:
    """A copy of the session's shared replay crawl (tests/conftest.py)."""
    return crawled_archive


def from_archive(archive: Path, into: Path, key: str) -> Result:
    database = f"sqlite:///{archive}"
    args = ["fixtures", "from-archive", key, "--into", str(into), "--database", database]
    return CliRunner().invoke(main, args)


def query(database: Path, sql: str, *params: object) -> list[tuple]:
    connection = sqlite3.connect(database)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def article_id(archive: Path, path: str) -> int:
    return query(archive, "SELECT id FROM articles WHERE url = ?", SITE + path)[0][0]


@pytest.mark.parametrize(
    ("key", "path"),
    [
        (SITE + GBK_PAGE, GBK_PAGE),
        ("id", UTF8_PAGE),
        (f"http://www.sc.gov.cn{ALIAS}", ALIAS),  # an alias URL, and http://
    ],
    ids=["url", "id", "alias"],
)
def test_from_archive_writes_the_page_as_crawled(
    archive: Path, tmp_path: Path, key: str, path: str
) -> None:
    key = str(article_id(archive, path)) if key == "id" else key
    result = from_archive(archive, tmp_path, key)
    assert result.exit_code == 0, result.output
    page = page_of(tmp_path, path)
    assert result.output.strip().endswith(str(page))
    assert page.read_bytes() == saved(path)
    sidecar = read_sidecar(page)
    fetched = query(
        archive, "SELECT fetched_at FROM captures WHERE url = ? ORDER BY id DESC", SITE + path
    )[0][0]
    assert sidecar["status"] == 200 and sidecar["final_url"] == SITE + path
    assert datetime.fromisoformat(sidecar["fetched_at"]) == datetime.fromisoformat(fetched).replace(
        tzinfo=UTC
    )
    content_type = (
        read_sidecar(SITE_COPY / "www.sc.gov.cn" / path.lstrip("/"))
        .get("headers", {})
        .get("Content-Type", "text/html")
    )
    assert sidecar["headers"]["Content-Type"] == content_type
    text, _ = page_text(page.read_bytes(), sidecar["headers"]["Content-Type"])
    article = article_from_page(text, SITE + path).as_json()
    for name, value in expected(path).items():
        assert article[name] == value, name


def test_from_archive_keeps_a_redirect_as_the_site_answered(archive: Path, tmp_path: Path) -> None:
    result = from_archive(archive, tmp_path, SITE + REDIRECT_IN_COPY)
    assert result.exit_code == 0, result.output
    sidecar = read_sidecar(page_of(tmp_path, REDIRECT_IN_COPY))
    original = read_sidecar(SITE_COPY / "www.sc.gov.cn" / REDIRECT_IN_COPY.lstrip("/"))
    assert sidecar["status"] == 302
    assert sidecar["headers"]["Location"] == original["headers"]["Location"]


@pytest.mark.parametrize("key", ["999999", f"{SITE}/10462/nothing.shtml", "no such page"])
def test_from_archive_of_an_unknown_article_is_one_line(
    archive: Path, tmp_path: Path, key: str
) -> None:
    result = from_archive(archive, tmp_path, key)
    assert result.exit_code == 1
    assert result.output == f"Error: no capture of {key!r} in the archive (give an id or a URL)\n"
    assert not any(tmp_path.iterdir())


def test_from_archive_without_an_archive_is_one_line(tmp_path: Path) -> None:
    result = from_archive(tmp_path / "none.sqlite3", tmp_path / "out", "1")
    assert result.exit_code == 1 and result.output.startswith("Error: no archive at ")
    assert len(result.output.splitlines()) == 1


# --- expected outputs -----------------------------------------------------------------------


@pytest.fixture
def wrong_copy(tmp_path: Path) -> Path:
    """A copy of the GBK page (with its sidecar) whose expected output has a wrong title."""
    source = SITE_COPY / "www.sc.gov.cn" / GBK_PAGE.lstrip("/")
    page = tmp_path / "www.sc.gov.cn" / GBK_PAGE.lstrip("/")
    page.parent.mkdir(parents=True)
    shutil.copy(source, page)
    shutil.copy(source.with_name(source.name + ".meta.json"), page.parent)
    wrong = {**expected(GBK_PAGE), "title": "A Title From Before The Redesign"}
    outputs.expected_file(page).write_text(
        json.dumps(wrong, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return page


def update(*args: str) -> Result:
    return CliRunner().invoke(main, ["fixtures", "update", *args])


def test_update_rewrites_the_expected_output_and_prints_the_diff(wrong_copy: Path) -> None:
    result = update(str(wrong_copy))
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{wrong_copy}: title\n")
    assert '-  "title": "A Title From Before The Redesign",' in result.output
    assert f'+  "title": "{expected(GBK_PAGE)["title"]}",' in result.output
    original = SITE_COPY / "www.sc.gov.cn" / (GBK_PAGE.lstrip("/") + ".expected.json")
    assert outputs.expected_file(wrong_copy).read_bytes() == original.read_bytes()
    again = update(str(outputs.expected_file(wrong_copy)))  # the .expected.json names it too
    assert (again.exit_code, again.output) == (0, "")


def test_update_check_shows_the_diff_writes_nothing_and_fails(wrong_copy: Path) -> None:
    before = outputs.expected_file(wrong_copy).read_bytes()
    result = update("--check", str(wrong_copy))
    assert result.exit_code == 1
    assert '-  "title": "A Title From Before The Redesign",' in result.output
    assert result.output.endswith("Error: 1 expected output would change\n")
    assert outputs.expected_file(wrong_copy).read_bytes() == before


def test_update_writes_a_missing_expected_output_for_a_named_page(wrong_copy: Path) -> None:
    outputs.expected_file(wrong_copy).unlink()
    result = update(str(wrong_copy.parent))  # a directory: only pages that already have one
    assert (result.exit_code, result.output) == (0, "")
    result = update(str(wrong_copy))
    assert result.exit_code == 0 and '+  "body": [' in result.output
    written = json.loads(outputs.expected_file(wrong_copy).read_text(encoding="utf-8"))
    assert written == expected(GBK_PAGE)


def test_update_of_a_page_that_cannot_be_extracted_is_one_line(tmp_path: Path) -> None:
    page = tmp_path / "www.sc.gov.cn" / EMPTY_PAGE.lstrip("/")
    page.parent.mkdir(parents=True)
    page.write_bytes(b"")
    result = update(str(page))
    assert result.exit_code == 1
    assert result.output == (
        f"cannot extract {page}: empty page: {SITE + EMPTY_PAGE}\n"
        "Error: 1 page could not be extracted\n"
    )
    assert not outputs.expected_file(page).exists()


def test_update_without_paths_takes_the_saved_site(
    wrong_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path / "www.sc.gov.cn")
    result = update()
    assert result.exit_code == 1
    assert (
        result.output
        == "Error: no tests/fixtures/site here: name the pages, or run in the project\n"
    )
    site = Path("tests/fixtures/site")
    shutil.copytree(
        tmp_path / "www.sc.gov.cn", site / "www.sc.gov.cn", ignore=shutil.ignore_patterns("tests")
    )
    assert update("--check").exit_code == 1
    result = update()
    assert result.exit_code == 0 and ": title\n" in result.output
    assert update("--check").exit_code == 0


def snapshot(root: Path) -> dict[Path, tuple[int, bytes]]:
    return {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in root.rglob("*.expected.json")}


@pytest.mark.slow
def test_a_normal_test_run_never_rewrites_an_expected_output() -> None:
    before = snapshot(SITE_COPY)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    subprocess.run(
        [*command, "tests/test_extract_fixtures.py"], cwd=ROOT, capture_output=True, timeout=300
    )
    assert snapshot(SITE_COPY) == before


@pytest.mark.slow
def test_pytest_update_expected_rewrites_instead_of_failing(tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    tests.mkdir()
    for name in ("__init__.py", "conftest.py", "test_extract_fixtures.py"):
        shutil.copy(ROOT / "tests" / name, tests)
    shutil.copytree(SITE_COPY, tests / "fixtures" / "site")
    wrong = (
        tests / "fixtures" / "site" / "www.sc.gov.cn" / (GBK_PAGE.lstrip("/") + ".expected.json")
    )
    wrong.write_text(wrong.read_text("utf-8").replace('"title": "', '"title": "Old '), "utf-8")
    untouched = {p: b for p, (_, b) in snapshot(tests).items() if p != wrong}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error"]
    # Only the broken page's comparisons run; the update itself covers every page.
    command += ["--rootdir", str(tmp_path), "tests/test_extract_fixtures.py", "-k", "10384251"]

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, *extra], cwd=tmp_path, capture_output=True, text=True, timeout=300
        )

    failing = run()
    assert failing.returncode == 1 and "10384251.shtml: title" in failing.stdout
    updated = run("--update-expected")
    assert updated.returncode == 0, updated.stdout[-3000:]
    assert "expected outputs rewritten (--update-expected)" in updated.stdout
    assert '-  "title": "Old ' in updated.stdout
    assert (
        wrong.read_bytes()
        == (SITE_COPY / "www.sc.gov.cn" / (GBK_PAGE.lstrip("/") + ".expected.json")).read_bytes()
    )
    assert {p: b for p, (_, b) in snapshot(tests).items() if p != wrong} == untouched
    assert run().returncode == 0


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (a connection to it is refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("gateway", "line"),
    [
        ("http://127.0.0.1:{port}", "Error: not recorded: {url}: Connection was refused"),
        ("127.0.0.1:{port}", "Error: GOVCRAWLER_GATEWAY must be an http(s) origin"),
    ],
    ids=["unreachable", "malformed"],
)
def test_record_without_a_network_is_one_line(tmp_path: Path, gateway: str, line: str) -> None:
    url = SITE + UTF8_PAGE
    env = {**os.environ, "GOVCRAWLER_GATEWAY": gateway.format(port=closed_port())}
    env.pop("GOVCRAWLER_REPLAY_DIR", None)
    cli = [sys.executable, "-c", "from govcrawler.cli import main; main()"]
    command = [*cli, "fixtures", "record", "--into", str(tmp_path / "site"), "--delay", "0", url]
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith(line.format(url=url)), done.stderr
    assert done.stdout == ""
    assert not (tmp_path / "site").exists()
