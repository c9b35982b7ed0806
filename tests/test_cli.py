"""The CLI's non-crawl commands and its one-line errors (click's runner, in process)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

import storage
from govcrawler.cli import main


def test_db_revision_and_upgrade_on_an_empty_archive(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    runner = CliRunner()
    before = runner.invoke(main, ["db", "revision", "--database", url])
    assert before.exit_code == 1 and "no archive at" in before.output  # nor a new file
    assert not (tmp_path / "a.sqlite3").exists()
    upgraded = runner.invoke(main, ["db", "upgrade", "--database", url])
    assert upgraded.exit_code == 0
    assert f"-> {storage.head_revision()}" in upgraded.output
    after = runner.invoke(main, ["db", "revision", "--database", url])
    assert "up to date" in after.output


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "garbage.sqlite3", "file is not a database"),
        (lambda d: d / "missing-dir" / "a.sqlite3", "directory does not exist"),
    ],
)
def test_a_broken_archive_is_one_line_and_exit_1(tmp_path: Path, make, message: str) -> None:
    path = make(tmp_path)
    if path.parent.exists():
        path.write_bytes(b"not a database at all, just bytes " * 10)
    result = CliRunner().invoke(main, ["db", "upgrade", "--database", f"sqlite:///{path}"])
    assert result.exit_code == 1
    assert message in result.output
    assert result.output.strip().count("\n") == 0
    assert "Traceback" not in result.output
