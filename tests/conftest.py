from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

import storage
from govcrawler.extract.encoding import page_text
from storage.read import as_sqlite_text

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
        from govcrawler.cli import expected  # imports Scrapy: only when asked for

        for change in expected.update_expected(expected.fixture_pages([SITE_COPY])):
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
    """A page of the saved site (an article, a document) and the extraction it must give."""

    path: Path
    url: str
    expected: dict

    @property
    def page_type(self) -> str:
        return str(self.expected.get("page_type", "article"))

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


def fixture_pages(page_type: str | None = "article") -> list[FixturePage]:
    """The saved site's pages that have an expected output, of one page type (the
    `"page_type"` of the file; articles' files carry none), or of every type with None."""
    UPDATE_EXPECTED.run()
    pages = []
    for expected_file in sorted(SITE_COPY.rglob("*.expected.json")):
        page = expected_file.with_name(expected_file.name.removesuffix(".expected.json"))
        if not page.is_file():
            continue  # not a page's output (relations.json: the documents' links)
        url = "https://" + page.relative_to(SITE_COPY).as_posix()
        fixture = FixturePage(page, url, json.loads(expected_file.read_text("utf-8")))
        if page_type is None or fixture.page_type == page_type:
            pages.append(fixture)
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


# One crawl of the saved site per test session: `govcrawler crawl --replay` (the real Scrapy
# stack, in a subprocess, DEBUG log) is what the end-to-end tests read, and most of a test
# run's time was the same crawl started again by each module. A test that needs other
# settings, another site or a second run starts its own (and is marked `slow`).
GOVCRAWLER = [sys.executable, "-c", "from govcrawler.cli import main; main()"]
# The English spider's tests crawl with it alone (the Chinese spider has its own tests).
ENGLISH_ONLY = ("--spider", "sc_open_governance")


@dataclass(frozen=True)
class ReplayCrawl:
    """The shared crawl: its archive (never handed out: tests take copies) and the finished
    process (exit status, the summary on stdout, the DEBUG log on stderr)."""

    archive: Path
    result: subprocess.CompletedProcess[str]

    def copy(self, target: Path) -> Path:
        """A copy of the archive at `target`, the test's own to read or write."""
        shutil.copyfile(self.archive, target)
        return target

    def digest(self) -> str:
        """The archive's bytes, with a write-ahead log if a connection left one."""
        files = [self.archive, *self.archive.parent.glob(self.archive.name + "-*")]
        return hashlib.sha256(b"".join(sorted(f.read_bytes() for f in files))).hexdigest()


@pytest.fixture(scope="session")
def replay_crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplayCrawl]:
    archive = tmp_path_factory.mktemp("replay-crawl") / "archive.sqlite3"
    command = [*GOVCRAWLER, "crawl", *ENGLISH_ONLY, "--replay", str(SITE_COPY)]
    command += ["--database", sqlite_url(archive)]
    result = subprocess.run(
        [*command, "--log-level", "DEBUG"], capture_output=True, text=True, cwd=ROOT, timeout=240
    )
    assert result.returncode == 0, result.stderr[-3000:]
    journals = [p.name for p in archive.parent.glob(archive.name + "-*")]  # -wal, -journal
    assert not journals, f"the crawl left {journals}: a copy of the archive alone would miss them"
    crawl = ReplayCrawl(archive, result)
    before = crawl.digest()
    yield crawl
    # (bytes, not a read-only mode: root, as in CI containers, would write anyway)
    assert crawl.digest() == before, "a test wrote to the shared archive instead of a copy"


@pytest.fixture
def crawled_archive(replay_crawl: ReplayCrawl, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This test's own copy of the shared crawl's archive (in a directory of its own: the
    test's `tmp_path` stays empty)."""
    return replay_crawl.copy(tmp_path_factory.mktemp("crawled") / "archive.sqlite3")


# The archive's backends. The storage tests take `backend` (through `engine`, `sessions`,
# `database_url`) and run once per backend: SQLite always, PostgreSQL on the server named by
# GOVCRAWLER_TEST_POSTGRES_URL (`eval "$(ci/services.sh)"` starts one), each test in a database
# of its own. Without the variable the PostgreSQL runs are skipped, except in CI (CI=true),
# where they fail: CI must not pass without having tried PostgreSQL.
BACKENDS = ["sqlite", "postgresql"]
POSTGRES_ENV = "GOVCRAWLER_TEST_POSTGRES_URL"
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def postgres_server() -> str:
    """The test server's URL (a database on it that may be used to create others)."""
    url = os.environ.get(POSTGRES_ENV)
    if url:
        return url
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"CI=true but {POSTGRES_ENV} is not set: the storage tests must also run against "
            'PostgreSQL in CI (eval "$(ci/services.sh)" before the tests)',
            pytrace=False,
        )
    pytest.skip(f'PostgreSQL not tried: set {POSTGRES_ENV} (eval "$(ci/services.sh)")')


# What a test could change of an archive's schema on PostgreSQL: its relations, columns,
# constraints, triggers, functions, views and revision. Equal to the template's: the archive
# can be emptied and given to the next test.
SCHEMA_OF_ARCHIVE = """
SELECT 'rel', relname, relkind::text FROM pg_class WHERE relnamespace = 'public'::regnamespace
UNION ALL SELECT 'col', c.relname || '.' || a.attname,
    format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull::text || ' ' || a.atthasdef::text
  FROM pg_attribute AS a JOIN pg_class AS c ON c.oid = a.attrelid
  WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL SELECT 'con', conname, pg_get_constraintdef(oid)
  FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL SELECT 'trg', tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal
UNION ALL SELECT 'fn', proname, pg_get_functiondef(oid)
  FROM pg_proc WHERE pronamespace = 'public'::regnamespace
UNION ALL SELECT 'view', relname, pg_get_viewdef(oid)
  FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('v', 'm')
UNION ALL SELECT 'schema', nspname, '' FROM pg_namespace
UNION ALL SELECT 'revision', version_num, '' FROM alembic_version
"""


@dataclass
class PostgresDatabases:
    """Throw-away databases on the test server, named gc_test_<pid>_<n>. An archive at head is
    copied from a template migrated once per session (CREATE DATABASE … TEMPLATE); when its
    test is over it is emptied (TRUNCATE, every sequence restarted) and handed to the next test,
    unless that test changed its schema, which drops it: a copy costs 0.3-0.5 s, emptying
    0.05 s, and ~70 tests a run take one."""

    server: str
    template: str | None = None
    schema: frozenset[tuple[str, str, str]] = frozenset()
    created: list[str] = field(default_factory=list)
    at_head: set[str] = field(default_factory=set)
    spare: list[str] = field(default_factory=list)  # at head and empty
    numbers: Iterator[int] = field(default_factory=itertools.count)

    def _connect(self, database: str | None = None) -> psycopg.Connection:
        url = make_url(self.server).set(drivername="postgresql")
        url = url.set(database=database) if database else url
        return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)

    def _admin(self, sql: str) -> None:
        with self._connect() as db:
            db.execute(sql)

    def _schema(self, name: str) -> frozenset[tuple[str, str, str]]:
        with self._connect(name) as db:
            return frozenset(db.execute(SCHEMA_OF_ARCHIVE).fetchall())

    def url(self, name: str) -> str:
        return make_url(self.server).set(database=name).render_as_string(hide_password=False)

    def create(self, at_head: bool = True) -> str:
        """The URL of a new database: an archive at head, or empty."""
        if at_head and self.spare:
            return self.url(self.spare.pop())
        name = f"gc_test_{os.getpid()}_{next(self.numbers)}"
        if at_head and self.template is None:
            template = f"gc_test_{os.getpid()}_template"
            self._admin(f"DROP DATABASE IF EXISTS {template}")
            self._admin(f"CREATE DATABASE {template}")
            storage.open_archive(self.url(template)).dispose()
            self.template, self.schema = template, self._schema(template)
        template = f" TEMPLATE {self.template} STRATEGY FILE_COPY" if at_head else ""
        self._admin(f"CREATE DATABASE {name}{template}")
        self.created.append(name)
        if at_head:
            self.at_head.add(name)
        return self.url(name)

    def _emptied(self, name: str) -> bool:
        """Whether the archive a test used is now as the template made it, rows removed."""
        with self._connect() as db:  # what the test left connected (FORCE, when dropping)
            db.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
        try:
            if self._schema(name) != self.schema:
                return False
            with self._connect(name) as db:
                db.execute("SET lock_timeout = '2s'")
                rows = db.execute(
                    "SELECT relname, relkind FROM pg_class WHERE relnamespace = "
                    "'public'::regnamespace AND relkind IN ('r', 'S') AND relname <> "
                    "'alembic_version'"
                ).fetchall()
                tables = ", ".join(f'"{n}"' for n, kind in rows if kind == "r")
                db.execute(f"TRUNCATE {tables} CASCADE")
                for sequence in (n for n, kind in rows if kind == "S"):
                    db.execute(f'ALTER SEQUENCE "{sequence}" RESTART')
            return True
        except psycopg.Error:
            return False

    def drop(self, url: str) -> None:
        """The test is over: its archive goes back to the spares, or is dropped."""
        name = str(make_url(url).database)
        if name in self.at_head and self._emptied(name):
            self.spare.append(name)
            return
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self.created.remove(name)
        self.at_head.discard(name)

    def drop_all(self) -> None:
        for name in [*self.created, *([self.template] if self.template else [])]:
            self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        self.created.clear()
        self.spare.clear()


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases(postgres_server())
    yield databases
    databases.drop_all()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The archive's backend for this run of the test."""
    if request.param == "postgresql":
        postgres_server()
    return str(request.param)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite archive at head, migrated once: each test's archive starts as a copy
    of the file (~0.015 s, where migrating a new one costs 0.05-0.1 s; ~80 tests a run)."""
    path = tmp_path_factory.mktemp("template") / "archive.sqlite3"
    storage.open_archive(sqlite_url(path)).dispose()
    journals = [p.name for p in path.parent.glob(path.name + "-*")]
    assert not journals, f"closing the template left {journals}: a copy of its file would miss them"
    return path


@contextlib.contextmanager
def new_database(
    backend: str, folder: Path, request: pytest.FixtureRequest, at_head: bool = True
) -> Iterator[str]:
    """The URL of a database of its own, on `backend`: a file in `folder`, or a PostgreSQL
    database dropped afterwards. `at_head`: already an archive at the current schema."""
    if backend == "sqlite":
        path = folder / "archive.sqlite3"
        if at_head:
            shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield sqlite_url(path)
        return
    databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
    url = databases.create(at_head)
    try:
        yield url
    finally:
        databases.drop(url)


@pytest.fixture
def archive_path(tmp_path: Path) -> Path:
    """Where a test's SQLite archive lives (a fresh file per test)."""
    return tmp_path / "archive.sqlite3"


@pytest.fixture
def database_url(backend: str, archive_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of this test's archive, not yet created (SQLite) or empty (PostgreSQL)."""
    if backend == "sqlite":
        yield sqlite_url(archive_path)
        return
    with new_database(backend, archive_path.parent, request, at_head=False) as url:
        yield url


@pytest.fixture
def engine(backend: str, archive_path: Path, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A fresh archive at the current schema (`archive_path`, on SQLite)."""
    with new_database(backend, archive_path.parent, request) as url:
        engine = storage.open_archive(url)
        yield engine
        engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return storage.session_factory(engine)


def _as_in_sqlite(value: Any) -> Any:
    """A value read from PostgreSQL as the same column reads in SQLite: times and dates as
    text, booleans as 0/1, JSON as its text."""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return as_sqlite_text(value)


def raw_rows(url: str, sql: str, *params: Any) -> list[dict[str, Any]]:
    """Rows read as a researcher reads the archive: the standard library's sqlite3, or psycopg
    (values in SQLite's forms, so one expectation serves both; `?` placeholders)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        with contextlib.closing(sqlite3.connect(str(parsed.database))) as connection:
            connection.row_factory = sqlite3.Row
            return [dict(row) for row in connection.execute(sql, params)]
    plain = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as connection:
        cursor = connection.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]
        names = [column.name for column in cursor.description or []]
        return [dict(zip(names, map(_as_in_sqlite, row), strict=True)) for row in cursor]


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def archive_url(engine: Engine) -> str:
    """The URL of the test's archive (`engine`'s), for reading it as a researcher would."""
    return url_of(engine)


def index_search(url: str, query: str) -> list[int]:
    """Article ids the full-text index matches, queried raw (FTS5 MATCH, or a tsquery in the
    `simple` configuration, AND spelled &)."""
    if make_url(url).get_backend_name() == "sqlite":
        sql = "SELECT rowid AS id FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rowid"
    else:
        sql = (
            "SELECT article_id AS id FROM articles_fts "
            "WHERE document @@ to_tsquery('simple', ?) ORDER BY article_id"
        )
        query = query.replace(" AND ", " & ")
    return [row["id"] for row in raw_rows(url, sql, query)]


def numbered_article(
    n: int, title: str, body: str, published_on: date | None, letter: str, column: str = "10765"
) -> storage.ArticleRecord:
    """Article `n` of a test's set `letter`: an English page of `column` whose id, URL and body
    digest derive from `n` (the URL's date from `published_on`, 2020-01-01 when it has none)."""
    day = published_on or date(2020, 1, 1)
    article_id = f"{letter}{n:031d}"
    return storage.ArticleRecord(
        url=f"https://www.sc.gov.cn/10462/10758/10760/{column}/{day.year}/{day.month}/{day.day}/"
        f"{article_id}.shtml",
        canonical_id=article_id,
        title=title,
        body=body,
        body_digest=f"{n:064d}",
        published_on=published_on,
        column_id=column,
        language="en",
        template="contText",
        extraction_path="container",
    )
