"""Revision 0008: documents, references and changes; an archive of revision 0007 with data is
upgraded without losing a row, its history backfilled into `article_change`, and downgraded
back, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from alembic import command
from sqlalchemy import Engine, text

import storage
from storage.db import _alembic_config
from tests.conftest import numbered_article, raw_rows, url_of

SEEN = datetime(2026, 11, 28, 2, 30, tzinfo=UTC)
LATER = SEEN + timedelta(days=2)
GONE = SEEN + timedelta(days=5)
TABLES = {
    "article": "SELECT * FROM article ORDER BY id",
    "article_version": "SELECT * FROM article_version ORDER BY id",
    "article_alias": "SELECT * FROM article_alias ORDER BY url",
    "near_duplicate_band": "SELECT * FROM near_duplicate_band ORDER BY band_key, article_id",
    "articles": "SELECT * FROM articles ORDER BY id",
    "article_versions": "SELECT * FROM article_versions ORDER BY version_id",
}
BACKFILLED = (
    "SELECT article_id, version_id, change, field, old_value, new_value, detected_at, run_id "
    "FROM article_change ORDER BY id"
)


def downgrade(engine: Engine, revision: str) -> None:
    config = _alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


LATER_COLUMNS = ("origin", "extractor_revision")  # revision 0012's, not in an archive of 0007


def snapshot(url: str) -> dict[str, list[dict[str, object]]]:
    return {
        name: [
            {k: v for k, v in row.items() if k not in LATER_COLUMNS} for row in raw_rows(url, sql)
        ]
        for name, sql in TABLES.items()
    }


def first_generation() -> list[storage.ArticleRecord]:
    return [
        numbered_article(n, f"Report {n}", f"Sichuan report number {n} on bamboo.", None, "m")
        for n in range(3)
    ]


def write_history(engine: Engine) -> None:
    """Three English articles: one unchanged, one retitled with a new body, one withdrawn."""
    sessions = storage.session_factory(engine)
    first = first_generation()
    with sessions.begin() as session:
        for record in first:
            storage.record_article(session, record, SEEN)
    edited = dataclasses.replace(
        first[1], title="Report 1, corrected", body="Sichuan report number 1 on wetlands."
    )
    with sessions.begin() as session:
        storage.record_article(session, edited, LATER)
        storage.record_gone(session, first[2].url, GONE)


def test_an_archive_of_0007_is_upgraded_with_every_row_and_its_history(engine: Engine) -> None:
    write_history(engine)
    url = url_of(engine)
    at_head = snapshot(url)
    downgrade(engine, "0007")
    assert storage.schema_revision(engine) == "0007"
    assert snapshot(url) == at_head

    storage.upgrade_archive(engine)
    assert storage.schema_revision(engine) == storage.head_revision()
    assert snapshot(url) == at_head
    seen, later, gone = (
        t.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f") for t in (SEEN, LATER, GONE)
    )
    changes = raw_rows(url, BACKFILLED)
    assert [(c["article_id"], c["change"], c["field"]) for c in changes] == [
        (1, "new", None),
        (2, "new", None),
        (3, "new", None),
        (2, "changed", "title"),
        (2, "changed", "body"),
        (3, "withdrawn", None),
    ]
    assert [c["detected_at"] for c in changes] == [seen, seen, seen, later, later, gone]
    title, body = changes[3], changes[4]
    assert (title["old_value"], title["new_value"]) == ("Report 1", "Report 1, corrected")
    assert body["old_value"].startswith("34 characters, sha256 ")
    assert body["new_value"].startswith("36 characters, sha256 ")
    assert all(c["run_id"] is None for c in changes)
    for view in ("documents", "document_citations", "document_interpretations"):
        assert raw_rows(url, f"SELECT COUNT(*) AS n FROM {view}") == [{"n": 0}]
    kinds = raw_rows(url, "SELECT DISTINCT kind FROM field_changes")
    assert kinds == [{"kind": "article"}]


def test_the_backfill_words_changes_as_the_write_path_does(engine: Engine) -> None:
    write_history(engine)
    url = url_of(engine)
    written = raw_rows(url, BACKFILLED)
    downgrade(engine, "0007")
    storage.upgrade_archive(engine)
    backfilled = raw_rows(url, BACKFILLED)
    key = lambda c: (c["article_id"], c["detected_at"], c["change"], c["field"] or "")  # noqa: E731
    assert sorted(backfilled, key=key) == sorted(written, key=key)


def test_0008_downgrades_to_0007(engine: Engine) -> None:
    write_history(engine)
    url = url_of(engine)
    downgrade(engine, "0007")
    names = {
        row["name"]
        for row in raw_rows(
            url,
            "SELECT name FROM sqlite_master"
            if engine.dialect.name == "sqlite"
            else "SELECT table_name AS name FROM information_schema.tables "
            "WHERE table_schema = 'public'",
        )
    }
    assert not names & {"document_version", "article_change", "document_reference", "documents"}
    assert raw_rows(url, "SELECT COUNT(*) AS n FROM article") == [{"n": 3}]


def test_a_date_of_a_version_is_text_in_the_change(engine: Engine) -> None:
    sessions = storage.session_factory(engine)
    record = numbered_article(7, "Dated", "A dated Sichuan report.", date(2020, 3, 1), "d")
    with sessions.begin() as session:
        storage.record_article(session, record, SEEN)
        storage.record_article(
            session, dataclasses.replace(record, published_on=date(2020, 3, 2)), LATER
        )
    downgrade(engine, "0007")
    storage.upgrade_archive(engine)
    changed = raw_rows(url_of(engine), BACKFILLED + "")[-1]
    assert (changed["field"], changed["old_value"], changed["new_value"]) == (
        "published_on",
        "2020-03-01",
        "2020-03-02",
    )


def test_every_column_of_the_new_views_and_tables_is_documented(engine: Engine) -> None:
    schema = (Path(__file__).parents[1] / "docs" / "schema.md").read_text(encoding="utf-8")
    with engine.connect() as connection:
        for name in (
            "documents",
            "field_changes",
            "document_citations",
            "document_interpretations",
            "document_version",
            "document_reference",
            "article_change",
        ):
            section = schema.split(f"## `{name}` (")[1].split("\n## ")[0]
            if name == "document_version":  # documented as the columns of `documents`
                section += schema.split("## `documents` (")[1].split("\n## ")[0]
            columns = connection.execute(text(f"SELECT * FROM {name} LIMIT 0")).keys()
            missing = [c for c in columns if f"`{c}`" not in section]
            assert not missing, f"{name}: {missing} not in docs/schema.md"


def test_english_articles_archived_before_are_unchanged_on_recrawl(engine: Engine) -> None:
    """Their digests did not change: no spurious version in an upgraded archive."""
    sessions = storage.session_factory(engine)
    first = first_generation()
    with sessions.begin() as session:
        for record in first:
            storage.record_article(session, record, SEEN)
    downgrade(engine, "0007")
    storage.upgrade_archive(engine)
    url = url_of(engine)
    before = raw_rows(url, BACKFILLED)
    with sessions.begin() as session:
        outcomes = [storage.record_article(session, r, LATER).outcome for r in first]
    assert outcomes == [storage.Outcome.UNCHANGED] * 3
    assert raw_rows(url, BACKFILLED) == before
    assert raw_rows(url, "SELECT MAX(version_count) AS n FROM articles") == [{"n": 1}]
