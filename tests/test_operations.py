"""What an operator running `govcrawler crawl` from cron relies on: one run at a time,
clean stops, quiet success, a log file, run records."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from govcrawler.cli import main
from govcrawler.cli.lock import ArchiveLock, lock_path
from tests.conftest import ENGLISH_ONLY, SITE_COPY, scrapy_crawl

ROOT = Path(__file__).resolve().parent.parent
GOVCRAWLER = [sys.executable, "-c", "from govcrawler.cli import main; main()"]


def crawl_command(database: Path, *extra: str) -> list[str]:
    return [
        *GOVCRAWLER,
        "crawl",
        *ENGLISH_ONLY,
        "--replay",
        str(SITE_COPY),
        "--database",
        f"sqlite:///{database}",
        *extra,
    ]


def run(database: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        crawl_command(database, *extra), capture_output=True, text=True, cwd=ROOT, timeout=240
    )


def runs(database: Path) -> list[tuple]:
    with sqlite3.connect(database) as connection:
        return connection.execute(
            "SELECT outcome, exit_status, full FROM crawl_run ORDER BY id"
        ).fetchall()


def test_a_second_run_on_a_locked_archive_exits_75_with_one_line(tmp_path: Path) -> None:
    database = tmp_path / "archive.sqlite3"
    with ArchiveLock(lock_path(f"sqlite:///{database}")):
        result = run(database)
    assert result.returncode == 75
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "another crawl is running on this archive (pid " in result.stderr


@pytest.mark.slow
def test_a_lock_left_by_a_dead_run_does_not_block(tmp_path: Path) -> None:
    database = tmp_path / "archive.sqlite3"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom govcrawler.cli.lock import ArchiveLock\n"
            f"ArchiveLock(__import__('pathlib').Path({str(lock_path(f'sqlite:///{database}'))!r}))"
            ".acquire()\nprint('locked', flush=True)\ntime.sleep(600)",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    holder.stdout.close()
    assert lock_path(f"sqlite:///{database}").read_text().startswith("pid ")  # left behind
    result = run(database, "--quiet")
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.slow
def test_quiet_prints_nothing_when_healthy_and_the_log_file_has_the_log(tmp_path: Path) -> None:
    database, log = tmp_path / "archive.sqlite3", tmp_path / "logs" / "crawl.log"
    result = run(database, "--quiet", "--log-file", str(log))
    assert result.returncode == 0
    assert (result.stdout, result.stderr) == ("", "")
    text = log.read_text(encoding="utf-8")
    assert "Spider closed (finished)" in text
    assert "no article extracted: empty page" in text  # the saved site's empty page
    assert runs(database) == [("finished", 0, 0)]


@pytest.mark.slow
def test_sigterm_finishes_the_batch_and_exits_cleanly(tmp_path: Path) -> None:
    database = tmp_path / "archive.sqlite3"
    process = subprocess.Popen(
        scrapy_crawl(database, DOWNLOAD_DELAY=0.3, GOVCRAWLER_BATCH_SIZE=2, LOG_LEVEL="INFO"),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not committed(database):
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr[-2000:]
    outcome, stored, captured = stopped_run(database)
    assert outcome == "interrupted"
    assert 0 < stored < 35
    assert captured >= stored  # every stored article has its capture: the batch was whole


def stopped_run(database: Path) -> tuple[str, int, int]:
    """A stopped crawl's archive, checked whole: its run's outcome, the articles stored and the
    article captures."""
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        (outcome,) = connection.execute("SELECT outcome FROM crawl_run").fetchone()
        stored = connection.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        captured = connection.execute(
            "SELECT COUNT(*) FROM captures WHERE article_id IS NOT NULL AND status = 200"
        ).fetchone()[0]
    return outcome, stored, captured


def committed(database: Path) -> bool:
    if not database.exists():
        return False
    try:
        with sqlite3.connect(database) as connection:
            return connection.execute("SELECT COUNT(*) FROM articles").fetchone()[0] > 0
    except sqlite3.OperationalError:
        return False


@pytest.mark.slow
def test_max_runtime_stops_cleanly_and_the_next_run_recovers(tmp_path: Path) -> None:
    database = tmp_path / "archive.sqlite3"
    result = subprocess.run(
        scrapy_crawl(database, DOWNLOAD_DELAY=0.5, CLOSESPIDER_TIMEOUT=2),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert runs(database) == [("timeout", 0, 0)]
    again = run(database, "--quiet")
    assert again.returncode == 0, again.stdout + again.stderr[-2000:]
    with sqlite3.connect(database) as connection:
        last = connection.execute(
            "SELECT outcome, recovery FROM crawl_run ORDER BY id DESC"
        ).fetchone()
    assert last == ("finished", 1)


def test_max_runtime_takes_a_duration() -> None:
    result = CliRunner().invoke(main, ["crawl", "--max-runtime", "soon"])
    assert result.exit_code == 2
    assert "want a duration like 90s, 45m or 2h" in result.output


@pytest.mark.slow
def test_runs_lists_the_runs_with_their_problems(tmp_path: Path) -> None:
    database = tmp_path / "archive.sqlite3"
    assert run(database, "--quiet").returncode == 0
    assert run(database, "--quiet", "--full").returncode == 0
    listing = CliRunner().invoke(main, ["runs", "--database", f"sqlite:///{database}"])
    assert listing.exit_code == 0, listing.output
    lines = listing.output.splitlines()
    assert "outcome" in lines[0]
    assert "finished full" in lines[1] and "finished" in lines[2]
    assert [line.split()[1] for line in lines[1:]] == ["sc_open_governance"] * 2
    assert len(lines) == 3
