"""Issue 14's files, the runs after the first: an unchanged site fetches no file again unless
its revisit is due (`GOVCRAWLER_FILE_REVISIT_DAYS`, 90: the archive is aged to make pages or
files due), `--full` fetches them again as revisits, and generation 2 over generation 1 stores
the changed attachment anew and marks the removed one gone. Real `govcrawler crawl`s in a
subprocess, against tests/fixtures/site/FILES.md and the fixture bytes."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SITE_COPY
from tests.files_expected import (
    EXPECTED,
    SITE_GEN2,
    age,
    blob_bytes,
    crawl,
    expected,
    rows,
    stats,
)

pytestmark = pytest.mark.slow

Run = tuple[Path, subprocess.CompletedProcess[str]]
LINKS = sum(len(file.linked_from) for file in EXPECTED)
BLOBS = len({file.sha256 for file in EXPECTED if file.kept})


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("files-first")
    database = folder / "archive.sqlite3"
    crawl(database, folder / "spool", "--replay", str(SITE_COPY))
    return database


def again(first: Path, folder: Path, days: int, *args: str) -> Run:
    """A copy of the first crawl's archive, aged `days`, crawled again with `args`."""
    database = shutil.copyfile(first, folder / "archive.sqlite3")
    if days:
        age(database, days)
    return database, crawl(database, folder / "spool", *args)


@pytest.fixture(scope="module")
def at_once(first: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    return again(first, tmp_path_factory.mktemp("at-once"), 0, "--replay", str(SITE_COPY))


@pytest.fixture(scope="module")
def pages_due(first: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """40 days on: every page is due again (30 days at most), no file (90)."""
    return again(first, tmp_path_factory.mktemp("pages-due"), 40, "--replay", str(SITE_COPY))


@pytest.fixture(scope="module")
def files_due(first: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """100 days on: the files are due too."""
    return again(first, tmp_path_factory.mktemp("files-due"), 100, "--replay", str(SITE_COPY))


@pytest.fixture(scope="module")
def full(first: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    return again(first, tmp_path_factory.mktemp("full"), 0, "--full", "--replay", str(SITE_COPY))


@pytest.fixture(scope="module", params=["full", "due"])
def gen2(
    first: Path, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Run]:
    """Generation 2 read over generation 1: with --full, or 100 days on (pages, files due)."""
    overlay = ("--replay", str(SITE_GEN2), "--replay", str(SITE_COPY))
    folder = tmp_path_factory.mktemp(f"gen2-{request.param}")
    if request.param == "full":
        yield again(first, folder, 0, "--full", *overlay)
    else:
        yield again(first, folder, 100, *overlay)


def file_captures(database: Path) -> list[dict]:
    found = rows(database, "SELECT * FROM capture WHERE kind IN ('attachment', 'image')")
    return [dict(row) for row in found]


def test_a_second_run_of_the_unchanged_site_fetches_no_file(first: Path, at_once: Run) -> None:
    database, result = at_once
    assert not stats(result, "govcrawler/files/status/")
    assert len(file_captures(database)) == len(file_captures(first))
    assert "files fetched: 0" in result.stdout or "files fetched" not in result.stdout


def test_pages_due_again_skip_their_files_not_due(first: Path, pages_due: Run) -> None:
    database, result = pages_due
    assert stats(result, "govcrawler/archive/").get("capture_revisit", 0) > 0, "no page due"
    assert not stats(result, "govcrawler/files/status/"), "a file fetched before its time"
    assert stats(result, "govcrawler/files/")["known_skipped"] == LINKS
    assert len(file_captures(database)) == len(file_captures(first))


def test_the_summary_says_no_file_was_fetched(pages_due: Run) -> None:
    """The files the run saw and skipped are in its summary, not only in the log's stats."""
    _, result = pages_due
    assert "files fetched: 0" in result.stdout, result.stdout


def test_files_due_are_fetched_again_conditionally(first: Path, files_due: Run) -> None:
    database, result = files_due
    statuses = stats(result, "govcrawler/files/status/")
    assert sum(statuses.values()) == len(EXPECTED), statuses  # each URL once
    with_validators = expected("a conditional re-fetch is a 304")
    assert statuses.get("304") == 1
    [row] = rows(database, "SELECT * FROM site_file WHERE url = ?", with_validators.url)
    [before] = rows(first, "SELECT * FROM site_file WHERE url = ?", with_validators.url)
    assert (row["state"], row["status"]) == ("stored", 304)
    assert row["last_fetched_at"] > before["last_fetched_at"]
    assert row["current_blob_id"] == before["current_blob_id"]
    assert len(rows(database, "SELECT id FROM file_blob")) == BLOBS


def test_full_fetches_every_file_again_as_a_revisit(first: Path, full: Run) -> None:
    database, result = full
    assert sum(stats(result, "govcrawler/files/status/").values()) == len(EXPECTED)
    assert len(rows(database, "SELECT id FROM file_blob")) == BLOBS
    before = {c["id"] for c in file_captures(first)}
    new = [c for c in file_captures(database) if c["id"] not in before]
    for file in (f for f in EXPECTED if f.kept):
        [capture] = [c for c in new if c["url"] == file.url]
        assert capture["body_sha256"] == file.sha256 and capture["body"] is None
        assert capture["revisit_of"] is not None, f"{file.id}: a second body, not a revisit"
        earlier = rows(database, "SELECT * FROM capture WHERE id = ?", capture["revisit_of"])
        assert earlier[0]["id"] in before and earlier[0]["body_sha256"] == file.sha256


def test_generation_2_stores_the_changed_attachment_anew(gen2: Run) -> None:
    database, _ = gen2
    changed = expected("**Generation 2: changed**")
    new_bytes = changed.fixture(SITE_GEN2).read_bytes()
    new_sha = hashlib.sha256(new_bytes).hexdigest()
    assert new_sha != changed.sha256, "the fixture: generation 2 changes it"
    assert len(rows(database, "SELECT id FROM file_blob")) == BLOBS + 1
    [row] = rows(database, "SELECT current_blob_id FROM site_file WHERE url = ?", changed.url)
    [current] = rows(database, "SELECT * FROM file_blob WHERE id = ?", row["current_blob_id"])
    assert (current["sha256"], current["length"]) == (new_sha, len(new_bytes))
    assert changed.phrase_gen2 in current["text"]
    [old] = rows(database, "SELECT * FROM file_blob WHERE sha256 = ?", changed.sha256)
    assert hashlib.sha256(blob_bytes(database, old["id"])).hexdigest() == changed.sha256


def test_generation_2_marks_the_removed_attachment_gone_and_keeps_its_blob(gen2: Run) -> None:
    database, _ = gen2
    removed = expected("**Generation 2: removed**")
    assert removed.kept and not removed.fixture(SITE_GEN2).is_file(), "the fixture"
    [row] = rows(database, "SELECT * FROM site_file WHERE url = ?", removed.url)
    assert (row["state"], row["status"]) == ("gone", 404)
    assert row["gone_at"] is not None
    [blob] = rows(database, "SELECT * FROM file_blob WHERE sha256 = ?", removed.sha256)
    assert hashlib.sha256(blob_bytes(database, blob["id"])).hexdigest() == removed.sha256
    assert row["current_blob_id"] == blob["id"], "the last capture's blob"
