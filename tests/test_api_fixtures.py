"""The saved answers of the list API (`newzfwj`, SITE-ZH §1.1) replay like pages, and each
keyed file is named by the request its sidecar records (a hand edit that broke the link fails)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.utils.test import get_crawler

from govcrawler.crawl.replay import (
    KEYED_NAME,
    RESERVED_SUFFIXES,
    ReplayDownloadHandler,
    read_sidecar,
    request_suffix,
)
from govcrawler.extract.urls import is_site_url
from tests.conftest import SITE_COPY

API = "https://www.sc.gov.cn/cms-scsrmzf/qryZFWJListByConditionsNew"
# Page 1 of 川府发, spelled as the page's script sends it (SITE-ZH §1.1).
FIRST_PAGE = (
    b'{"keyWord":"","wh":"","fwzh":"","pageSize":10,"pageNum":1,'
    b'"channelId":["973183bdfdc94e9c9060f0707db6dd47"]}'
)
KEYED = sorted(
    path
    for path in SITE_COPY.rglob("*")
    if KEYED_NAME.search(path.name) and not path.name.endswith(RESERVED_SUFFIXES)
)


def test_the_saved_site_has_a_list_api_answer() -> None:
    assert any(path.name.startswith("qryZFWJListByConditionsNew.POST-") for path in KEYED)


@pytest.mark.parametrize("path", KEYED, ids=lambda path: path.name)
def test_a_keyed_file_is_named_by_the_request_in_its_sidecar(path: Path) -> None:
    request = read_sidecar(path)["request"]
    body = json.dumps(request["json"]).encode() if "json" in request else request["text"].encode()
    assert path.name.endswith(request_suffix(request["method"], body))


def test_replay_serves_the_first_page_of_the_list_api() -> None:
    crawler = get_crawler(settings_dict={"GOVCRAWLER_REPLAY_DIR": str(SITE_COPY)})
    handler = ReplayDownloadHandler(crawler)
    request = Request(API, method="POST", body=FIRST_PAGE)
    response = asyncio.run(handler.download_request(request))
    assert response.status == 200
    assert response.headers["Content-Type"].startswith(b"application/json")
    results = json.loads(response.body)["results"]
    assert len(results) == 10  # pageSize
    for row in results:
        assert set(row) == {"url", "publishedTime", "wh", "title"}
        assert is_site_url(row["url"]) and row["wh"].startswith("川府发〔")
