"""Replay maps URLs to files of a wget --mirror copy, and never reads outside it; a POST is
keyed by method, URL and the digest of its (canonical JSON) body."""

import asyncio
import json
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from govcrawler.crawl.replay import (
    ReplayDownloadHandler,
    ReplayRefused,
    canonical_body,
    read_sidecar,
    replay_path,
    request_suffix,
    saved_request,
)

SITE = "https://www.sc.gov.cn"


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    root = tmp_path / "copy"
    pages = root / "www.sc.gov.cn" / "10462" / "10758"
    pages.mkdir(parents=True)
    (pages / "index.shtml").write_text("<html>home</html>")
    (pages / "index.html").write_text("<html>directory index</html>")
    (pages / "list.shtml?page=2").write_text("<html>query page</html>")
    (pages / "moved.shtml").write_text("")
    (pages / "moved.shtml.meta.json").write_text(
        json.dumps({"status": 301, "headers": {"Location": f"{SITE}/10462/10758/index.shtml"}})
    )
    (pages / "a.shtml.expected.json").write_text("{}")
    (tmp_path / "secret.txt").write_text("outside the copy")
    return root


def test_a_url_maps_to_its_file(copy: Path) -> None:
    path = replay_path(copy, f"{SITE}/10462/10758/index.shtml")
    assert path is not None and path.read_text() == "<html>home</html>"


def test_a_directory_url_is_its_index_html_as_wget_saves_it(copy: Path) -> None:
    path = replay_path(copy, f"{SITE}/10462/10758/")
    assert path is not None and path.name == "index.html"


def test_a_query_string_is_part_of_the_file_name(copy: Path) -> None:
    path = replay_path(copy, f"{SITE}/10462/10758/list.shtml?page=2")
    assert path is not None and path.read_text() == "<html>query page</html>"


def test_a_missing_page_and_the_sidecars_are_not_pages(copy: Path) -> None:
    assert replay_path(copy, f"{SITE}/10462/10758/nothing.shtml") is None
    assert replay_path(copy, f"{SITE}/10462/10758/moved.shtml.meta.json") is None
    assert replay_path(copy, f"{SITE}/10462/10758/a.shtml.expected.json") is None
    assert replay_path(copy, "https://www.other.example/10462/10758/index.shtml") is None


@pytest.mark.parametrize(
    "path",
    [
        "/10462/../../secret.txt",
        "/10462/%2e%2e/%2E%2E/secret.txt",
        "/10462/10758/..%2f..%2f..%2fsecret.txt",
        "/10462/10758/%5c..%5csecret.txt",
    ],
)
def test_traversal_is_refused_never_read(copy: Path, path: str) -> None:
    with pytest.raises(ReplayRefused):
        replay_path(copy, f"{SITE}{path}")


def test_a_symlink_out_of_the_copy_is_refused(copy: Path, tmp_path: Path) -> None:
    link = copy / "www.sc.gov.cn" / "10462" / "leak.shtml"
    link.symlink_to(tmp_path / "secret.txt")
    with pytest.raises(ReplayRefused):
        replay_path(copy, f"{SITE}/10462/leak.shtml")


def test_the_saved_status_and_headers_are_read_from_the_sidecar(copy: Path) -> None:
    page = replay_path(copy, f"{SITE}/10462/10758/moved.shtml")
    assert page is not None
    saved = read_sidecar(page)
    assert saved["status"] == 301
    assert saved["headers"]["Location"].endswith("/10462/10758/index.shtml")
    assert read_sidecar(copy / "www.sc.gov.cn" / "10462" / "10758" / "index.shtml") == {}


# --- requests keyed by method, URL and body (the list API's POSTs) -------------------------

API = f"{SITE}/cms-scsrmzf/qryZFWJListByConditionsNew"
QUERY = {
    "keyWord": "",
    "pageSize": 10,
    "pageNum": 2,
    "channelId": ["8ed1f7ae4cca4e1abfd6758159e90b20"],
}
ANSWER = json.dumps(
    {"results": [{"title": "第二页", "wh": "川府函〔2025〕3号"}]}, ensure_ascii=False
)


@pytest.fixture
def api_copy(copy: Path) -> Path:
    """The API's GET page and its answer to QUERY, written in the keyed layout."""
    folder = copy / "www.sc.gov.cn" / "cms-scsrmzf"
    folder.mkdir()
    (folder / "qryZFWJListByConditionsNew").write_text("<html>GET page</html>")
    body = json.dumps(QUERY).encode()
    answer = folder / ("qryZFWJListByConditionsNew" + request_suffix("POST", body))
    answer.write_text(ANSWER, encoding="utf-8")
    sidecar = {
        "status": 200,
        "headers": {"Content-Type": "application/json;charset=UTF-8", "ETag": '"p2"'},
        "request": saved_request("POST", body),
    }
    answer.with_name(answer.name + ".meta.json").write_text(json.dumps(sidecar))
    return copy


def serve(root: Path, request: Request) -> tuple[Response, dict]:
    crawler = get_crawler(settings_dict={"GOVCRAWLER_REPLAY_DIR": str(root)})
    handler = ReplayDownloadHandler(crawler)
    response = asyncio.run(handler.download_request(request))
    return response, handler.stats.get_stats()


def post(body: bytes | str, **headers: str) -> Request:
    return Request(API, method="POST", body=body, headers={**headers})


def test_a_post_is_answered_from_its_own_file_with_its_status_and_headers(api_copy: Path) -> None:
    response, stats = serve(api_copy, post(json.dumps(QUERY)))
    assert (response.status, response.text) == (200, ANSWER)
    assert response.headers["Content-Type"] == b"application/json;charset=UTF-8"
    assert stats["replay/served"] == 1


@pytest.mark.parametrize(
    "spelling",
    [
        json.dumps(dict(reversed(QUERY.items()))),
        json.dumps(QUERY, indent=4),
        json.dumps(QUERY, separators=(",", ":"), ensure_ascii=True),
    ],
    ids=["key order", "spacing", "compact"],
)
def test_the_same_json_spelled_otherwise_hits_the_same_file(api_copy: Path, spelling: str) -> None:
    assert spelling != json.dumps(QUERY)
    response, _ = serve(api_copy, post(spelling))
    assert (response.status, response.text) == (200, ANSWER)


@pytest.mark.parametrize(
    "body",
    [json.dumps({**QUERY, "pageNum": 3}), "", "pageNum=2&pageSize=10"],
    ids=["another page", "no body", "a form"],
)
def test_a_post_with_no_saved_answer_is_a_404_never_the_get_file(api_copy: Path, body: str) -> None:
    response, stats = serve(api_copy, post(body))
    assert (response.status, response.body) == (404, b"")
    assert stats["replay/missing"] == 1 and "replay/served" not in stats


def test_a_get_of_the_same_url_still_gets_the_get_file(api_copy: Path) -> None:
    response, _ = serve(api_copy, Request(API))
    assert (response.status, response.text) == (200, "<html>GET page</html>")
    keyed = replay_path(api_copy, API, "POST", json.dumps(QUERY).encode())
    assert keyed is not None
    # A GET never reads a keyed answer, even by its file name.
    assert replay_path(api_copy, f"{SITE}/cms-scsrmzf/{keyed.name}") is None


def test_a_conditional_post_is_answered_as_a_get_would_be(api_copy: Path) -> None:
    response, stats = serve(api_copy, post(json.dumps(QUERY), **{"If-None-Match": '"p2"'}))
    assert response.status == 304 and stats["replay/not_modified"] == 1


def test_a_body_that_is_not_json_is_keyed_by_its_bytes() -> None:
    assert canonical_body(b"b=2&a=1") == b"b=2&a=1"
    assert request_suffix("POST", b"a=1&b=2") != request_suffix("POST", b"b=2&a=1")
    assert request_suffix("GET") == "" and request_suffix("get", b"{}").startswith(".GET-")
    assert canonical_body(b'{ "b": "\\u4e2d", "a": 1 }') == '{"a":1,"b":"中"}'.encode()
