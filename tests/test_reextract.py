"""`govcrawler reextract` end to end, on archives built by real replay crawls of the saved site.

The "older" archive is crawled with two rules pinned off (`tests/older_extraction`: English
photo captions, a document's 来源); re-extracting it with the current extraction must report
exactly the pages those rules change, fix them as versions made by re-extraction, then write
nothing; a run killed between batches and rerun must end as one run did. A crawl of the same
site afterwards sees no edit: the fixes were ours, not the site's.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from govcrawler.extract.article import article_from_page
from govcrawler.extract.document import document_from_page
from tests.conftest import GOVCRAWLER, ROOT, SITE_COPY, fixture_pages, sqlite_url

pytestmark = pytest.mark.slow
OLDER = ROOT / "tests" / "older_extraction"


def govcrawler(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*GOVCRAWLER, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=240,
        env={**os.environ, **(env or {})},
    )


def crawl(archive: Path, env: dict[str, str] | None = None) -> None:
    done = govcrawler(
        "crawl", "--replay", str(SITE_COPY), "--database", sqlite_url(archive), env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]


def reextract(archive: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    done = govcrawler("reextract", "--json", *args, "--database", sqlite_url(archive), env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def older(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole saved site crawled (both spiders) by the older extraction."""
    archive = tmp_path_factory.mktemp("older") / "archive.sqlite3"
    path = [str(OLDER), *filter(None, [os.environ.get("PYTHONPATH")])]
    crawl(archive, env={"PYTHONPATH": os.pathsep.join(path)})
    return archive


@pytest.fixture(scope="module")
def current(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same site crawled by the current extraction."""
    archive = tmp_path_factory.mktemp("current") / "archive.sqlite3"
    crawl(archive)
    return archive


def copy_of(archive: Path, target: Path) -> Path:
    target.write_bytes(archive.read_bytes())
    return target


def rows(archive: Path, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(archive)) as connection:
        return connection.execute(sql).fetchall()


def pinned_off() -> dict[str, list[str]]:
    """What the two rules give on the saved site's pages: the pages the older extraction got
    wrong, by URL, with the field it got wrong."""
    wrong: dict[str, list[str]] = {}
    for page in fixture_pages(None):
        if page.page_type == "article":
            if article_from_page(page.html(), page.url).captions:
                wrong[page.url] = ["captions"]
        elif document_from_page(page.html(), page.url).fields.source:
            wrong[page.url] = ["source"]
    return wrong


def expected_fixes(archive: Path) -> dict[str, list[str]]:
    """The pages of `archive` the older extraction got wrong (URL: fields)."""
    archived = {url for (url,) in rows(archive, "SELECT url FROM article")}
    return {url: f for url, f in pinned_off().items() if url in archived}


def by_field(fixes: dict[str, list[str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for fields in fixes.values():
        for name in fields:
            counts[name] = counts.get(name, 0) + 1
    return counts


# Every table reextract writes, as a reader sees it; a change's detection time aside (the
# moment a run found it, which a rerun cannot repeat).
STATE = {
    "article": "SELECT * FROM article ORDER BY id",
    "article_version": "SELECT * FROM article_version ORDER BY id",
    "document_version": "SELECT * FROM document_version ORDER BY version_id",
    "document_reference": "SELECT * FROM document_reference ORDER BY id",
    "article_change": "SELECT id, article_id, version_id, change, field, old_value, new_value, "
    "run_id, origin FROM article_change ORDER BY id",
    "near_duplicate": "SELECT * FROM near_duplicate ORDER BY article_id, original_id",
    "near_duplicate_band": "SELECT * FROM near_duplicate_band ORDER BY band_key, article_id",
    "file_link": "SELECT * FROM file_link ORDER BY article_id, file_id",
    "site_file": "SELECT * FROM site_file ORDER BY id",
    "articles_fts": "SELECT * FROM articles_fts_docsize ORDER BY id",
}


def state(archive: Path) -> dict[str, list[tuple[Any, ...]]]:
    return {table: rows(archive, sql) for table, sql in STATE.items()}


def current_content(archive: Path) -> dict[str, tuple[Any, ...]]:
    """Each page's current version as a reader sees it, by URL."""
    found = rows(
        archive,
        "SELECT a.url, v.content_digest, v.captions, d.source FROM article AS a "
        "JOIN article_version AS v ON v.id = a.current_version_id "
        "LEFT JOIN document_version AS d ON d.version_id = v.id",
    )
    return {url: rest for url, *rest in found}  # type: ignore[misc]


def test_dry_run_reports_exactly_the_pages_that_change_and_writes_nothing(
    older: Path, tmp_path: Path
) -> None:
    archive = copy_of(older, tmp_path / "archive.sqlite3")
    before = archive.read_bytes()
    report = reextract(archive, "--dry-run")
    expected = expected_fixes(archive)
    found = {c["url"]: c["fields"] for c in report["changes"]}
    assert set(found) == set(expected)  # exactly the pages, each with the rule's field
    assert all(set(expected[url]) <= set(fields) for url, fields in found.items())
    assert report["changed"] == len(expected) and report["problems"] == 0
    for name, count in by_field(expected).items():  # both spiders' pages
        assert report["fields"][name] == count
    assert archive.read_bytes() == before
    text = govcrawler("reextract", "--dry-run", "--database", sqlite_url(archive)).stdout
    wrong = len(expected)
    assert text.startswith(f"{report['pages']} pages read, {wrong} would change, 0 problems")
    # counts, and diffs: the first pages by id (ids follow the crawl's arrival order)
    assert f"captions: {by_field(expected)['captions']}" in text
    assert re.search(r"^source of \d+ https://\S+:\n    - \(none\)\n    \+ \S", text, re.M)


def test_reextract_fixes_them_as_reextraction_then_writes_nothing(
    older: Path, current: Path, tmp_path: Path
) -> None:
    archive = copy_of(older, tmp_path / "archive.sqlite3")
    seen = rows(archive, "SELECT id, last_seen_at, withdrawn_at FROM article ORDER BY id")
    links = rows(archive, STATE["near_duplicate"])
    wrong, pages = len(expected_fixes(archive)), len(seen)
    report = reextract(archive)
    assert report["applied"] and report["changed"] == wrong
    assert current_content(archive) == current_content(current)  # fixed, as a crawl makes it
    assert rows(archive, "SELECT id, last_seen_at, withdrawn_at FROM article ORDER BY id") == seen
    assert links and rows(archive, STATE["near_duplicate"]) == links  # no body changed
    made = rows(
        archive, "SELECT origin, extractor_revision, count(*) FROM article_version GROUP BY 1, 2"
    )
    assert made == [("crawl", 1, pages), ("reextract", 1, wrong)]
    # a second run: nothing to change, not a byte written
    once = archive.read_bytes()
    assert reextract(archive)["changed"] == 0
    assert archive.read_bytes() == once

    listed = govcrawler("changes", "--json", "--database", sqlite_url(archive)).stdout
    changes = [json.loads(line) for line in listed.splitlines()]
    fixes = [c for c in changes if c["origin"] == "reextract"]
    assert len({c["article_id"] for c in fixes}) == wrong and {"captions", "source"} <= {
        c["field"] for c in fixes
    }
    assert {c["change"] for c in changes if c["origin"] == "crawl"} == {"new"}
    text = govcrawler("changes", "--field", "source", "--database", sqlite_url(archive)).stdout
    assert "re-extracted source: (none) → " in text and "changed source" not in text
    site = govcrawler("changes", "--origin", "crawl", "--json", "--database", sqlite_url(archive))
    assert len(site.stdout.splitlines()) == len(changes) - len(fixes)
    article_id = fixes[0]["article_id"]
    shown = govcrawler("show", str(article_id), "--versions", "--database", sqlite_url(archive))
    assert shown.returncode == 0 and "(re-extracted)" in shown.stdout

    # The site, crawled again by the current extraction, shows nothing new: the fixes were ours.
    crawl(archive)
    assert rows(archive, "SELECT count(*) FROM article_version") == [(pages + wrong,)]


@pytest.mark.parametrize("kill_at", ["commit:3", "batch:2"])
def test_killed_and_rerun_is_the_same_archive_as_one_run(
    older: Path, tmp_path: Path, kill_at: str
) -> None:
    one_run = copy_of(older, tmp_path / "one.sqlite3")
    reextract(one_run, "--batch", "20")
    killed = copy_of(older, tmp_path / "killed.sqlite3")
    args = ("reextract", "--batch", "20", "--database", sqlite_url(killed))
    died = govcrawler(*args, env={"GOVCRAWLER_KILL_AT": kill_at})
    assert died.returncode == -9, died.stderr[-2000:]
    done = rows(killed, "SELECT count(*) FROM article_version WHERE origin = 'reextract'")[0][0]
    wrong = len(expected_fixes(killed))
    assert 0 < done < wrong  # whole batches kept, the rest not yet
    assert reextract(killed, "--batch", "20")["changed"] == wrong - done
    assert state(killed) == state(one_run)


def test_selection_and_problems(older: Path, tmp_path: Path) -> None:
    archive = copy_of(older, tmp_path / "archive.sqlite3")
    english = reextract(archive, "--dry-run", "--spider", "sc_open_governance")
    english_pages = rows(
        archive,
        "SELECT count(*) FROM article AS a WHERE NOT EXISTS "
        "(SELECT 1 FROM document_version AS d WHERE d.version_id = a.current_version_id)",
    )[0][0]
    captions = by_field(expected_fixes(archive))["captions"]
    assert english["fields"]["captions"] == captions and english["pages"] == english_pages
    assert "source" not in english["fields"]
    one = english["changes"][0]["article_id"]
    assert reextract(archive, "--dry-run", "--id", str(one))["changed"] == 1
    assert reextract(archive, "--dry-run", "--since", "2999-01-01")["pages"] == 0
    # a capture that no longer reads is one line, and the run goes on
    with closing(sqlite3.connect(archive)) as connection, connection:
        connection.execute(
            "UPDATE capture SET body = ? WHERE article_id = ? AND kind = 'page'",
            (b"x\x9c\x03\x00\x00\x00\x00\x01", one),  # zlib of b""
        )
        connection.execute(
            "UPDATE capture SET body = ? WHERE article_id = ? AND kind = 'page'",
            (b"not zlib", english["changes"][1]["article_id"]),
        )
    done = govcrawler("reextract", "--database", sqlite_url(archive))
    assert done.returncode == 0, done.stderr
    problems = done.stderr.strip().splitlines()
    assert len(problems) == 2 and problems[0].startswith(f"problem: article {one} ")
    assert "does not decompress" in problems[1]
    wrong = len(expected_fixes(archive))
    assert "Traceback" not in done.stderr and f"{wrong - 2} re-extracted" in done.stdout
