"""The archive's one writer in a process of its own (`govcrawler/pipelines/writer.py`): the same
archive as the crawl's own thread writes, a kill of either process leaves whole batches and no
process behind, a signal to the whole process group is a graceful stop, and the writer's log
reaches the crawl's."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy.settings import Settings
from sqlalchemy.orm import Session

from govcrawler.exceptions import BadSetting
from govcrawler.extract.article import article_from_page
from govcrawler.items import ArticlePage, Fetch
from govcrawler.pipelines import clean_article
from govcrawler.pipelines.path import ItemPath
from govcrawler.pipelines.writer import (
    INLINE,
    PROCESS,
    InlineWriter,
    ProcessWriter,
    WriterConfig,
    writer_kind,
)
from tests.conftest import fixture_pages, scrapy_crawl, sqlite_url
from tests.test_crash_safety import snapshot
from tests.test_operations import committed, stopped_run

ROOT = Path(__file__).resolve().parent.parent
# Beyond the crash-safety snapshot: every capture and every recorded change. (Not in id
# order: a crawl's responses arrive in an order of their own, whoever writes them.)
EVERYTHING = {
    "captures": "SELECT url, kind, status, body_sha256, body_length, revisit_of IS NULL,"
    " article_id IS NULL FROM capture ORDER BY url, kind, body_sha256",
    "changes": "SELECT a.url, c.change FROM field_changes AS c JOIN article AS a"
    " ON a.url = c.url ORDER BY a.url, c.change",
}
# The same batches written by either writer: the same rows under the same ids.
IDENTITIES = {
    "articles": "SELECT id, url, canonical_id, current_version_id, simhash FROM article",
    "versions": "SELECT id, article_id, version_no, content_digest, capture_id"
    " FROM article_version",
    "captures": "SELECT id, url, body_sha256, revisit_of, article_id FROM capture",
    "near duplicates": "SELECT article_id, original_id, distance FROM near_duplicate",
    "search": "SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'sichuan'",
}


def crawl(database: Path, writer: str, **env: str) -> subprocess.CompletedProcess[str]:
    command = scrapy_crawl(database, GOVCRAWLER_BATCH_SIZE=5, GOVCRAWLER_ARCHIVE_WRITER=writer)
    environment = {**os.environ, **env}
    return subprocess.run(
        command, capture_output=True, text=True, cwd=ROOT, env=environment, timeout=240
    )


def everything(database: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(database) as connection:
        rows = {name: connection.execute(sql).fetchall() for name, sql in EVERYTHING.items()}
    return {**snapshot(database), **rows}


@pytest.mark.slow
def test_a_writer_process_archives_what_the_crawls_thread_does(tmp_path: Path) -> None:
    archives = {}
    for writer in (INLINE, PROCESS):
        archives[writer] = tmp_path / f"{writer}.sqlite3"
        result = crawl(archives[writer], writer)
        assert result.returncode == 0, result.stderr[-3000:]
    inline, process = everything(archives[INLINE]), everything(archives[PROCESS])
    assert inline["articles"] and inline["captures"]
    assert process == inline


def _left_behind(marker: str) -> list[int]:
    """The processes still running whose environment carries `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def _none_left(marker: str, within: float = 5.0) -> list[int]:
    deadline = time.monotonic() + within
    while (left := _left_behind(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads /proc")
@pytest.mark.parametrize("kill_at", ["commit:3", "response:12"])
def test_a_kill_in_either_process_leaves_whole_batches_and_no_process(
    tmp_path: Path, kill_at: str
) -> None:
    """commit:3 kills in the writer (which kills the crawl first), response:12 the crawl alone
    (its writer idle or mid-batch): either way both are gone, nothing half-written."""
    database, marker = tmp_path / "archive.sqlite3", f"GOVCRAWLER_TEST_MARK={uuid.uuid4()}"
    name, value = marker.split("=")
    killed = crawl(database, PROCESS, GOVCRAWLER_KILL_AT=kill_at, **{name: value})
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert _none_left(marker) == []
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        stored = connection.execute("SELECT COUNT(*) FROM article").fetchone()[0]
        whole = connection.execute(
            "SELECT COUNT(*) FROM article WHERE current_version_id IS NOT NULL"
            " AND id IN (SELECT article_id FROM capture)"
        ).fetchone()[0]
    assert stored == whole


@pytest.mark.slow
def test_a_signal_to_the_process_group_stops_the_crawl_gracefully(tmp_path: Path) -> None:
    """A terminal's Ctrl-C or a service manager's stop reaches every process of the group: the
    writer ignores it and writes what the crawl, stopping, hands it."""
    database = tmp_path / "archive.sqlite3"
    command = scrapy_crawl(database, GOVCRAWLER_BATCH_SIZE=5, GOVCRAWLER_ARCHIVE_WRITER=PROCESS)
    command += ["-s", "DOWNLOAD_DELAY=0.2"]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not committed(database):
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr[-2000:]
    outcome, stored, captured = stopped_run(database)
    assert outcome == "interrupted"
    assert stored > 0 and captured >= stored
    assert "archive write failed" not in stderr


# --- the writer process itself -------------------------------------------------------------


@dataclass(frozen=True)
class Note:
    """An item whose archive step only logs and counts."""

    text: str


def archive_note(session: Session, item: Note) -> list[str]:
    logging.getLogger("govcrawler.test.note").warning("noted %s in %d", item.text, os.getpid())
    return [f"note/{item.text}"]


NOTE_PATH = ItemPath(Note, url=lambda item: item.text, archive=archive_note)


def test_batches_come_back_in_order_and_the_writers_log_reaches_ours(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = WriterConfig(sqlite_url(tmp_path / "a.sqlite3"), (f"{__name__}.NOTE_PATH",))
    writer = ProcessWriter(config)
    try:
        futures = [writer.submit(None, [Note(f"{n}a"), Note(f"{n}b")]) for n in range(5)]
        written = [future.result(timeout=60) for future in futures]
    finally:
        writer.close()
    assert [w.outcomes for w in written] == [[f"note/{n}a", f"note/{n}b"] for n in range(5)]
    notes = [r for r in caplog.records if r.name == "govcrawler.test.note"]
    assert len(notes) == 10
    assert all(r.process != os.getpid() and str(os.getpid()) not in r.getMessage() for r in notes)


def _fixture_batches(size: int) -> list[list[ArticlePage]]:
    fetched_at = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)
    items = []
    for page in fixture_pages():
        article = article_from_page(page.html(), page.url)
        fetch = Fetch(page.url, page.url, 200, fetched_at, page.path.read_bytes())
        items.append(clean_article(ArticlePage(article, fetch)))
    return [items[n : n + size] for n in range(0, len(items), size)]


def test_either_writer_gives_the_same_batches_the_same_identities(tmp_path: Path) -> None:
    batches = _fixture_batches(7)
    assert len(batches) > 3
    tables = {}
    for kind, make in ((INLINE, InlineWriter), (PROCESS, ProcessWriter)):
        url = sqlite_url(tmp_path / f"{kind}.sqlite3")
        writer = make(WriterConfig(url))
        try:
            futures = [writer.submit(None, batch) for batch in batches]
            assert all(future.result(timeout=120).error is None for future in futures)
        finally:
            writer.close()
        with sqlite3.connect(tmp_path / f"{kind}.sqlite3") as connection:
            tables[kind] = {
                name: sorted(connection.execute(sql).fetchall()) for name, sql in IDENTITIES.items()
            }
    assert tables[INLINE]["articles"] and tables[INLINE]["search"]
    assert tables[PROCESS] == tables[INLINE]


@pytest.mark.parametrize(
    ("settings", "kind"),
    [
        ({}, INLINE),
        ({"GOVCRAWLER_REPLAY_DIR": "/some/site"}, PROCESS),
        ({"GOVCRAWLER_REPLAY_DIR": "/some/site", "GOVCRAWLER_ARCHIVE_WRITER": "inline"}, INLINE),
        ({"GOVCRAWLER_ARCHIVE_WRITER": "process"}, PROCESS),
        ({"GOVCRAWLER_ARCHIVE_WRITER": "Auto"}, INLINE),
    ],
)
def test_auto_writes_in_a_process_only_when_replaying(settings: dict, kind: str) -> None:
    assert writer_kind(Settings(settings)) == kind


def test_an_unknown_writer_is_named() -> None:
    with pytest.raises(BadSetting, match="inline, process or auto, not 'thread'"):
        writer_kind(Settings({"GOVCRAWLER_ARCHIVE_WRITER": "thread"}))
