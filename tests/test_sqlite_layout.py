"""The SQLite file's layout: new archives use 2 KiB pages; an older file keeps its own."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import storage


def page_size(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        return int(connection.execute("PRAGMA page_size").fetchone()[0])


def test_a_new_archive_has_2_kib_pages(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    storage.open_archive(f"sqlite:///{path}").dispose()
    assert page_size(path) == 2048


def test_an_archive_made_with_4_kib_pages_keeps_them(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    old = storage.create_archive_engine(f"sqlite:///{path}")
    storage.upgrade_archive(old, "0001")  # an archive of before the 2 KiB pages
    old.dispose()
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA journal_mode=DELETE")  # WAL cannot change the page size
        connection.execute("PRAGMA page_size=4096")
        connection.execute("VACUUM")
    assert page_size(path) == 4096
    engine = storage.open_archive(f"sqlite:///{path}")
    try:
        assert storage.schema_revision(engine) == storage.head_revision()
    finally:
        engine.dispose()
    assert page_size(path) == 4096
