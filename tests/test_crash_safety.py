"""SIGKILL at any point, then a restart: the archive ends as a clean run leaves it.

The crawl is killed by its own fault injection (`GOVCRAWLER_KILL_AT`, see
govcrawler/crawl/faults.py) at named points: early (the 3rd article response, nothing committed
yet), mid-run (just after the 2nd batch committed), and during a commit (inside the 3rd batch's
transaction, its rows written but not committed). Batches of 5 make several commits in the saved
site's crawl.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.conftest import scrapy_crawl

ROOT = Path(__file__).resolve().parent.parent
# What must be equal between a clean run and a killed-then-restarted one.
SNAPSHOT = {
    "articles": "SELECT url, title, published_on, column_id, body, version_count, alias_count"
    " FROM articles ORDER BY url",
    "aliases": "SELECT al.url, a.url FROM article_alias AS al JOIN article AS a"
    " ON a.id = al.article_id ORDER BY al.url",
    "near duplicates": "SELECT c.url, o.url FROM near_duplicate AS n JOIN article AS c"
    " ON c.id = n.article_id JOIN article AS o ON o.id = n.original_id ORDER BY c.url",
    "search index": "SELECT a.url FROM articles_fts JOIN article AS a ON a.id = articles_fts.rowid"
    " WHERE articles_fts MATCH 'sichuan' ORDER BY a.url",
    "versions per url": "SELECT url, COUNT(*) FROM article_versions GROUP BY url ORDER BY url",
}


def crawl(database: Path, kill_at: str = "") -> subprocess.CompletedProcess[str]:
    command = scrapy_crawl(database, GOVCRAWLER_BATCH_SIZE=5)
    env = {**os.environ, "GOVCRAWLER_KILL_AT": kill_at}
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=240)


def snapshot(database: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(database) as connection:
        return {name: connection.execute(sql).fetchall() for name, sql in SNAPSHOT.items()}


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple]]:
    database = tmp_path_factory.mktemp("clean") / "archive.sqlite3"
    result = crawl(database)
    assert result.returncode == 0, result.stderr[-3000:]
    return snapshot(database)


@pytest.mark.slow
@pytest.mark.parametrize("kill_at", ["response:3", "batch:2", "commit:3"])
def test_a_killed_crawl_restarted_ends_as_a_clean_run(clean, tmp_path: Path, kill_at: str) -> None:
    database = tmp_path / "archive.sqlite3"
    killed = crawl(database, kill_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        committed = connection.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        partial = connection.execute(
            "SELECT COUNT(*) FROM article WHERE current_version_id IS NULL"
        ).fetchone()[0]
    assert committed < len(clean["articles"])  # the kill really cut the run short
    assert partial == 0  # nothing half-written
    restarted = crawl(database)
    assert restarted.returncode == 0, restarted.stderr[-3000:]
    assert snapshot(database) == clean
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        runs = connection.execute("SELECT outcome, recovery FROM crawl_run ORDER BY id").fetchall()
    assert runs == [("crashed", 0), ("finished", 1)]  # the restart read every list page
