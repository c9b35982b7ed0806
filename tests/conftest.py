from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import storage
from govcrawler.extract.encoding import page_text

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
SITE_COPY = FIXTURES / "site"


@dataclass
class ExpectedUpdate:
    """`pytest --update-expected`: the expected outputs are rewritten from the current
    extraction (as `govcrawler fixtures update` does) before the pages are read, so the
    comparisons pass; the diff is shown at the end. Off by default: a normal run never writes."""

    enabled: bool = False
    done: bool = False
    report: str = ""

    def run(self) -> None:
        if not self.enabled or self.done:
            return
        from govcrawler import fixtures  # imports Scrapy: only when asked for

        for change in fixtures.update_expected(fixtures.fixture_pages([SITE_COPY])):
            self.report += f"cannot extract {change.error}\n" if change.error else change.report()
        self.done = True


UPDATE_EXPECTED = ExpectedUpdate()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-expected",
        action="store_true",
        default=False,
        help="Rewrite each fixture page's .expected.json from the current extraction "
        "(as `govcrawler fixtures update` does) instead of failing.",
    )


def pytest_configure(config: pytest.Config) -> None:
    UPDATE_EXPECTED.enabled = bool(config.getoption("--update-expected"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if UPDATE_EXPECTED.report:
        terminalreporter.section("expected outputs rewritten (--update-expected)")
        terminalreporter.write(UPDATE_EXPECTED.report)


@dataclass(frozen=True)
class FixturePage:
    """An article page of the saved site and the extraction it must give."""

    path: Path
    url: str
    expected: dict

    @property
    def id(self) -> str:
        return self.path.relative_to(SITE_COPY).as_posix()

    def html(self) -> str:
        """The page decoded as the crawler decodes it (declared charset, else detection)."""
        content_type = None
        sidecar = self.path.with_name(self.path.name + ".meta.json")
        if sidecar.is_file():
            headers = json.loads(sidecar.read_text(encoding="utf-8")).get("headers", {})
            content_type = headers.get("Content-Type")
        text, _ = page_text(self.path.read_bytes(), content_type)
        return text


def fixture_pages() -> list[FixturePage]:
    UPDATE_EXPECTED.run()
    pages = []
    for expected_file in sorted(SITE_COPY.rglob("*.expected.json")):
        page = expected_file.with_name(expected_file.name.removesuffix(".expected.json"))
        url = "https://" + page.relative_to(SITE_COPY).as_posix()
        pages.append(FixturePage(page, url, json.loads(expected_file.read_text("utf-8"))))
    return pages


def scrapy_crawl(database: Path, site: Path = SITE_COPY, **settings: object) -> list[str]:
    """The command line of `scrapy crawl` over a saved copy of the site into `database`
    (the developers' entry point, which takes any setting with -s)."""
    command = [sys.executable, "-m", "scrapy", "crawl", "sc_open_governance"]
    merged = {
        "GOVCRAWLER_REPLAY_DIR": site,
        "GOVCRAWLER_DATABASE_URL": f"sqlite:///{database}",
        "LOG_LEVEL": "WARNING",
        **settings,
    }
    for name, value in merged.items():
        command += ["-s", f"{name}={value}"]
    return command


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture
def archive_path(tmp_path: Path) -> Path:
    """Where a test's archive lives (a fresh file per test)."""
    return tmp_path / "archive.sqlite3"


@pytest.fixture
def engine(archive_path: Path) -> Iterator[Engine]:
    """A fresh archive at the current schema."""
    engine = storage.open_archive(sqlite_url(archive_path))
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return storage.session_factory(engine)
