"""Incremental runs against the replay site: lists again, articles only when new or due."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SITE_COPY, ReplayCrawl, fixture_pages

ROOT = Path(__file__).resolve().parent.parent
SITE = "https://www.sc.gov.cn"
COLUMN = f"{SITE}/10462/10758/10760/10765"
# The saved site's article that answers 500 (tests/fixtures/site/OUTCOMES.md): never archived,
# so every run tries it again (three attempts: Scrapy retries a 500 twice).
FAILING = f"{COLUMN}/2023/9/5/bf355c4954eedf249b8acc37989d387a.shtml"
# What a run over the unchanged site requests, and why.
UNCHANGED_RUN = sorted(
    [
        f"{SITE}/robots.txt",
        f"{SITE}/10462/10758/index.shtml",  # the start page
        f"{SITE}/10462/10758/10760/index.shtml",  # the channel
        f"{COLUMN}/index.shtml",  # each column's first list page
        f"{SITE}/10462/10758/10760/10766/gzbg.shtml",
        f"{SITE}/10462/10758/10760/10767/index.shtml",  # linked from the channel, a 404
        # page 1 of 10765 links the failing article, which is not known, but the page ends in
        # a known one: the boundary is on page 1, so page 2 is not read (tolerance 1)
        FAILING,
    ]
)
RETRIES = 2


def crawl(site: Path, database: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-c",
        "from govcrawler.cli import main; main()",
        "crawl",
        "--spider",
        "sc_open_governance",
        "--replay",
        str(site),
        "--database",
        f"sqlite:///{database}",
        "--log-level",
        "DEBUG",
        *extra,
    ]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=240)


def requested(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The URLs the run fetched (each once, whatever its retries)."""
    return sorted(re.findall(r"Crawled \(\d+\) <GET (\S+)>", result.stderr))


def request_count(result: subprocess.CompletedProcess[str]) -> int:
    """Every request the run sent, retries included (from the crawl's stats)."""
    return int(re.findall(r"'downloader/request_count': (\d+)", result.stderr)[-1])


def query(database: Path, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql, args).fetchall()


def copy_of(database: Path, target: Path) -> Path:
    with sqlite3.connect(database) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    return target


@pytest.fixture
def first(replay_crawl: ReplayCrawl, crawled_archive: Path) -> tuple[Path, list[str]]:
    """The first run: the session's shared replay crawl (tests/conftest.py)."""
    return crawled_archive, requested(replay_crawl.result)


@pytest.mark.slow
def test_an_unchanged_site_costs_only_list_pages(first, tmp_path: Path) -> None:
    database = copy_of(first[0], tmp_path / "again.sqlite3")
    result = crawl(SITE_COPY, database)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert requested(result) == UNCHANGED_RUN
    assert request_count(result) == len(UNCHANGED_RUN) + RETRIES == 9
    assert len(first[1]) > 4 * len(UNCHANGED_RUN)  # the first run read everything


@pytest.mark.slow
def test_a_new_article_costs_the_list_pages_plus_one_detail(first, tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(SITE_COPY, site)
    new_url = add_article(site)
    database = copy_of(first[0], tmp_path / "new.sqlite3")
    result = crawl(site, database)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert requested(result) == sorted([*UNCHANGED_RUN, new_url])
    assert request_count(result) == len(UNCHANGED_RUN) + RETRIES + 1
    assert query(database, "SELECT COUNT(*) FROM articles WHERE url = ?", new_url) == [(1,)]
    assert "articles: 1 new," in result.stdout


@pytest.mark.slow
def test_a_full_run_fetches_everything_again(first, tmp_path: Path) -> None:
    database = copy_of(first[0], tmp_path / "full.sqlite3")
    result = crawl(SITE_COPY, database, "--full")
    assert result.returncode == 0, result.stderr[-2000:]
    assert requested(result) == first[1]


@pytest.mark.slow
def test_a_due_article_is_revisited_with_a_conditional_request(first, tmp_path: Path) -> None:
    """An article with validators, its last visit older than its revisit interval: it is
    requested with If-None-Match, the server answers 304, the archive notes the visit."""
    site = tmp_path / "site"
    shutil.copytree(SITE_COPY, site)
    page = next(p for p in fixture_pages() if "/2024/6/18/" in p.url)
    sidecar = site / (page.path.relative_to(SITE_COPY).as_posix() + ".meta.json")
    etag = '"5f2a-6620c0de"'
    sidecar.write_text(json.dumps({"headers": {"ETag": etag}}), encoding="utf-8")
    database = tmp_path / "due.sqlite3"
    assert crawl(site, database).returncode == 0
    with sqlite3.connect(database) as connection:  # the last visit, 40 days ago
        for table, column in (("article", "last_seen_at"), ("capture", "fetched_at")):
            connection.execute(f"UPDATE {table} SET {column} = datetime({column}, '-40 days')")
    result = crawl(site, database)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    revisited = [url for url in requested(result) if url not in UNCHANGED_RUN]
    assert page.url in revisited
    assert "'govcrawler/incremental/not_modified': 1," in result.stderr  # the one with an ETag
    statuses = query(database, "SELECT status FROM captures WHERE url = ? ORDER BY id", page.url)
    assert statuses[-1] == (304,)
    (seen,) = query(
        database,
        "SELECT last_seen_at > datetime('now', '-1 day') FROM articles WHERE url = ?",
        page.url,
    )[0]
    assert seen == 1


NEW_BODY = [
    "The winter tourism season of Aba Tibetan and Qiang Autonomous Prefecture opened on "
    "November 25 with ice festivals, hot springs and ski runs in several counties.",
    "Local governments have added shuttle buses from Chengdu and extended the opening hours "
    "of scenic areas, and hotels offer discounts to visitors on weekdays.",
]


def add_article(site: Path) -> str:
    """A new article in the copy of the site: a new page linked first on list page 1."""
    model = next(p for p in fixture_pages() if "/2024/6/18/" in p.url)
    new_id = "7c4e2a9b0d1f4e3a8b6c5d4e3f2a1b0c"
    new_url = f"{COLUMN}/2024/11/26/{new_id}.shtml"
    html = model.path.read_text(encoding="utf-8")
    html = html.replace(model.expected["title"], "Sichuan Opens Winter Tourism Season in Aba")
    for number, paragraph in enumerate(model.expected["body"]):
        html = html.replace(paragraph, NEW_BODY[number % len(NEW_BODY)])
    html = html.replace(model.url.rsplit("/", 1)[-1].removesuffix(".shtml"), new_id)
    target = site / new_url.removeprefix("https://")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")
    listing = site / f"{COLUMN}/index.shtml".removeprefix("https://")
    text = listing.read_text(encoding="utf-8")
    first_item = text.index("<li><a href=")
    item = f'<li><a href="{new_url.removeprefix(SITE)}">Winter tourism</a></li>\n'
    listing.write_text(text[:first_item] + item + text[first_item:], encoding="utf-8")
    return new_url
