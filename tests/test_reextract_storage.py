"""The write path of a re-extraction (`ArticleRecord.origin` REEXTRACT) and revision 0012, on
SQLite and PostgreSQL: a changed result is a new version made by re-extraction, with its
changes so marked, the search index and near-duplicate bands following it and the article's
sightings untouched; an unchanged result writes nothing; a page read as another URL is not
written. Revision 0012 says `crawl` of everything before it and downgrades keeping every row."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import Engine

import storage
from storage.db import _alembic_config
from tests.conftest import index_search, numbered_article, raw_rows, url_of

CRAWLED = datetime(2026, 12, 1, 8, tzinfo=UTC)
GONE = CRAWLED + timedelta(days=2)
REEXTRACTED = CRAWLED + timedelta(days=5)
BODY = "Rescuers evacuate residents from Leshan.\n\nUpdated:2020.08.24 Print"
FIXED = "Rescuers evacuate residents from Leshan."


def crawled(engine: Engine) -> storage.ArticleRecord:
    """One article crawled with a date line in its body, then withdrawn by the site."""
    record = dataclasses.replace(
        numbered_article(1, "Floods in Leshan", BODY, None, "a"), extractor_revision=1
    )
    with storage.session_factory(engine).begin() as session:
        capture = storage.CaptureRecord(record.url, record.url, 200, CRAWLED, b"<html>old</html>")
        capture_id = storage.record_capture(session, capture).id
        storage.record_article(session, record, CRAWLED, capture_id)
        storage.record_gone(session, record.url, GONE)
    return record


def again(engine: Engine, record: storage.ArticleRecord) -> storage.Result:
    with storage.session_factory(engine).begin() as session:
        return storage.record_article(session, record, REEXTRACTED, capture_id=1)


def fixed(record: storage.ArticleRecord) -> storage.ArticleRecord:
    return dataclasses.replace(record, body=FIXED, origin=storage.REEXTRACT, extractor_revision=2)


def test_a_changed_result_is_a_version_by_reextraction(engine: Engine) -> None:
    record = crawled(engine)
    url = url_of(engine)
    bands = raw_rows(url, "SELECT band_key FROM near_duplicate_band ORDER BY band_key")
    result = again(engine, fixed(record))
    assert result.outcome == storage.Outcome.NEW_VERSION
    versions = raw_rows(
        url,
        "SELECT version_no, origin, extractor_revision, first_seen_at, last_seen_at, capture_id,"
        " is_current FROM article_versions ORDER BY version_no",
    )
    assert [(v["version_no"], v["origin"], v["extractor_revision"]) for v in versions] == [
        (1, "crawl", 1),
        (2, "reextract", 2),
    ]
    assert versions[1]["first_seen_at"] == versions[0]["first_seen_at"]  # the same sightings
    assert versions[1]["last_seen_at"] == versions[0]["last_seen_at"]
    assert (versions[1]["capture_id"], versions[1]["is_current"]) == (1, 1)
    changes = raw_rows(url, "SELECT change, field, origin FROM field_changes ORDER BY change_id")
    assert changes[-1] == {"change": "changed", "field": "body", "origin": "reextract"}
    assert {c["origin"] for c in changes[:-1]} == {"crawl"}  # new, withdrawn
    # the site was not fetched: the article is as withdrawn and as last seen as before
    article = raw_rows(url, "SELECT last_seen_at, withdrawn_at FROM article")[0]
    assert article["withdrawn_at"] is not None and article["last_seen_at"] < article["withdrawn_at"]
    assert index_search(url, "Leshan") == [1] and index_search(url, "Print") == []
    assert raw_rows(url, "SELECT band_key FROM near_duplicate_band ORDER BY band_key") != bands


def test_an_unchanged_result_writes_nothing(engine: Engine) -> None:
    record = crawled(engine)
    url = url_of(engine)
    tables = ("article", "article_version", "article_change", "near_duplicate_band", "capture")
    before = {t: raw_rows(url, f"SELECT * FROM {t}") for t in tables}
    same = dataclasses.replace(record, origin=storage.REEXTRACT, extractor_revision=2)
    assert again(engine, same).outcome == storage.Outcome.UNCHANGED
    assert {t: raw_rows(url, f"SELECT * FROM {t}") for t in tables} == before
    assert again(engine, fixed(record)).outcome == storage.Outcome.NEW_VERSION
    assert again(engine, fixed(record)).outcome == storage.Outcome.UNCHANGED  # a rerun


def test_a_page_read_as_another_url_is_not_written(engine: Engine) -> None:
    record = crawled(engine)
    moved = dataclasses.replace(fixed(record), url=record.url.replace(".shtml", "_2.shtml"))
    assert again(engine, moved).outcome == storage.Outcome.NOT_ARCHIVED
    assert raw_rows(url_of(engine), "SELECT count(*) AS n FROM article_version") == [{"n": 1}]


def test_a_crawl_after_the_fix_sees_no_edit(engine: Engine) -> None:
    record = crawled(engine)
    again(engine, fixed(record))
    with storage.session_factory(engine).begin() as session:
        seen = dataclasses.replace(record, body=FIXED)  # the crawl, now extracting as the fix did
        result = storage.record_article(session, seen, REEXTRACTED + timedelta(days=1))
    assert result.outcome == storage.Outcome.UNCHANGED


def test_0012_says_crawl_of_what_came_before_and_downgrades_keeping_rows(engine: Engine) -> None:
    record = crawled(engine)
    again(engine, fixed(record))
    url = url_of(engine)
    config = _alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0011")
    assert raw_rows(url, "SELECT version_no FROM article_versions ORDER BY 1") == [
        {"version_no": 1},
        {"version_no": 2},
    ]
    assert len(raw_rows(url, "SELECT * FROM field_changes")) == 3
    storage.upgrade_archive(engine)
    assert (
        raw_rows(url, "SELECT origin, extractor_revision FROM article_versions")
        == [{"origin": "crawl", "extractor_revision": None}] * 2
    )
    assert {r["origin"] for r in raw_rows(url, "SELECT origin FROM field_changes")} == {"crawl"}
