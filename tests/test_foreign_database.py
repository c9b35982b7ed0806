"""Databases that are not ours to write: another program's SQLite file is never changed (every
command refuses it in one line), a read command writes nothing, a read-only archive can still
be searched and shown, and a mistyped database URL is one line saying what to write."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

import storage
from govcrawler.cli import main
from tests.conftest import SITE_COPY, numbered_article, sqlite_url

SEEN = datetime(2026, 11, 28, 2, 30, tzinfo=UTC)

# Every command that takes --database, as a user would point it at the wrong file.
COMMANDS = [
    ["search", "panda"],
    ["show", "1"],
    ["stats"],
    ["runs"],
    ["export", "--format", "jsonl"],
    ["export", "--format", "warc", "-o", "out.warc.gz"],
    ["db", "revision"],
    ["db", "upgrade"],
    ["crawl", "--replay", str(SITE_COPY)],
]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def foreign_database(path: Path, journal_mode: str = "delete") -> Path:
    """Another application's SQLite file: a table of its own, with rows."""
    with closing(sqlite3.connect(path)) as connection:
        connection.execute(f"PRAGMA journal_mode={journal_mode}")
        connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        connection.executemany(
            "INSERT INTO notes (body) VALUES (?)", [("buy rice",), ("call Chengdu",)]
        )
        connection.commit()
    return path


def invoke(args: list[str], database: str, folder: Path) -> tuple[int, str, str]:
    """A command run in `folder` (its relative output files land there): status, out, err."""
    cwd = Path.cwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(main, [*args, "--database", database])
    finally:
        os.chdir(cwd)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("journal_mode", ["delete", "wal"])
@pytest.mark.parametrize("args", COMMANDS, ids=lambda args: " ".join(args[:3]))
def test_another_programs_sqlite_file_is_refused_and_left_as_it_was(
    tmp_path: Path, args: list[str], journal_mode: str
) -> None:
    other = foreign_database(tmp_path / "notes.sqlite3", journal_mode)
    before, files = sha256(other), sorted(p.name for p in tmp_path.iterdir())

    status, out, err = invoke(args, sqlite_url(other), tmp_path)

    assert status == 1 and out == ""
    assert err.count("\n") == 1, err
    assert f"{other} is not a govcrawler archive" in err and "(notes)" in err
    assert sha256(other) == before
    if journal_mode == "delete":  # a WAL file keeps its -wal/-shm companions, and nothing else
        assert sorted(p.name for p in tmp_path.iterdir()) == files
    with closing(sqlite3.connect(other)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == (journal_mode,)
        assert connection.execute("SELECT count(*) FROM notes").fetchone() == (2,)


def test_another_alembic_programs_database_is_not_taken_for_a_newer_archive(
    tmp_path: Path,
) -> None:
    other = foreign_database(tmp_path / "app.sqlite3")
    with closing(sqlite3.connect(other)) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        connection.execute("INSERT INTO alembic_version VALUES ('3f2a9c1b7d4e')")
        connection.commit()
    before = sha256(other)

    status, _, err = invoke(["db", "upgrade"], sqlite_url(other), tmp_path)

    assert status == 1 and "is not a govcrawler archive" in err and "(notes)" in err
    assert sha256(other) == before


@pytest.mark.parametrize("args", [["db", "revision"], ["stats"], ["search", "panda"]])
def test_a_read_command_on_a_missing_file_creates_none(tmp_path: Path, args: list[str]) -> None:
    missing = tmp_path / "archive.sqlite3"

    status, _, err = invoke(args, sqlite_url(missing), tmp_path)

    assert (
        status == 1
        and err == f"Error: no archive at {missing} (crawl first, or check --database)\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_an_archive_at_an_old_revision_still_upgrades(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite3"
    old = storage.create_archive_engine(sqlite_url(path))
    storage.upgrade_archive(old, "0003")
    old.dispose()

    status, out, _ = invoke(["db", "upgrade"], sqlite_url(path), tmp_path)

    assert status == 0 and f"schema 0003 -> {storage.head_revision()}" in out


def small_archive(path: Path) -> None:
    """An archive of two articles, written as the crawler writes (WAL mode)."""
    engine = storage.open_archive(sqlite_url(path))
    with storage.session_factory(engine).begin() as session:
        for n, title in enumerate(["Giant pandas of Wolong", "Tea harvest in Ya'an"], 1):
            body = f"{title}: a report from Sichuan, number {n}."
            record = numbered_article(n, title, body, date(2024, 5, n), "r")
            storage.record_article(session, record, SEEN)
    engine.dispose()


def test_a_read_only_engine_opens_the_file_read_only(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite3"
    small_archive(path)
    before = sha256(path)

    engine = storage.open_archive(sqlite_url(path), read_only=True)
    try:
        assert engine.url.query["mode"] == "ro"
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            with pytest.raises(OperationalError, match="readonly"):
                connection.execute(text("DELETE FROM site_column"))
    finally:
        engine.dispose()
    assert sha256(path) == before


CLI = [sys.executable, "-c", "from govcrawler.cli import main; main()"]
# `folder` mounted read-only onto itself in a mount namespace of the command's own: a real
# read-only filesystem, which binds root too (file permissions would not: tests run as root).
READ_ONLY_MOUNT = ["unshare", "--map-root-user", "--mount", "sh", "-c"]
MOUNT_AND_RUN = 'mount --bind -o ro "$0" "$0" && exec "$@"'


def run_on_read_only_mount(folder: Path, argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*READ_ONLY_MOUNT, MOUNT_AND_RUN, str(folder), *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Path:
    """A folder holding an archive, which `run_on_read_only_mount` shows read-only."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    if shutil.which("unshare") is None or run_on_read_only_mount(folder, ["true"]).returncode:
        pytest.skip("no mount namespace here to make a read-only filesystem in")
    return folder


@pytest.mark.parametrize(
    ("args", "shows"),
    [
        (["search", "pandas"], "Giant pandas of Wolong"),
        (["show", "1"], "Giant pandas of Wolong"),
        (["stats"], "articles: 2"),
    ],
)
def test_a_read_only_archive_can_still_be_searched_and_shown(
    read_only_folder: Path, args: list[str], shows: str
) -> None:
    path = read_only_folder / "archive.sqlite3"
    small_archive(path)  # WAL mode, without its -wal and -shm files once closed
    before = sha256(path)
    write = [sys.executable, "-c", f"open({str(path)!r}, 'ab')"]
    assert "Read-only file system" in run_on_read_only_mount(read_only_folder, write).stderr

    result = run_on_read_only_mount(read_only_folder, [*CLI, *args, "--database", sqlite_url(path)])

    assert result.returncode == 0, result.stderr
    assert shows in result.stdout
    assert sha256(path) == before
    assert sorted(p.name for p in read_only_folder.iterdir()) == ["archive.sqlite3"]


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("sqlite://archive.sqlite3", "write sqlite:///archive.sqlite3"),
        ("sqlite://data/archive.sqlite3", "write sqlite:///data/archive.sqlite3"),
        ("mysql://crawler@localhost/archive", "SQLite or PostgreSQL, not mysql"),
        ("mssql+pyodbc://crawler@localhost/archive", "SQLite or PostgreSQL, not mssql"),
    ],
)
@pytest.mark.parametrize("args", [["stats"], ["db", "upgrade"]])
def test_a_mistyped_or_unsupported_url_is_one_line(
    tmp_path: Path, url: str, says: str, args: list[str]
) -> None:
    status, out, err = invoke(args, url, tmp_path)

    assert status == 1 and out == ""
    assert err.count("\n") == 1 and says in err, err
    assert "govcrawler[postgres]" not in err
    assert list(tmp_path.iterdir()) == []
