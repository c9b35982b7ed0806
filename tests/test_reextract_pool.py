"""`reextract`'s extraction pool: workers and the one writer give the archive one process
gives (same versions, same order of ids, same report), killed and rerun too; a worker that
dies is one problem line for its page, and the run goes on."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from govcrawler.reextraction.extraction import CapturedPage, Extracted
from govcrawler.reextraction.pool import DIED, ExtractionPool, extract_batch
from tests.conftest import sqlite_url
from tests.test_reextract import copy_of, expected_fixes, govcrawler, older, reextract, rows, state

pytestmark = pytest.mark.slow
__all__ = ["older"]  # the fixture, used by name


def test_pool_and_one_process_make_the_same_archive_and_report(older: Path, tmp_path: Path) -> None:
    pooled, alone = (copy_of(older, tmp_path / f"{n}.sqlite3") for n in ("pooled", "alone"))
    dry = [
        reextract(a, "--dry-run", "--batch", "7", "--workers", w)
        for a, w in [(pooled, "2"), (alone, "0")]
    ]
    assert dry[0] == dry[1] and dry[0]["changed"] == len(expected_fixes(older)) > 0
    text = [
        govcrawler("reextract", "--dry-run", "--workers", w, "--database", sqlite_url(older)).stdout
        for w in ("2", "0")
    ]
    assert text[0] == text[1] and "would change" in text[0]
    assert reextract(pooled, "--batch", "7", "--workers", "2") == reextract(
        alone, "--batch", "7", "--workers", "0"
    )
    assert state(pooled) == state(alone)


def test_killed_with_the_pool_and_rerun_is_the_same_archive(older: Path, tmp_path: Path) -> None:
    one_run = copy_of(older, tmp_path / "one.sqlite3")
    reextract(one_run, "--batch", "10", "--workers", "0")
    killed = copy_of(older, tmp_path / "killed.sqlite3")
    args = ("reextract", "--batch", "10", "--workers", "2", "--database", sqlite_url(killed))
    died = govcrawler(*args, env={"GOVCRAWLER_KILL_AT": "commit:4"})  # returns: no orphan
    assert died.returncode == -9, died.stderr[-2000:]
    done = rows(killed, "SELECT count(*) FROM article_version WHERE origin = 'reextract'")[0][0]
    assert 0 < done < len(expected_fixes(killed))
    reextract(killed, "--batch", "10", "--workers", "2")
    assert state(killed) == state(one_run)


def dies_on_odd_ids(pages: Sequence[CapturedPage]) -> list[Extracted]:
    """A task that kills its worker (never this process) on a page with an odd id."""
    if multiprocessing.parent_process() is not None and any(p.article_id % 2 for p in pages):
        os._exit(3)
    return extract_batch(pages)


def dies_on_seven(pages: Sequence[CapturedPage]) -> list[Extracted]:
    if any(page.article_id == 7 for page in pages):
        os._exit(3)
    return extract_batch(pages)


def page(article_id: int) -> CapturedPage:
    return CapturedPage(article_id, "article", f"https://x/{article_id}", b"", None, article_id)


def test_a_worker_that_dies_is_a_problem_of_its_page_and_the_run_goes_on() -> None:
    said: list[str] = []
    with ExtractionPool(2, said.append, dies_on_seven) as pool:
        jobs = [pool.submit([page(i) for i in range(first, first + 5)]) for first in (1, 6, 11)]
        results = [r for job in jobs for r in pool.results(job)]
    assert [r.article_id for r in results] == list(range(1, 16))  # order kept
    assert [r.article_id for r in results if r.problem == DIED] == [7]
    assert all(
        r.problem and r.problem.startswith("no article") for r in results if r.article_id != 7
    )
    assert said == []


def test_workers_that_keep_dying_give_way_to_this_process() -> None:
    said: list[str] = []
    with ExtractionPool(1, said.append, dies_on_odd_ids) as pool:
        results = pool.results(pool.submit([page(i) for i in (1, 3, 5, 7, 2)]))
    assert [r.article_id for r in results] == [1, 3, 5, 7, 2]
    assert [r.problem == DIED for r in results] == [True, True, True, False, False]
    assert said == [
        "extraction workers died on 3 pages in a row: extracting the rest in this process"
    ]
