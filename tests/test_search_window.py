"""SQLite ranks a query with at most RANK_WINDOW matches by BM25, and orders a commoner one by
title and age, reading only a bounded part of the index: a common word costs the same at a
million articles as at ten thousand (storage.search.sqlite.RANK_WINDOW)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

import storage
from storage.search import ranking as search
from storage.search import sqlite as search_sqlite
from tests.conftest import numbered_article, sqlite_only

SEEN = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


def bamboo(n: int, in_title: bool) -> storage.ArticleRecord:
    title = f"Bamboo forests, report {n}" if in_title else f"Forestry report {n}"
    body = f"Report {n} of the forestry bureau mentions bamboo once among other trees."
    return numbered_article(n, title, body, date(2024, 3, n), "b")


@pytest.fixture
def six_matches(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """Six articles about bamboo; the first archived (id 1) is the best match (title too)."""
    with sessions.begin() as session:
        for n in range(1, 7):
            storage.record_article(session, bamboo(n, in_title=n == 1), SEEN)
    return sessions


@sqlite_only
def test_a_query_within_the_window_is_ranked_whole(six_matches: sessionmaker[Session]) -> None:
    with six_matches() as session:
        hits = search.search_articles(session, "bamboo", limit=3)
    assert hits[0].article_id == 1


@sqlite_only
def test_a_commoner_query_has_its_title_matches_among_its_newest_first_then_the_newest(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_sqlite, "RANK_WINDOW", 4)
    with sessions.begin() as session:
        for n in range(1, 7):  # ids 1-6; bamboo in the titles of 1 and 4
            storage.record_article(session, bamboo(n, in_title=n in (1, 4)), SEEN)
    with sessions() as session:
        hits = search.search_articles(session, "bamboo", limit=6)
        filtered = search.search_articles(session, "bamboo", since=date(2024, 3, 3), limit=6)
        excluding = search.search_articles(session, "bamboo NOT forests", limit=6)
    # 4 has it in its title among the 4 newest matches (3-6); 1 too, but older than they are
    assert [(hit.article_id, hit.score) for hit in hits] == [
        (4, search.TITLE_MATCH),
        (6, 0.0),
        (5, 0.0),
        (3, 0.0),
        (2, 0.0),
        (1, 0.0),
    ]
    assert [hit.article_id for hit in filtered] == [4, 6, 5, 3]
    # "forests" is in the titles of 1 and 4: four matches, few enough to be ranked by BM25
    assert sorted(hit.article_id for hit in excluding) == [2, 3, 5, 6]
    assert all(hit.score > 0 for hit in excluding)
    assert all("[bamboo]" in hit.snippet for hit in hits)


@sqlite_only
def test_a_commoner_query_with_not_keeps_its_exclusion_in_the_title_and_the_body(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_sqlite, "RANK_WINDOW", 2)
    with sessions.begin() as session:
        for n in range(1, 7):  # "forests" only in the titles of 1 and 4, and 6's body
            record = bamboo(n, in_title=n in (1, 4))
            if n == 6:
                record = dataclasses.replace(record, body=record.body + " And forests.")
            storage.record_article(session, record, SEEN)
    with sessions() as session:
        hits = search.search_articles(session, "bamboo NOT forests", limit=6)
        titled = search.search_articles(session, "forestry NOT forests", limit=6)
    assert [(hit.article_id, hit.score) for hit in hits] == [(5, 0.0), (3, 0.0), (2, 0.0)]
    # "Forestry report n": in the titles of 2, 3 and 5 (the others lack it or have "forests")
    assert [(hit.article_id, hit.score) for hit in titled] == [
        (5, search.TITLE_MATCH),
        (3, search.TITLE_MATCH),
        (2, 0.0),
    ]


@sqlite_only
def test_a_filtered_commoner_query_keeps_the_order_of_the_unfiltered_one(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Filters narrow the common query's order, whatever order the articles were archived in
    (the date filters bound the walk by the ids their dates cover)."""
    monkeypatch.setattr(search_sqlite, "RANK_WINDOW", 5)
    days = [date(2015 + n % 7, 1 + n * 5 % 12, 1 + n * 11 % 28) for n in range(40)]
    order = sorted(range(40), key=lambda n: (n * 17) % 40)  # archived out of date order
    with sessions.begin() as session:
        for n in order:
            column = ("10765", "10766", "10767")[n % 3]
            title = f"Bamboo notice {n}" if n % 4 == 0 else f"Notice {n}"
            body = f"Notice {n} of the forestry bureau about bamboo in Sichuan."
            storage.record_article(
                session, numbered_article(n, title, body, days[n], "f", column), SEEN
            )
    filters = [
        {"since": date(2018, 1, 1)},
        {"until": date(2017, 6, 30)},
        {"since": date(2016, 3, 1), "until": date(2019, 8, 31)},
        {"since": date(2019, 1, 1), "until": date(2019, 12, 31), "column": "10766"},
        {"column": "10767"},
        {"until": date(2016, 12, 31), "column": "10765"},
        {"since": date(2030, 1, 1)},
    ]
    with sessions() as session:
        everything = search.search_articles(session, "bamboo", limit=40)
        by_id = {row.id: row for row in session.execute(text("SELECT * FROM articles"))}
        assert len(everything) == 40 and everything[0].score == search.TITLE_MATCH
        for given in filters:
            since, until = given.get("since", date.min), given.get("until", date.max)
            expected = [
                hit.article_id
                for hit in everything
                if since.isoformat() <= by_id[hit.article_id].published_on <= until.isoformat()
                and given.get("column", by_id[hit.article_id].column_id)
                == by_id[hit.article_id].column_id
            ]
            for limit in (3, 40):
                hits = search.search_articles(session, "bamboo", limit=limit, **given)
                assert [hit.article_id for hit in hits] == expected[:limit], (given, limit)


@sqlite_only
def test_a_date_filter_before_the_year_1000_finds_nothing_and_says_nothing(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_sqlite, "RANK_WINDOW", 1)
    with sessions.begin() as session:
        for n in range(1, 4):
            storage.record_article(session, bamboo(n, in_title=False), SEEN)
    with sessions() as session:
        old = {"since": date(999, 1, 1), "until": date(999, 12, 31), "column": "10765"}
        assert search.search_articles(session, "bamboo", **old) == []
        assert len(search.search_articles(session, "bamboo", since=date(999, 1, 1))) == 3
