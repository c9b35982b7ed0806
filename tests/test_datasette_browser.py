"""What a researcher sees in Datasette, in a real headless Chromium (Debian's, with a CJK font).

A small archive of English articles and Chinese documents (the real write path) is served by
`datasette` with datasette/metadata.json and the plugin in datasette/plugins, as the README
says to; the browser opens the pages a researcher opens and the test measures them in the DOM:
descriptions rendered (no raw Markdown), list rows of a readable height with no column squeezed,
a Chinese and an English search, a facet, a document's own page. Screenshots of those pages
go to the test's output directory (printed), for a person to look at; they are not committed.
"""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.chromium import Chromium, chromium_missing
from tests.conftest import ROOT
from tests.test_search_docnumber import (
    FOLLOW_UP,
    INVESTMENT,
    MEASURES,
    OFFICE,
    PANDA,
    READING,
    ROADS,
    build,
)

MISSING = chromium_missing()
pytestmark = [pytest.mark.slow, pytest.mark.skipif(MISSING is not None, reason=str(MISSING))]
DATASETTE = Path(sys.executable).parent / "datasette"
# Tall enough for a title and an excerpt over a few lines; an unreadable row was 3,000 px.
MOST_ROW_HEIGHT = 260
NARROWEST_TEXT_COLUMN = 180  # px: a title, excerpt or body narrower than this is squeezed

ROWS = "[...document.querySelectorAll('table.rows-and-columns tbody tr')]"
ROW_HEIGHTS = f"{ROWS}.map(row => row.getBoundingClientRect().height)"
IDS = f"{ROWS}.map(row => Number(row.querySelector('td.col-id').innerText))"
WIDTHS = (
    "Object.fromEntries([...document.querySelectorAll('table.rows-and-columns thead th')]"
    ".map(th => [th.dataset.column, th.getBoundingClientRect().width]))"
)
SHEET = (
    f"Object.fromEntries({ROWS}.map(row => [row.querySelector('td.col-field').innerText,"
    " row.querySelector('td.col-value').innerText]))"
)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("datasette") / "archive.sqlite3"  # the metadata's name
    build(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="module")
def ids(archive: Path) -> dict[str, int]:
    """Archive id by URL."""
    connection = sqlite3.connect(archive)
    try:
        return dict(connection.execute("SELECT url, id FROM article").fetchall())
    finally:
        connection.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("datasette-log") / "datasette.log"
    command = [str(DATASETTE), str(archive), "--metadata", str(ROOT / "datasette/metadata.json")]
    command += ["--plugins-dir", str(ROOT / "datasette/plugins")]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/-/versions.json", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"datasette did not start: {log.read_text()[-2000:]}")
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def shots(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("screenshots")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print(f"\nDatasette screenshots: {folder}", flush=True)
    return folder


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    chromium = Chromium(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield chromium
    finally:
        chromium.close()


def page(browser: Chromium, server: str, path: str, **query: Any) -> None:
    browser.open(f"{server}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else ""))


def test_chinese_renders_in_a_cjk_font(browser: Chromium, server: str) -> None:
    page(browser, server, "/archive/document_list")
    assert browser.evaluate("document.fonts.check('16px \"Noto Sans CJK SC\"', '四川')")


def test_the_database_page_renders_its_description(
    browser: Chromium, server: str, shots: Path
) -> None:
    page(browser, server, "/archive")
    browser.screenshot(shots / "database.png")
    text = browser.evaluate("document.body.innerText")
    assert "`" not in text
    assert "govcrawler crawl" in browser.evaluate(
        "[...document.querySelectorAll('code')].map(code => code.innerText).join(' ')"
    )
    links = browser.evaluate("[...document.querySelectorAll('a')].map(a => a.pathname)")
    assert {"/archive/article_list", "/archive/document_list", "/archive/document"} <= set(links)


@pytest.mark.parametrize(
    ("path", "text_columns"),
    [
        ("/archive/article_list", ("title", "excerpt")),
        ("/archive/document_list", ("title", "excerpt")),
        ("/archive/articles", ("title", "body")),
        ("/archive/documents", ("title", "body")),
    ],
)
def test_list_pages_have_rows_of_readable_height(
    browser: Chromium,
    server: str,
    shots: Path,
    path: str,
    text_columns: tuple[str, ...],
    ids: dict[str, int],
) -> None:
    page(browser, server, path)
    browser.screenshot(shots / f"{path.rsplit('/', 1)[1]}.png")
    heights = browser.evaluate(ROW_HEIGHTS)
    documents = path.startswith("/archive/document")
    assert len(heights) == (6 if documents else len(ids))
    assert max(heights) <= MOST_ROW_HEIGHT, heights
    widths = browser.evaluate(WIDTHS)
    for column in text_columns:
        assert widths[column] >= NARROWEST_TEXT_COLUMN, widths
    if path == "/archive/article_list":  # every column in the window: nothing off its edge
        table = "document.querySelector('table.rows-and-columns').getBoundingClientRect().width"
        assert browser.evaluate(table) <= browser.evaluate("document.body.clientWidth")
    if "body" in text_columns:  # cut to its start, its length said
        cut = "[...document.querySelectorAll('td.col-body')].map(td => td.innerText)"
        assert any(text.endswith(" characters)") for text in browser.evaluate(cut))


def test_a_chinese_search_finds_words_of_any_length_and_doc_numbers(
    browser: Chromium, server: str, shots: Path, ids: dict[str, int]
) -> None:
    page(browser, server, "/archive/document_list", _search="民营经济")
    browser.screenshot(shots / "search-zh.png")
    expected = {ids[record.url] for record in (MEASURES, FOLLOW_UP, READING)}
    assert set(browser.evaluate(IDS)) == expected
    assert browser.evaluate("document.querySelector('input[name=_search]').value") == "民营经济"
    page(browser, server, "/archive/document_list", _search="川府发[2024]3号")
    assert set(browser.evaluate(IDS)) == expected  # the document and the two citing it
    page(browser, server, "/archive/article_list", _search="四川")
    assert ids[PANDA.url] not in browser.evaluate(IDS)  # an English article has no 四川


def test_an_english_search(
    browser: Chromium, server: str, shots: Path, ids: dict[str, int]
) -> None:
    page(browser, server, "/archive/article_list", _search="private credit")
    browser.screenshot(shots / "search-en.png")
    assert browser.evaluate(IDS) == [ids[INVESTMENT.url]]
    page(browser, server, "/archive/articles", _search="pandas")
    assert browser.evaluate(IDS) == [ids[PANDA.url]]


def test_a_facet_narrows_the_documents(
    browser: Chromium, server: str, shots: Path, ids: dict[str, int]
) -> None:
    page(browser, server, "/archive/document_list")
    facets = browser.evaluate(
        "[...document.querySelectorAll('.facet-info')].map(f => f.dataset.column)"
    )
    assert {"issuer", "doc_series", "year", "validity"} <= set(facets)
    link = browser.evaluate(
        "[...document.querySelectorAll('.facet-info[data-column=issuer] li a')]"
        f".find(a => a.innerText.trim() === '{OFFICE}').href"
    )
    browser.open(link)
    browser.screenshot(shots / "facet.png")
    assert set(browser.evaluate(IDS)) == {ids[ROADS.url], ids[FOLLOW_UP.url]}
    page(browser, server, "/archive/documents", validity="失效")
    assert browser.evaluate(IDS) == [ids[ROADS.url]]


def test_a_documents_title_opens_its_page_with_its_fields(
    browser: Chromium, server: str, shots: Path, ids: dict[str, int]
) -> None:
    page(browser, server, "/archive/document_list")
    link = browser.evaluate(
        f"[...document.querySelectorAll('td.col-title a')].find(a => a.innerText === "
        f"'{MEASURES.title}').href"
    )
    assert link.endswith(f"/archive/document?id={ids[MEASURES.url]}")
    browser.open(link)
    browser.screenshot(shots / "document.png")
    fields = browser.evaluate(SHEET)
    assert fields["title"] == MEASURES.title
    assert fields["doc_number 文号"] == "川府发〔2024〕3号"
    assert fields["issuer 发布机构"] == "四川省人民政府"
    assert fields["validity 有效性"] == "有效"
    assert fields["written_on 成文日期"] == "2024-01-30"
    assert fields["url"] == MEASURES.url
    assert "认真贯彻执行" in fields["body"] and "\n" in fields["body"]  # paragraphs kept
    assert fields["column_path"] == "首页 › 政务公开 › 省政府文件 › 川府发"
    assert fields["attachments"] == "四川省促进民营经济高质量发展若干措施.pdf"
    assert fields["interpreted_by"] == READING.title
    assert fields["cited_by"].split("\n") == [FOLLOW_UP.title, READING.title]
    links = browser.evaluate("[...document.querySelectorAll('td.col-value a')].map(a => a.href)")
    assert f"{server}/archive/document?id={ids[READING.url]}" in links
    heights = browser.evaluate(ROW_HEIGHTS)
    assert max(heights[:-1]) <= 80, heights  # one line per field but the body
