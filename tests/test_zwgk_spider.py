"""sc_zwgk, the Chinese 政务公开 spider, over the saved site: every document page reached from
the home page, the static lists and the list API; nothing requested off www.sc.gov.cn or in the
English spider's scope; lists counted by shape; bad API answers counted; generation 2 over 1.

The crawls run in a subprocess (`tests/zh_crawl.py`) with the items collected, not archived."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from govcrawler.extract.urls import in_scope
from govcrawler.extract.zhapi import API_URL, SERIES
from govcrawler.items import ListPage, NotModified, PageGone, UnreadablePage
from govcrawler.spiders.sc_open_governance import OpenGovernanceSpider
from govcrawler.spiders.sc_zwgk import SEEDS, ZwgkSpider
from tests.conftest import FIXTURES, SITE_COPY, ReplayCrawl

ROOT = Path(__file__).resolve().parent.parent
GEN2 = FIXTURES / "site-gen2"
BAD_API = FIXTURES / "zh_api_bad"
HOME = "https://www.sc.gov.cn/10462/index.shtml"


def documents(root: Path) -> list[str]:
    """The URLs of a copy's document pages that have an expected output."""
    urls = []
    for expected in sorted(root.rglob("*.expected.json")):
        if json.loads(expected.read_text("utf-8")).get("page_type") == "document":
            page = expected.with_name(expected.name.removesuffix(".expected.json"))
            urls.append("https://" + page.relative_to(root).as_posix())
    return urls


def zh_crawl(tmp: Path, *dirs: Path) -> dict[str, Any]:
    out, database = tmp / "crawl.json", f"sqlite:///{tmp / 'archive.sqlite3'}"
    command = [sys.executable, "-m", "tests.zh_crawl", str(out), database, *map(str, dirs)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(out.read_text("utf-8"))
    result["log"] = done.stderr
    return result


def stat(result: dict[str, Any], key: str) -> int:
    return int(result["stats"].get(f"govcrawler/{key}", 0))


def fetched(result: dict[str, Any]) -> set[str]:
    return {url for method, url, _ in result["downloaded"] if method == "GET"}


def api_pages(result: dict[str, Any]) -> Counter[tuple[str, int]]:
    names = {channel: series for series, channel in SERIES.items()}
    pages: Counter[tuple[str, int]] = Counter()
    for method, url, body in result["downloaded"]:
        if method == "POST":
            assert url == API_URL
            query = json.loads(body)
            pages[(names[query["channelId"][0]], query["pageNum"])] += 1
    return pages


# --- without a crawl -------------------------------------------------------------------------


def test_the_two_spiders_scopes_are_disjoint() -> None:
    chinese, english = ZwgkSpider.scope_prefixes, OpenGovernanceSpider.scope_prefixes
    for a in chinese:
        for b in english:
            assert not a.startswith(b) and not b.startswith(a), (a, b)


def test_the_seeds_and_the_api_are_in_scope_and_the_home_page_is_the_start() -> None:
    assert ZwgkSpider.start_url == HOME
    assert all(in_scope(seed, ZwgkSpider.scope_prefixes) for seed in SEEDS)
    assert in_scope(API_URL, ZwgkSpider.scope_prefixes)
    assert not in_scope(HOME, OpenGovernanceSpider.scope_prefixes)


# --- generation 1 ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gen1(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return zh_crawl(tmp_path_factory.mktemp("zwgk-gen1"), SITE_COPY)


@pytest.mark.slow
def test_every_document_page_is_reached_and_yields_a_document(gen1: dict[str, Any]) -> None:
    expected = documents(SITE_COPY)
    assert len(expected) >= 12
    reached = {item["url"] for item in gen1["items"] if item["type"] == "DocumentPage"}
    assert set(expected) <= reached
    assert stat(gen1, "coverage/documents") == len(reached)
    layouts = sum(stat(gen1, f"documents/layout/{x}") for x in ("a", "b", "c", "none"))
    assert layouts == len(reached)


@pytest.mark.slow
def test_only_www_is_requested_never_a_department_or_a_mirror(gen1: dict[str, Any]) -> None:
    hosts = Counter(urlsplit(url).hostname for _, url, _ in gen1["downloaded"])
    assert set(hosts) == {"www.sc.gov.cn"}, hosts
    assert all(url.startswith("https://") for _, url, _ in gen1["scheduled"])
    assert stat(gen1, "links/department") > 0  # rst, ylbzj, dnr, fgw on the home and channel
    assert stat(gen1, "links/offsite") > 0  # the mirror, gov.cn, the footer's badges
    assert not any("jingxiang" in url for _, url, _ in gen1["scheduled"])


@pytest.mark.slow
def test_the_english_spiders_pages_are_never_requested(gen1: dict[str, Any]) -> None:
    english = OpenGovernanceSpider.scope_prefixes
    assert not [url for url in fetched(gen1) if in_scope(url, english)]


@pytest.mark.slow
def test_the_six_series_are_read_from_the_api_two_pages_each(gen1: dict[str, Any]) -> None:
    assert api_pages(gen1) == Counter({(s, n): 1 for s in SERIES for n in (1, 2)})
    assert stat(gen1, "api/pages") == 12
    problems = {k: v for k, v in gen1["stats"].items() if k.startswith("govcrawler/api/")}
    assert set(problems) == {"govcrawler/api/pages", "govcrawler/api/rows"}
    assert "/10462/zfwjts/2025/9/3/f4121330258876ba4b39a50f87efdc25.shtml" in str(fetched(gen1))


@pytest.mark.slow
def test_lists_are_counted_by_shape_and_their_pagers_followed(gen1: dict[str, Any]) -> None:
    shapes = {
        key.removeprefix("govcrawler/lists/shape/"): value
        for key, value in gen1["stats"].items()
        if key.startswith("govcrawler/lists/shape/")
    }
    assert set(shapes) == {
        *("dash_table", "biaobody", "yxgzul", "gazette_issue", "gazette_issues"),
        *("interpretations", "links", "unknown"),
    }
    site = "https://www.sc.gov.cn/10462"
    numbered = {
        f"{site}/c102914/gfxwj_2.shtml",  # 共2页 and 下一页
        f"{site}/c108923/zfgz_list_2.shtml",  # 共2页
        f"{site}/10464/13298/13299/zcjd_list_2.shtml",  # the pager script
        f"{site}/c103046/stt_list_2.shtml",  # the old 下页
        f"{site}/10464/10684/10692/zfwj_cbf_2.shtml",
    }
    assert numbered <= fetched(gen1)
    assert not [url for url in fetched(gen1) if url.endswith(("_3.shtml", "_1.shtml"))]
    assert set(SEEDS) <= fetched(gen1)
    assert stat(gen1, "pages/unclassified/dated") == 1  # the landing's content_<n> page


# --- bad answers of the list API -------------------------------------------------------------


@pytest.mark.slow
def test_bad_api_answers_are_counted_and_end_their_series(tmp_path: Path) -> None:
    result = zh_crawl(tmp_path, BAD_API, SITE_COPY)
    for problem in ("html", "invalid_json", "empty", "count_mismatch"):
        assert stat(result, f"api/{problem}") == 1, problem
    pages = api_pages(result)
    for series in ("川府函", "川办函", "川府规", "川办规"):  # the bad first pages
        assert (series, 2) not in pages
    assert pages[("川府发", 2)] == pages[("川办发", 2)] == 1
    assert "list API: html answer for 川府函 page 1" in result["log"]


# --- generation 2 over generation 1 ----------------------------------------------------------


@pytest.mark.slow
def test_generation_2_adds_and_withdraws_documents(tmp_path: Path) -> None:
    result = zh_crawl(tmp_path, GEN2, SITE_COPY)
    new = "https://www.sc.gov.cn/10462/zfwjts/2026/11/20/c0ea9385d94e2cf92b9d0e52aa52068f.shtml"
    assert new in fetched(result)  # linked by generation 2's landing and 川办发 page 1
    reached = {item["url"] for item in result["items"] if item["type"] == "DocumentPage"}
    assert set(documents(GEN2)) <= reached
    gone = {item["url"] for item in result["items"] if item["type"] == "PageGone"}
    for sidecar in GEN2.rglob("*.shtml.meta.json"):
        page = sidecar.with_name(sidecar.name.removesuffix(".meta.json"))
        if not page.exists() and json.loads(sidecar.read_text("utf-8")).get("status") == 404:
            assert "https://" + page.relative_to(GEN2).as_posix() in gone
    assert api_pages(result) == Counter({(s, n): 1 for s in SERIES for n in (1, 2)})


# --- the English spider stays in its scope ----------------------------------------------------


@pytest.mark.slow
def test_the_english_spider_never_requests_a_chinese_page(replay_crawl: ReplayCrawl) -> None:
    import re

    urls = re.findall(r"Crawled \(\d+\) <GET (\S+)>", replay_crawl.result.stderr)
    assert urls
    assert not [url for url in urls if in_scope(url, ZwgkSpider.scope_prefixes)]
    assert HOME not in urls


@pytest.mark.slow
def test_crawl_takes_several_replay_copies_upper_first(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "from govcrawler.cli import main; main()", "crawl"]
    command += ["--spider", "sc_zwgk", "--replay", str(BAD_API), "--replay", str(SITE_COPY)]
    command += ["--database", f"sqlite:///{tmp_path / 'a.sqlite3'}", "--log-level", "INFO"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.splitlines()[1] == "spider: sc_zwgk"
    assert "list API: html answer for 川府函 page 1" in done.stderr  # from the upper copy
    assert "'govcrawler/coverage/documents': " in done.stderr  # documents from the lower one


# --- callbacks, without a crawl --------------------------------------------------------------


def spider() -> ZwgkSpider:
    crawler = get_crawler(ZwgkSpider, {"GOVCRAWLER_DATABASE_URL": "sqlite://"})
    made = ZwgkSpider.from_crawler(crawler)
    assert crawler.stats is not None
    crawler.stats.open_spider()
    return made


def counted(zwgk: ZwgkSpider, key: str) -> int:
    assert zwgk.crawler.stats is not None
    return int(zwgk.crawler.stats.get_value(f"govcrawler/{key}", 0))


def test_a_list_page_follows_documents_and_lists_and_counts_the_rest() -> None:
    zwgk = spider()
    body = (
        '<html><body><ul class="list-ul">'
        '<li><a href="/10462/zfwjts/2025/4/22/9c3e5a7b1d2f4e6a8b0c2d4e6f8a0b1c.shtml">文件</a></li>'
        '<li><a href="/10462/c102914/gfxwj.shtml">规范性文件</a></li>'
        '<li><a href="/10462/10758/10760/index.shtml">Open Governance</a></li>'
        '<li><a href="https://rst.sc.gov.cn/rst/xwfb/list.shtml">人社厅</a></li>'
        '<li><a href="http://www.sc.gov.cn.mirror.example/10462/index.shtml">镜像</a></li>'
        '<li><a href="/10462/zfwjts/2021/3/5/content_2021030512.shtml">旧页</a></li>'
        "</ul></body></html>"
    )
    url = "https://www.sc.gov.cn/10462/zfwjts/zfwj.shtml"
    response = HtmlResponse(url, body=body.encode(), encoding="utf-8")
    captured, *requests = list(zwgk.parse(response))
    assert isinstance(captured, ListPage) and captured.fetch.url == url  # the list is captured
    assert [(r.url, r.callback.__name__) for r in requests] == [  # type: ignore[union-attr]
        (
            "https://www.sc.gov.cn/10462/zfwjts/2025/4/22/9c3e5a7b1d2f4e6a8b0c2d4e6f8a0b1c.shtml",
            "parse_detail",
        ),
        ("https://www.sc.gov.cn/10462/c102914/gfxwj.shtml", "parse"),
    ]
    assert counted(zwgk, "lists/shape/links") == 1
    assert counted(zwgk, "links/department") == 1
    assert counted(zwgk, "links/offsite") == 1
    assert counted(zwgk, "pages/unclassified/dated") == 1
    assert counted(zwgk, "links/column/zfwjts") == 1


def test_a_document_that_is_gone_or_unchanged_is_an_item_of_its_own() -> None:
    zwgk = spider()
    url = "https://www.sc.gov.cn/10462/zfwjts/2025/4/22/9c3e5a7b1d2f4e6a8b0c2d4e6f8a0b1c.shtml"
    (gone,) = zwgk.parse_detail(HtmlResponse(url, status=404, request=Request(url)))
    (same,) = zwgk.parse_detail(HtmlResponse(url, status=304, request=Request(url)))
    assert (type(gone), type(same)) == (PageGone, NotModified)
    empty = HtmlResponse(url, body=b"<html><body></body></html>", request=Request(url))
    (unreadable,) = zwgk.parse_detail(empty)
    assert isinstance(unreadable, UnreadablePage)


def test_an_api_answer_that_is_html_is_counted_captured_and_asks_for_nothing() -> None:
    zwgk = spider()
    request = zwgk.api_request("川府函", SERIES["川府函"], 1)
    assert request.method == "POST" and request.url == API_URL
    assert request.headers["Content-Type"] == b"application/json"
    assert request.headers["Referer"].endswith(b"/10462/c103041/newzfwj.shtml")
    answer = HtmlResponse(API_URL, body="<html>系统繁忙</html>".encode(), request=request)
    (captured,) = zwgk.parse_api(answer)  # kept as the site answered, its query with it
    assert isinstance(captured, ListPage) and captured.fetch.url == API_URL
    assert (captured.fetch.method, captured.fetch.request_body) == ("POST", request.body)
    assert counted(zwgk, "api/html") == 1


# --- incremental: a second run over the unchanged site ---------------------------------------


def archives_documents() -> bool:
    from govcrawler.items import DocumentPage
    from govcrawler.pipelines import PATHS

    return any(path.item_type is DocumentPage for path in PATHS)


@pytest.mark.slow
@pytest.mark.skipif(not archives_documents(), reason="no archive path for DocumentPage yet")
def test_a_second_run_reads_the_lists_again_but_no_known_document(tmp_path: Path) -> None:
    import re

    command = [sys.executable, "-c", "from govcrawler.cli import main; main()", "crawl"]
    command += ["--spider", "sc_zwgk", "--replay", str(SITE_COPY), "--log-level", "DEBUG"]
    command += ["--database", f"sqlite:///{tmp_path / 'a.sqlite3'}"]
    runs = [subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)]
    runs.append(subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300))
    assert [run.returncode for run in runs] == [0, 0], runs[1].stderr[-3000:]
    second = set(re.findall(r"Crawled \(\d+\) <(?:GET|POST) (\S+)>", runs[1].stderr))
    assert HOME in second and set(SEEDS) <= second  # the lists, read again
    assert not set(documents(SITE_COPY)) & second  # every document is known, none due
    assert not {f"{HOME.rsplit('/', 1)[0]}/c102914/gfxwj_2.shtml"} & second  # page 1 ended known
    assert runs[1].stderr.count(f"<POST {API_URL}>") >= len(SERIES)  # page 1 of each series
