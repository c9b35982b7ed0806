"""The set-up tests share (tests/conftest.py) must not leak one test's writes into another's:
copies of the session's replay crawl, and PostgreSQL archives handed from test to test."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.conftest import PostgresDatabases, ReplayCrawl


def count(database: Path, table: str) -> int:
    with sqlite3.connect(database) as connection:
        return connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def test_each_copy_of_the_replay_crawl_is_a_test_s_own(
    replay_crawl: ReplayCrawl, tmp_path: Path
) -> None:
    assert replay_crawl.result.returncode == 0
    first = replay_crawl.copy(tmp_path / "first.sqlite3")
    second = replay_crawl.copy(tmp_path / "second.sqlite3")
    articles = count(first, "article")
    assert articles > 0
    before = replay_crawl.digest()
    with sqlite3.connect(first) as connection:
        connection.execute("DELETE FROM article_alias")
        connection.execute("DELETE FROM near_duplicate")
        connection.execute("DELETE FROM article")
    assert count(first, "article") == 0
    assert count(second, "article") == articles
    assert replay_crawl.digest() == before


def connect(url: str) -> psycopg.Connection:
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    return psycopg.connect(plain, autocommit=True)


def exists(databases: PostgresDatabases, name: str) -> bool:
    with connect(databases.server) as db:
        found = db.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return found is not None


def test_a_postgresql_archive_comes_back_empty_for_the_next_test(
    postgres_databases: PostgresDatabases,
) -> None:
    url = postgres_databases.create()
    left_open = connect(url)  # a connection the test forgot to close
    left_open.execute(
        "INSERT INTO site_column (column_id, name, list_url, first_seen_at, last_seen_at)"
        " VALUES ('10765', 'News', 'https://www.sc.gov.cn/', now(), now())"
    )
    left_open.execute("SELECT nextval(pg_get_serial_sequence('article', 'id'))")
    postgres_databases.drop(url)
    again = postgres_databases.create()
    try:
        assert again == url  # handed on, not copied again
        with connect(again) as db:
            assert db.execute("SELECT COUNT(*) FROM site_column").fetchone() == (0,)
            serial = "SELECT nextval(pg_get_serial_sequence('article', 'id'))"
            assert db.execute(serial).fetchone() == (1,)
            assert db.execute("SELECT COUNT(*) FROM alembic_version").fetchone() == (1,)
        with pytest.raises(psycopg.OperationalError):
            left_open.execute("SELECT 1")  # ended, as DROP DATABASE … WITH (FORCE) would
    finally:
        left_open.close()
        postgres_databases.drop(again)


@pytest.mark.parametrize(
    "change",
    [
        "ALTER TABLE site_column ADD COLUMN extra text",
        "CREATE TABLE scratch (id integer)",
        "UPDATE alembic_version SET version_num = '0001'",
        "DROP VIEW articles",
    ],
)
def test_a_postgresql_archive_whose_schema_changed_is_dropped(
    postgres_databases: PostgresDatabases, change: str
) -> None:
    url = postgres_databases.create()
    with connect(url) as db:
        db.execute(change)
    postgres_databases.drop(url)
    name = str(make_url(url).database)
    assert not exists(postgres_databases, name)
    assert name not in postgres_databases.spare
