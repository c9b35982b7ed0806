"""End to end: the real Scrapy stack crawls the saved site in a subprocess into a temporary
archive, as `make demo` does."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import (
    ENGLISH_ONLY,
    SITE_COPY,
    FixturePage,
    ReplayCrawl,
    fixture_pages,
    scrapy_crawl,
)

ROOT = Path(__file__).resolve().parent.parent
GOVCRAWLER = [sys.executable, "-c", "from govcrawler.cli import main; main()"]
PAGES = fixture_pages()
# The republished copy lives outside the column paths; every other expected page is an article.
REPUBLISHED = [page for page in PAGES if "/newsdlb/" in page.url]
ORIGINALS = [page for page in PAGES if page not in REPUBLISHED]
# Literal pieces of every footer variant and of the page furniture (SITE.md), checked as plain
# substrings: independent of the rules the crawler uses to remove them.
NEVER_IN_A_BODY = [
    "Unit in Charge",
    "Big Data Center",
    "Website Operation and Maintenance",
    "Website Identification Code",
    "5100000062",
    "ICP No",
    "Internet Security Record",
    "All Rights Reserved",
    "Technical Support",
    "E-Administration Extranet",
    "主办单位",
    "四川省大数据中心",
    "网站标识码",
    "蜀ICP备",
    "川公网安备",
    "Simp. Chinese",
    "Trad. Chinese",
    "Updated:",
    "Font size",
    "Share to",
]


def run_crawl(database: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [
        *GOVCRAWLER,
        "crawl",
        *ENGLISH_ONLY,
        "--replay",
        str(SITE_COPY),
        "--database",
        f"sqlite:///{database}",
        "--log-level",
        "DEBUG",
        *extra,
    ]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=240)


@pytest.fixture
def crawled(
    replay_crawl: ReplayCrawl, crawled_archive: Path
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The session's shared crawl (tests/conftest.py): a copy of its archive, and its run."""
    return crawled_archive, replay_crawl.result


def query(database: Path, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql, args).fetchall()


def test_every_fixture_article_is_archived_once_as_expected(crawled) -> None:
    database, _ = crawled
    assert query(database, "SELECT COUNT(*) FROM articles") == [(len(ORIGINALS),)]
    for page in ORIGINALS:
        rows = query(
            database,
            "SELECT title, published_on, column_id, body FROM articles WHERE url = ?",
            page.url,
        )
        expected = page.expected
        assert rows == [
            (
                expected["title"],
                expected["published_on"],
                expected["column_id"],
                "\n\n".join(expected["body"]),
            )
        ], page.id


def test_the_republished_article_is_one_row_with_two_urls(crawled) -> None:
    database, _ = crawled
    assert REPUBLISHED, "the saved site must hold a republished article"
    for copy in REPUBLISHED:
        original = next(p for p in ORIGINALS if p.expected["body"] == copy.expected["body"])
        rows = query(
            database,
            "SELECT a.url, al.url FROM article_alias AS al"
            " JOIN article AS a ON a.id = al.article_id WHERE al.url = ?",
            copy.url,
        )
        assert rows == [(original.url, copy.url)]


def test_no_stored_body_holds_a_footer_navigation_or_column_label_line(crawled) -> None:
    database, _ = crawled
    for url, body in query(database, "SELECT url, body FROM articles"):
        for paragraph in body.split("\n\n"):
            assert paragraph.strip() not in ("Open Governance", "Government", ""), url
            found = [piece for piece in NEVER_IN_A_BODY if piece in paragraph]
            assert not found, f"{url}: {found} in {paragraph[:80]!r}"


def test_a_republication_with_small_edits_is_linked_not_merged(crawled) -> None:
    database, _ = crawled
    edited = [page for page in PAGES if "/syftyg/" in page.url]
    assert edited, "the saved site must hold a republication with small edits"
    links = query(
        database,
        "SELECT c.url, o.url FROM near_duplicate AS n JOIN article AS c ON c.id = n.article_id"
        " JOIN article AS o ON o.id = n.original_id",
    )
    expected = set()
    for copy in edited:
        caption = copy.expected["body"][1:-1]  # the same text between an edited caption and a
        original = next(  # source line added at the end
            p for p in ORIGINALS if p is not copy and p.expected["body"][1:] == caption
        )
        expected.add((copy.url, original.url))
    assert set(links) == expected


def test_columns_are_named_as_the_navigation_names_them(crawled) -> None:
    database, _ = crawled
    names = dict(
        query(
            database,
            "SELECT DISTINCT column_id, column_name FROM articles WHERE column_id LIKE '107%'",
        )
    )
    assert names == {"10765": "News", "10766": "Report on the Work of the Government"}


def test_no_request_ever_leaves_www_sc_gov_cn(crawled) -> None:
    _, result = crawled
    fetched = re.findall(r"Crawled \(\d+\) <GET (\S+)>", result.stderr)
    assert len(fetched) > len(PAGES)
    assert {urlsplit(url).hostname for url in fetched} == {"www.sc.gov.cn"}
    assert all(url.startswith("https://") for url in fetched)


def test_each_page_is_fetched_once_by_the_on_disk_duplicate_filter(crawled) -> None:
    _, result = crawled
    fetched = re.findall(r"Crawled \(\d+\) <GET (\S+)>", result.stderr)
    assert len(fetched) == len(set(fetched))  # (a retried page is logged once, at the end)
    assert "[govcrawler.crawl.seen] DEBUG: Filtered duplicate request" in result.stderr
    filtered = re.search(r"'dupefilter/filtered': (\d+)", result.stderr)
    assert filtered and int(filtered[1]) > 0


def test_bad_pages_end_as_counted_outcomes(crawled) -> None:
    _, result = crawled
    summary = result.stdout
    assert summary.splitlines()[1] == "spider: sc_open_governance"  # one spider, one summary
    assert summary.count("spider: ") == 1
    assert "dropped: empty_page 1, http_404 1, http_500 1" in summary  # 404: a list page
    assert "gone (404/410): 404 1 (0 newly withdrawn, 0 still gone, 1 never archived)" in summary
    assert re.search(r"extraction: container \d+, generic 1\b", summary)
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_second_full_crawl_adds_nothing(crawled, tmp_path: Path) -> None:
    database, _ = crawled
    copy = tmp_path / "again.sqlite3"
    with sqlite3.connect(database) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    before = query(copy, "SELECT id, url, title, body, first_seen_at FROM articles ORDER BY id")
    result = run_crawl(copy, "--full")
    assert result.returncode == 0, result.stderr[-3000:]
    after = query(copy, "SELECT id, url, title, body, first_seen_at FROM articles ORDER BY id")
    assert after == before
    assert query(copy, "SELECT COUNT(*) FROM article_alias") == [(len(REPUBLISHED),)]
    assert f"articles: 0 new, 0 new_version, {len(ORIGINALS)} unchanged" in result.stdout
    # every response is byte-identical to the first crawl's: revisits, no second body
    kinds = dict(
        query(copy, "SELECT kind, COUNT(*) FROM captures WHERE NOT is_revisit GROUP BY kind")
    )
    assert (
        f"captures: 0 stored, {kinds['page']} revisits (no second body); "
        f"list pages 0 stored, {kinds['list']} revisits"
    ) in result.stdout


@pytest.mark.slow
def test_a_page_taken_down_is_marked_withdrawn_never_deleted(crawled, tmp_path: Path) -> None:
    database, _ = crawled
    site = tmp_path / "site"
    shutil.copytree(SITE_COPY, site)
    gone = next(page for page in ORIGINALS if "/10766/" in page.url)
    (site / gone.path.relative_to(SITE_COPY)).unlink()  # the list still links it: a 404
    copy = tmp_path / "withdrawn.sqlite3"
    with sqlite3.connect(database) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    before = query(
        copy, "SELECT id, title, body, version_count FROM articles WHERE url = ?", gone.url
    )
    command = [*GOVCRAWLER, "crawl", *ENGLISH_ONLY, "--replay", str(site)]
    command += ["--database", f"sqlite:///{copy}"]
    command.append("--full")  # a known article is re-read when due; --full makes it due now
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "(1 newly withdrawn, 0 still gone, 1 never archived)" in result.stdout
    rows = query(
        copy,
        "SELECT id, title, body, version_count, withdrawn_at FROM articles WHERE url = ?",
        gone.url,
    )
    assert [row[:4] for row in rows] == before
    assert rows[0][4] is not None
    assert query(copy, "SELECT COUNT(*) FROM articles WHERE withdrawn_at IS NOT NULL") == [(1,)]
    assert query(copy, "SELECT status FROM captures WHERE url = ? ORDER BY id", gone.url) == [
        (200,),
        (404,),
    ]


@pytest.mark.slow
def test_scrapy_crawl_keeps_working_for_developers(tmp_path: Path) -> None:
    database = tmp_path / "scrapy.sqlite3"
    command = scrapy_crawl(database)
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    assert query(database, "SELECT COUNT(*) FROM articles") == [(len(ORIGINALS),)]


def test_a_bad_database_url_is_one_line_and_exit_1(tmp_path: Path) -> None:
    result = subprocess.run(
        [*GOVCRAWLER, "crawl", "--replay", str(SITE_COPY), "--database", "nonsense"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "not a database URL" in result.stderr


def test_fixture_page_helper_reads_gbk(crawled) -> None:
    gbk = [
        p
        for p in PAGES
        if "charset=gb2312" in p.path.read_bytes()[:2000].decode("ascii", "replace")
    ]
    assert gbk, "the saved site must hold a GBK page"
    page: FixturePage = gbk[0]
    database, _ = crawled
    (body,) = query(database, "SELECT body FROM articles WHERE url = ?", page.url)[0]
    assert re.search(r"[\u4e00-\u9fff]", body)
