"""Spiders as sources: runs, recovery and health baselines per spider; start page and scope
belong to the spider; `govcrawler crawl` runs every spider; a toy second source needs nothing
but its own module and a setting."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from scrapy.utils.test import get_crawler
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session, sessionmaker

import storage
from govcrawler import settings as project_settings
from govcrawler.cli import main
from govcrawler.cli.crawl_commands import worst_status
from govcrawler.runs.records import RunRecorder
from govcrawler.spiders.sc_open_governance import OpenGovernanceSpider
from storage import runs
from tests.conftest import SITE_COPY, new_database
from tests.test_cli_archive import ARTICLES
from tests.test_schema_0004 import downgrade

ROOT = Path(__file__).resolve().parent.parent
ENGLISH, TOY = "sc_open_governance", "toy_notices"
T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def finished(session: Session, spider: str, minutes: int, pid: int) -> int:
    run = runs.start_run(session, spider, at(minutes), pid, "h", full=False, recovery=False)
    runs.finish_run(session, run.id, at(minutes + 1), runs.RunReport(runs.FINISHED, 0))
    return run.id


# --- the archive: runs per spider ---------------------------------------------------------


def test_a_crash_of_one_spider_never_makes_another_recover(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        finished(session, ENGLISH, 0, pid=10)
        finished(session, TOY, 2, pid=11)
        runs.start_run(session, TOY, at(4), 12, "h", full=False, recovery=False)  # then killed
    with sessions.begin() as session:
        assert not runs.needs_recovery(session, ENGLISH, pid=13, host="h")
        assert runs.needs_recovery(session, TOY, pid=13, host="h")
        assert not runs.needs_recovery(session, "never_ran", pid=13, host="h")


def test_dead_runs_of_any_spider_are_closed_and_recent_runs_filter_by_spider(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        english = finished(session, ENGLISH, 0, pid=10)
        toy = runs.start_run(session, TOY, at(4), 12, "h", full=False, recovery=False).id
    with sessions.begin() as session:
        assert runs.close_dead_runs(session, "h", lambda pid: pid != 12, at(9)) == [toy]
    with sessions() as session:
        assert [run.id for run in runs.recent_runs(session)] == [toy, english]
        assert [run.id for run in runs.recent_runs(session, spider=ENGLISH)] == [english]
        (crashed,) = runs.recent_runs(session, spider=TOY)
        assert (crashed.spider, crashed.outcome) == (TOY, runs.CRASHED)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_revision_0007_names_the_spider_of_every_earlier_run(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    with new_database(backend, tmp_path, request, at_head=False) as url:
        engine = storage.create_archive_engine(url)
        try:
            storage.upgrade_archive(engine, "0006")
            with engine.begin() as connection:
                connection.execute(
                    text(
                        'INSERT INTO crawl_run (started_at, outcome, pid, host, "full", recovery,'
                        " requests, responses_by_status, new_articles, new_versions, withdrawn,"
                        " dropped, extraction_fallbacks, blocked, stats, problems) VALUES"
                        " (:t, 'finished', 1, 'h', false, false, 3, '{}', 1, 0, 0, '{}', 0, 0,"
                        " '{}', '[]')"
                    ),
                    {"t": T0.replace(tzinfo=None)},
                )
            storage.upgrade_archive(engine)
            with engine.connect() as connection:
                spiders = connection.execute(text("SELECT spider FROM crawl_run")).all()
            assert spiders == [(ENGLISH,)]
            indexes = {ix["name"] for ix in inspect(engine).get_indexes("crawl_run")}
            assert "ix_crawl_run_spider_started_at" in indexes
            downgrade(engine, "0006")
            columns = {column["name"] for column in inspect(engine).get_columns("crawl_run")}
            assert "spider" not in columns
        finally:
            engine.dispose()


# --- the spider: start page and scope ------------------------------------------------------


def spider_with(settings: dict | None = None, **arguments: str) -> OpenGovernanceSpider:
    crawler = get_crawler(OpenGovernanceSpider, settings or {})
    return OpenGovernanceSpider.from_crawler(crawler, **arguments)


def test_start_page_and_scope_come_from_the_spider_by_default() -> None:
    spider = spider_with()
    assert spider.start_url == "https://www.sc.gov.cn/10462/10758/index.shtml"
    assert spider.scope == OpenGovernanceSpider.scope_prefixes


def test_a_setting_overrides_the_spider_and_an_argument_overrides_the_setting() -> None:
    setting = {
        "GOVCRAWLER_START_URL": "https://www.sc.gov.cn/10462/10758/10760/index.shtml",
        "GOVCRAWLER_SCOPE_PREFIXES": ["/10462/10758/10760/"],
    }
    assert spider_with(setting).start_url == setting["GOVCRAWLER_START_URL"]
    assert spider_with(setting).scope == ("/10462/10758/10760/",)
    argued = spider_with(
        setting,
        start_url="http://www.sc.gov.cn/10462/newsdlb/index.shtml",
        scope_prefixes="/10462/newsdlb/, /10462/syftyg/",
    )
    assert argued.start_url == "https://www.sc.gov.cn/10462/newsdlb/index.shtml"  # canonical
    assert argued.scope == ("/10462/newsdlb/", "/10462/syftyg/")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"start_url": "https://example.org/"}, "must be a www.sc.gov.cn page"),
        ({"scope_prefixes": "10462/"}, "path prefixes"),
    ],
)
def test_a_start_page_off_the_site_or_a_bad_scope_is_refused(arguments, message) -> None:
    with pytest.raises(ValueError, match=message):
        spider_with(**arguments)


# --- the command line ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statuses", "worst"),
    [([], 0), ([0, 0], 0), ([0, 1], 1), ([1, 3], 3), ([4, 3, 0], 4), ([4, 5], 5), ([5, 75], 75)],
)
def test_the_exit_status_is_the_worst_of_the_spiders(statuses: list[int], worst: int) -> None:
    assert worst_status(statuses) == worst


def test_an_unknown_spider_is_one_line_naming_the_known_ones(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    result = CliRunner().invoke(main, ["crawl", "--spider", "nope", "--database", database])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert f"no spider named 'nope'; the spiders are: {ENGLISH}" in result.output
    assert not (tmp_path / "a.sqlite3").exists()  # nothing happened


def test_start_url_wants_one_spider(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    modules = [*project_settings.SPIDER_MODULES, "tests.toy_spiders.toy_notices"]
    monkeypatch.setattr(project_settings, "SPIDER_MODULES", modules)
    url = "https://www.sc.gov.cn/10462/10758/index.shtml"
    database = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    result = CliRunner().invoke(main, ["crawl", "--start-url", url, "--database", database])
    assert result.exit_code == 1
    assert "--start-url is the start page of one spider: pick it with --spider NAME" in (
        result.output
    )
    monkeypatch.setattr(project_settings, "GOVCRAWLER_START_URL", url)
    result = CliRunner().invoke(main, ["crawl", "--database", database])
    assert result.exit_code == 1
    assert "GOVCRAWLER_START_URL is the start page of one spider" in result.output
    monkeypatch.setattr(project_settings, "GOVCRAWLER_START_URL", "")
    off_site = ["crawl", "--spider", TOY, "--start-url", "https://example.org/", "--database"]
    result = CliRunner().invoke(main, [*off_site, database])
    assert result.exit_code == 1
    assert f"{TOY}: the start URL must be a www.sc.gov.cn page" in result.output


# --- end to end: a toy second source beside the English spider ------------------------------


def toy_site(root: Path) -> list[str]:
    """The toy's pages in the replay directory `root`: a list of three notices (and a link
    off the site); returns the notices' URLs."""
    folder = root / "www.sc.gov.cn" / "10462" / "toy"
    folder.mkdir(parents=True)
    links = ['<li><a href="https://example.org/elsewhere.shtml">elsewhere</a></li>']
    for number in (1, 2, 3):
        html = f"<html><body><h1>Notice {number}</h1><p>Text {number}.</p></body></html>"
        (folder / f"{number}.shtml").write_text(html, encoding="utf-8")
        links.append(f'<li><a href="/10462/toy/{number}.shtml">Notice {number}</a></li>')
    listing = f"<html><body><ul>{''.join(links)}</ul></body></html>"
    (folder / "index.shtml").write_text(listing, encoding="utf-8")
    return [f"https://www.sc.gov.cn/10462/toy/{number}.shtml" for number in (1, 2, 3)]


def govcrawler(
    modules: list[str], *arguments: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`govcrawler ARGUMENTS` in a subprocess whose SPIDER_MODULES are `modules`."""
    code = (
        "import govcrawler.settings as s\n"
        f"s.SPIDER_MODULES = {modules!r}\n"
        "from govcrawler.cli import main\nmain()"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *arguments],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=240,
    )


def run_rows(database: Path) -> list[tuple]:
    with sqlite3.connect(database) as connection:
        return connection.execute(
            "SELECT spider, outcome, exit_status, recovery, stats FROM crawl_run ORDER BY id"
        ).fetchall()


BOTH = ["govcrawler.spiders.sc_open_governance", "tests.toy_spiders.toy_notices"]


@pytest.fixture(scope="module")
def two_sources(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    """The saved site plus the toy's pages, crawled once by both spiders."""
    folder = tmp_path_factory.mktemp("sources")
    site = folder / "site"
    shutil.copytree(SITE_COPY, site)
    notices = toy_site(site)
    return site, folder, notices


def test_crawl_runs_every_spider_with_one_summary_each_and_runs_names_them(
    two_sources, tmp_path: Path
) -> None:
    site, _, notices = two_sources
    database = tmp_path / "archive.sqlite3"
    url = f"sqlite:///{database}"
    result = govcrawler(BOTH, "crawl", "--replay", str(site), "--database", url)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    where, summaries = result.stdout.split("\n", 1)
    assert where == f"archive: {database}"
    blocks = summaries.split("\n\n")
    assert [block.splitlines()[0] for block in blocks] == [f"spider: {ENGLISH}", f"spider: {TOY}"]
    assert f"articles: {len(ARTICLES)} new," in blocks[0]  # the saved site's English articles
    assert "pages fetched: 5 (200 4, 404 1)" in blocks[1]  # robots.txt, the list, 3 notices
    assert "captures: 3 stored" in blocks[1]
    with sqlite3.connect(database) as connection:
        captured = connection.execute("SELECT url FROM captures WHERE url LIKE '%/toy/%'")
        assert sorted(url for (url,) in captured) == notices
    listing = govcrawler(BOTH, "runs", "--database", url)
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert "spider" in lines[0]
    assert [line.split()[1] for line in lines[1:]] == [TOY, ENGLISH]  # newest first
    as_json = json.loads(govcrawler(BOTH, "runs", "--json", "--database", url).stdout)
    assert [run["spider"] for run in as_json] == [TOY, ENGLISH]
    only = json.loads(govcrawler(BOTH, "runs", "--json", "--spider", TOY, "--database", url).stdout)
    assert [run["spider"] for run in only] == [TOY]


@pytest.mark.slow
def test_a_crash_of_the_toy_neither_recovers_nor_judges_the_english_spider(
    two_sources, tmp_path: Path
) -> None:
    site, _, _ = two_sources
    database = tmp_path / "archive.sqlite3"
    url = f"sqlite:///{database}"
    assert govcrawler(BOTH, "crawl", "--replay", str(site), "--database", url).returncode == 0
    killed = govcrawler(
        BOTH,
        *("crawl", "--spider", TOY, "--replay", str(site), "--database", url),
        env={"GOVCRAWLER_KILL_AT": "response:2"},
    )
    assert killed.returncode == -9, killed.stderr[-2000:]
    english = govcrawler(
        BOTH, "crawl", "--spider", ENGLISH, "--replay", str(site), "--database", url
    )
    assert english.returncode == 0, english.stdout + english.stderr[-2000:]
    assert "PROBLEM" not in english.stderr
    rows = run_rows(database)
    assert [row[:4] for row in rows] == [
        (ENGLISH, "finished", 0, 0),
        (TOY, "finished", 0, 0),
        (TOY, "crashed", None, 0),  # closed by the English run: its process was dead
        (ENGLISH, "finished", 0, 0),  # no recovery: the crash was another spider's
    ]
    # The toy's columns were in its finished run, and the English run did not miss them.
    assert json.loads(rows[1][4])["govcrawler/links/column/toy"] == 3
    again = govcrawler(BOTH, "crawl", "--spider", TOY, "--replay", str(site), "--database", url)
    assert again.returncode == 0, again.stderr[-2000:]
    assert run_rows(database)[-1][:4] == (TOY, "finished", 0, 1)  # the toy's own crash


@pytest.mark.slow
def test_a_spider_that_cannot_start_stops_no_other(two_sources, tmp_path: Path) -> None:
    site, _, _ = two_sources
    database = tmp_path / "archive.sqlite3"
    modules = ["tests.toy_spiders.broken", "tests.toy_spiders.toy_notices"]
    result = govcrawler(
        modules, "crawl", "--replay", str(site), "--database", f"sqlite:///{database}"
    )
    assert result.returncode == 3, result.stdout + result.stderr[-2000:]
    assert "spider: toy_broken\ncould not run: RuntimeError: this toy spider always fails" in (
        result.stdout
    )
    assert f"spider: {TOY}\npages fetched: 5 (200 4, 404 1)" in result.stdout
    assert "crawl stopped early: RuntimeError: this toy spider always fails to start" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    assert [row[:3] for row in run_rows(database)] == [(TOY, "finished", 0)]


@pytest.mark.slow
def test_max_runtime_is_for_all_spiders_together(two_sources, tmp_path: Path) -> None:
    site, _, _ = two_sources
    database = tmp_path / "archive.sqlite3"
    result = govcrawler(
        BOTH,
        *("crawl", "--replay", str(site), "--database", f"sqlite:///{database}"),
        *("--max-runtime", "2s"),
        env={"GOVCRAWLER_DOWNLOAD_DELAY": "0.5"},  # the English crawl alone would take 30 s
    )
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert f"spider: {TOY}\nnot started: the --max-runtime was used up" in result.stdout
    assert [row[:2] for row in run_rows(database)] == [(ENGLISH, "timeout")]


# --- health: each spider against its own previous runs ---------------------------------------


def recorded_run(url: str, spidercls: type, stats: dict[str, int]) -> list[str]:
    """One run of `spidercls` through the run recorder, its crawl stats `stats`; its
    problems."""
    crawler = get_crawler(spidercls, {"GOVCRAWLER_DATABASE_URL": url})
    recorder = RunRecorder.from_crawler(crawler)
    spider = spidercls.from_crawler(crawler)
    crawler.stats.open_spider()
    recorder.spider_opened(spider)
    for key, value in stats.items():
        crawler.stats.set_value(key, value)
    recorder.spider_closed(spider, "finished")
    return list(crawler.stats.get_value("govcrawler/run/problems"))


def test_another_spiders_columns_never_enter_a_spiders_health_checks(tmp_path: Path) -> None:
    from tests.toy_spiders.toy_notices import NoticeSpider

    url = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    english = {"govcrawler/links/column/10765": 30}
    toy = {"govcrawler/links/column/toy": 3}
    assert recorded_run(url, OpenGovernanceSpider, english) == []
    assert recorded_run(url, NoticeSpider, toy) == []
    assert recorded_run(url, OpenGovernanceSpider, english) == []  # no "column toy" problem
    # against its own previous run, a spider's empty column is a problem:
    (problem,) = recorded_run(url, NoticeSpider, {})
    assert problem.startswith("column toy: no article links this run (3 in the previous run)")


def test_a_run_whose_last_batch_was_not_written_is_failed_not_healthy(tmp_path: Path) -> None:
    """The archive pipeline's last write, at close, can fail after the crawl has finished:
    the run is `failed` (exit 3), not a healthy `finished`."""
    url = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    recorded_run(url, OpenGovernanceSpider, {"govcrawler/archive/error": 12})
    (outcome, status) = run_rows_outcome(url)
    assert (outcome, status) == ("failed", 3)


def run_rows_outcome(url: str) -> tuple[str, int]:
    engine = storage.open_archive(url)
    try:
        with storage.session_factory(engine)() as session:
            (run,) = runs.recent_runs(session, 1)
            return run.outcome, run.exit_status or 0
    finally:
        engine.dispose()
