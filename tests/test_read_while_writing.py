"""A researcher's reader in a second process queries the archive while a crawl writes to it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import scrapy_crawl

ROOT = Path(__file__).resolve().parent.parent

# The reader: plain sqlite3 with its default settings, as a researcher's script would open it.
READER = textwrap.dedent(
    """
    import sqlite3, sys, time
    path, stop = sys.argv[1], sys.argv[2]
    reads = errors = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(path) as connection:
                connection.execute("SELECT COUNT(*), MAX(last_seen_at) FROM articles").fetchone()
                connection.execute(
                    "SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'sichuan' LIMIT 5"
                ).fetchall()
            reads += 1
        except sqlite3.OperationalError as error:
            if "no such table" not in str(error):  # before the crawl made the schema
                errors += 1
                print("ERROR", error, flush=True)
        import os
        if os.path.exists(stop):
            break
    print("reads", reads, "errors", errors)
    """
)


@pytest.mark.slow
def test_a_reader_never_sees_a_lock_error_while_a_crawl_writes(tmp_path: Path) -> None:
    database, stop = tmp_path / "archive.sqlite3", tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(database), str(stop)],
        stdout=subprocess.PIPE,
        text=True,
    )
    crawl = subprocess.run(
        scrapy_crawl(database, GOVCRAWLER_BATCH_SIZE=1),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    stop.touch()
    output, _ = reader.communicate(timeout=60)
    assert crawl.returncode == 0, crawl.stderr[-2000:]
    assert "ERROR" not in output, output
    reads = int(output.split()[-3])
    assert reads > 10, output
