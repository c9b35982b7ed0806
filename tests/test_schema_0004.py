"""Revision 0004: the article's date on its own row (indexed with its column) and SQLite's
search index without prefix indexes, reached by upgrade and left by downgrade with every row
and every search hit intact, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

import storage
from storage.db import _alembic_config
from storage.search import ranking as search
from storage.search.ranking import search_articles
from tests.conftest import numbered_article, raw_rows, url_of

SEEN = datetime(2026, 11, 28, 2, 30, tzinfo=UTC)
COLUMN_YEAR = (
    "SELECT id, published_on, year FROM articles WHERE column_id = ? AND year = ? "
    "ORDER BY published_on DESC LIMIT 20"
)


def article(n: int, published_on: date | None, column: str = "10765") -> storage.ArticleRecord:
    words = ["bamboo", "wetland", "investment", "panda", "reform"][n % 5]
    body = (
        f"Article {n} on {words} in Sichuan. The {words} report for the province. "
        f"四川省改革{n}号文件。"
    )
    record = numbered_article(n, f"Report {n}: {words}", body, published_on, "a", column)
    # one URL whatever the date: a corrected date is a new version of the same page
    url = f"https://www.sc.gov.cn/10462/10758/10760/{column}/2020/1/{n}/{record.canonical_id}.shtml"
    return dataclasses.replace(record, url=url)


def write(sessions: sessionmaker[Session]) -> None:
    dates = [date(2019, 3, 1), date(2020, 5, 2), date(2020, 11, 30), None, date(2021, 1, 4)]
    with sessions.begin() as session:
        for n, published in enumerate(dates):
            storage.record_article(session, article(n, published), SEEN)
        storage.record_article(session, article(9, date(2020, 7, 7), column="10766"), SEEN)


def searches(engine: Engine) -> dict[str, list[int]]:
    with storage.session_factory(engine)() as session:
        return {
            query: [hit.article_id for hit in search_articles(session, query)]
            for query in ("bamboo", "invest*", '"wetland report"', "改革", "四", "Sichuan")
        }


def downgrade(engine: Engine, revision: str) -> None:
    """Alembic's downgrade on the engine's own connection (as `storage.upgrade_archive`)."""
    config = _alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_0004_round_trip_keeps_rows_dates_and_search(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = storage.session_factory(engine)
    write(sessions)
    url = url_of(engine)
    at_head = raw_rows(url, "SELECT id, url, title, published_on, year FROM articles ORDER BY id")
    hits = searches(engine)
    assert hits["bamboo"] == [1] and hits["invest*"] == [3] and hits["四"] and hits["改革"]
    assert [row["year"] for row in at_head] == [2019, 2020, 2020, None, 2021, 2020]
    assert raw_rows(url, COLUMN_YEAR, "10765", 2020) == [
        {"id": 3, "published_on": "2020-11-30", "year": 2020},
        {"id": 2, "published_on": "2020-05-02", "year": 2020},
    ]

    downgrade(engine, "0003")
    assert storage.schema_revision(engine) == "0003"
    assert raw_rows(url, "SELECT id, url, title, published_on, year FROM articles ORDER BY id") == (
        at_head
    )
    with monkeypatch.context() as before_0005:  # no word list: prefixes read by FTS5 itself
        before_0005.setattr(search, "_words_for_prefixes", lambda _session, node: node)
        assert searches(engine) == hits

    storage.upgrade_archive(engine)
    assert raw_rows(url, "SELECT id, url, title, published_on, year FROM articles ORDER BY id") == (
        at_head
    )
    assert raw_rows(url, "SELECT id, published_on, published_year FROM article ORDER BY id") == [
        {"id": row["id"], "published_on": row["published_on"], "published_year": row["year"]}
        for row in at_head
    ]
    assert searches(engine) == hits


def test_a_new_version_moves_the_articles_date(
    sessions: sessionmaker[Session], engine: Engine
) -> None:
    write(sessions)
    corrected = article(1, date(2021, 2, 3))
    corrected = storage.ArticleRecord(**{**corrected.__dict__, "body": corrected.body + " Edited."})
    with sessions.begin() as session:
        result = storage.record_article(session, corrected, SEEN)
    assert result.outcome is storage.Outcome.NEW_VERSION
    assert raw_rows(
        url_of(engine), "SELECT published_on, published_year FROM article WHERE id = 2"
    ) == [{"published_on": "2021-02-03", "published_year": 2021}]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sqlite_reads_a_column_and_year_from_the_index(engine: Engine) -> None:
    write(storage.session_factory(engine))
    with engine.connect() as connection:
        plan = connection.execute(
            text("EXPLAIN QUERY PLAN " + COLUMN_YEAR.replace("?", ":p")), {"p": "10765"}
        ).all()
        fts = connection.execute(
            text("SELECT sql FROM sqlite_master WHERE name = 'articles_fts'")
        ).scalar_one()
    details = " ".join(str(row[-1]) for row in plan)
    assert "ix_article_column_id_published_year" in details, details
    assert "TEMP B-TREE" not in details  # no sort: the index gives the order
    assert "prefix" not in fts
