"""The archive (`storage`): schema and upgrades, record_article's outcomes, columns, UTC, errors.

Every test works on a fresh archive opened the way the crawler opens it (`storage.open_archive`),
once in SQLite and once in PostgreSQL (tests/conftest.py), and reads it back either through the
models or, as a researcher would, with the standard library's sqlite3 or psycopg. An article's
content is its current `article_version`; versions, withdrawals, captures, near-duplicates and
search are in test_storage_history.py.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from importlib.metadata import packages_distributions
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, select, text
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session, sessionmaker

import storage
from storage import (
    Article,
    ArticleAlias,
    ArticleRecord,
    ArticleVersion,
    Outcome,
    SiteColumn,
    record_article,
    record_column,
)
from storage.neardup import BANDS, fingerprint
from tests.conftest import index_search, new_database, raw_rows, sqlite_url, url_of

PROJECT = Path(__file__).resolve().parents[1]
SITE = "https://www.sc.gov.cn"
NEWS_COLUMN = "/10462/10758/10760/10765"

ORIGINAL_ID = "1801a292946f4bddb355c7c6657eb126"
REPUBLISHED_ID = "9c3e5b1d0a8f4e27b6d4c2a1f0e9d8c7"
OTHER_ID = "4f2a7c9e1b3d4a5f8e6c0b2d9a7f1e3c"

TITLE = "Wang Xiaohui Inspects Zigong, Neijiang"
BODY = (
    "On September 24, Wang Xiaohui, Secretary of the CPC Sichuan Provincial Committee, visited "
    "Zigong City and Neijiang City for an inspection tour.\n\n"
    "The whole province is sprinting towards the set annual goals. During the inspection tour, "
    "Wang carefully heard the reports of Zigong City and Neijiang City on the implementation of "
    "the spirit of the provincial Party committee's work conference."
)
CAPTION = (
    "Wang Xiaohui, Secretary of the CPC Sichuan Provincial Committee, inspects work at Sichuan "
    "Dongfang Boiler Group in Zigong City on September 24."
)
OTHER_TITLE = "Huang Qiang Presides over Executive Meeting of Provincial Government"
OTHER_BODY = (
    "On September 26, Huang Qiang, Governor of Sichuan Province, presided over an executive "
    "meeting of the provincial government to study the work of stabilising the economy in the "
    "fourth quarter."
)

SEEN = datetime(2026, 11, 28, 2, 30, tzinfo=UTC)
LATER = SEEN + timedelta(days=1)


def article_url(article_id: str, day: date, column_path: str = NEWS_COLUMN) -> str:
    """An English article URL of the site: month and day not zero-padded."""
    return f"{SITE}{column_path}/{day.year}/{day.month}/{day.day}/{article_id}.shtml"


def make_record(
    article_id: str = ORIGINAL_ID,
    *,
    title: str = TITLE,
    body: str = BODY,
    published_on: date = date(2022, 9, 26),
    url: str | None = None,
    **fields: Any,
) -> ArticleRecord:
    """An ArticleRecord as the crawler builds it for an English page of the news column."""
    values: dict[str, Any] = {
        "column_id": "10765",
        "page_column_name": "Open Governance",
        "language": "en",
        "template": "contText",
        "extraction_path": "container",
        "captions": [CAPTION],
        "images": [{"src": f"{SITE}/10462/c102/2022/9/26/boiler.jpg", "alt": CAPTION}],
        "attachments": [],
    }
    values.update(fields)
    return ArticleRecord(
        url=url or article_url(article_id, published_on),
        canonical_id=article_id,
        title=title,
        body=body,
        body_digest=hashlib.sha256(body.encode("utf-8")).hexdigest(),
        published_on=published_on,
        **values,
    )


def republication(**fields: Any) -> ArticleRecord:
    """The seed article republished two days later under another id and URL."""
    return make_record(REPUBLISHED_ID, published_on=date(2022, 9, 28), **fields)


def record(
    sessions: sessionmaker[Session], article: ArticleRecord, seen_at: datetime = SEEN
) -> Outcome:
    """Archive one page in its own transaction, as one crawl visit; what it was."""
    with sessions.begin() as session:
        return record_article(session, article, seen_at).outcome


def all_articles(sessions: sessionmaker[Session]) -> list[Article]:
    with sessions() as session:
        return list(session.scalars(select(Article).order_by(Article.id)))


def current_versions(sessions: sessionmaker[Session]) -> list[ArticleVersion]:
    """The current version of every article (its content), in article order."""
    with sessions() as session:
        return list(
            session.scalars(
                select(ArticleVersion)
                .join(Article, Article.current_version_id == ArticleVersion.id)
                .order_by(Article.id)
            )
        )


def all_aliases(sessions: sessionmaker[Session]) -> list[ArticleAlias]:
    with sessions() as session:
        return list(session.scalars(select(ArticleAlias).order_by(ArticleAlias.url)))


# 1. Schema -------------------------------------------------------------------------------------


def test_open_archive_creates_the_schema_at_the_head_revision(engine: Engine) -> None:
    assert storage.head_revision() is not None
    assert storage.schema_revision(engine) == storage.head_revision()


# The whole schema as the database describes it: tables, views, indexes and their SQL.
SCHEMA_SQL = {
    "sqlite": "SELECT type, name, sql FROM sqlite_master ORDER BY name",
    "postgresql": "SELECT 'table' AS type, table_name AS name, column_name || ' ' || data_type "
    "AS sql FROM information_schema.columns WHERE table_schema = 'public' UNION ALL "
    "SELECT 'view', viewname, definition FROM pg_views WHERE schemaname = 'public' UNION ALL "
    "SELECT 'index', indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
    "ORDER BY 1, 2, 3",
}


def test_reopening_an_archive_at_head_changes_nothing(
    archive_url: str, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    record(sessions, make_record())
    engine.dispose()
    schema_sql = SCHEMA_SQL[engine.dialect.name]
    schema_before = raw_rows(archive_url, schema_sql)

    reopened = storage.open_archive(archive_url)
    try:
        assert storage.schema_revision(reopened) == storage.head_revision()
        with storage.session_factory(reopened)() as session:
            assert storage.count_articles(session) == 1
    finally:
        reopened.dispose()
    assert raw_rows(archive_url, schema_sql) == schema_before


def test_an_archive_at_head_opens_without_upgrade(archive_url: str) -> None:
    storage.open_archive(archive_url, upgrade=False).dispose()


def test_the_models_match_the_migrations(engine: Engine) -> None:
    """What `alembic check` checks: autogenerate finds nothing to add to the migrations (the
    search index, made by hand, aside)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "include_object": lambda _o, name, type_, _r, _c: (
                    not (
                        type_ == "table" and (name or "").startswith(("articles_fts", "files_fts"))
                    )
                )
            },
        )
        assert compare_metadata(context, storage.Base.metadata) == []


def test_articles_view_has_the_researcher_columns(engine: Engine) -> None:
    columns = {column["name"] for column in inspect(engine).get_columns("articles")}
    expected = {
        "id",
        "url",
        "title",
        "published_on",
        "column_name",
        "body",
        "first_seen_at",
        "last_seen_at",
    }
    assert expected <= columns


def test_articles_view_shows_a_recorded_article(
    archive_url: str, sessions: sessionmaker[Session]
) -> None:
    article = make_record()
    record(sessions, article)

    (row,) = raw_rows(archive_url, "SELECT * FROM articles")
    assert row["url"] == article.url
    assert row["title"] == TITLE
    assert row["body"] == BODY
    assert row["published_on"] == "2022-09-26"


# 2. record_article -----------------------------------------------------------------------------


def test_a_new_page_is_new_and_stored(sessions: sessionmaker[Session]) -> None:
    article = make_record()

    assert record(sessions, article) is Outcome.NEW

    (stored,) = all_articles(sessions)
    (content,) = current_versions(sessions)
    assert (stored.url, stored.canonical_id) == (article.url, ORIGINAL_ID)
    assert (content.article_id, content.version_no) == (stored.id, 1)
    assert (content.title, content.body) == (TITLE, BODY)
    assert stored.body_digest == hashlib.sha256(BODY.encode("utf-8")).hexdigest()
    assert content.published_on == date(2022, 9, 26)
    assert content.captions == [CAPTION]
    assert content.images == article.images
    assert (stored.first_seen_at, stored.last_seen_at) == (SEEN, SEEN)
    assert (content.first_seen_at, content.last_seen_at) == (SEEN, SEEN)


def test_the_same_page_again_is_unchanged_and_only_last_seen_at_moves(
    sessions: sessionmaker[Session],
) -> None:
    record(sessions, make_record(), SEEN)

    assert record(sessions, make_record(), LATER) is Outcome.UNCHANGED

    (stored,) = all_articles(sessions)
    (content,) = current_versions(sessions)
    assert stored.first_seen_at == SEEN
    assert stored.last_seen_at == LATER
    assert (content.version_no, content.title, content.body) == (1, TITLE, BODY)


def test_new_title_and_body_at_the_same_url_is_a_new_version(
    sessions: sessionmaker[Session],
) -> None:
    record(sessions, make_record(), SEEN)
    edited_title = "Wang Xiaohui Inspects Zigong and Neijiang"
    edited_body = BODY + "\n\nHe urged the two cities to speed up industrial upgrading."

    outcome = record(sessions, make_record(title=edited_title, body=edited_body), LATER)

    assert outcome is Outcome.NEW_VERSION
    (stored,) = all_articles(sessions)
    (content,) = current_versions(sessions)
    assert (content.version_no, content.title, content.body) == (2, edited_title, edited_body)
    assert stored.body_digest == hashlib.sha256(edited_body.encode("utf-8")).hexdigest()
    assert (stored.first_seen_at, stored.last_seen_at) == (SEEN, LATER)


def test_the_same_body_under_another_url_becomes_an_alias(
    sessions: sessionmaker[Session],
) -> None:
    original, copy = make_record(), republication()
    record(sessions, original)

    assert record(sessions, copy, LATER) is Outcome.NEW_ALIAS

    (stored,) = all_articles(sessions)
    assert (stored.url, stored.canonical_id) == (original.url, ORIGINAL_ID)
    (alias,) = all_aliases(sessions)
    assert (alias.url, alias.canonical_id) == (copy.url, REPUBLISHED_ID)
    assert alias.article_id == stored.id
    assert alias.published_on == date(2022, 9, 28)
    assert alias.first_seen_at == LATER


def test_visiting_an_alias_again_is_alias_seen(sessions: sessionmaker[Session]) -> None:
    record(sessions, make_record())
    record(sessions, republication(), SEEN)
    again = LATER + timedelta(hours=3)

    assert record(sessions, republication(), again) is Outcome.ALIAS_SEEN

    assert len(all_articles(sessions)) == 1
    (alias,) = all_aliases(sessions)
    assert (alias.first_seen_at, alias.last_seen_at) == (SEEN, again)


def test_two_writers_archiving_one_article_under_two_urls_at_once_make_an_alias(
    sessions: sessionmaker[Session],
) -> None:
    """Two crawl workers archive the same article, fetched under two URLs, in overlapping
    transactions: the second waits for the first's commit, then finds the article by its body."""
    first = sessions()
    first.begin()
    assert record_article(first, make_record(), SEEN).outcome is Outcome.NEW
    second: concurrent.futures.Future[Outcome]
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        second = pool.submit(record, sessions, republication(), SEEN)
        time.sleep(0.5)  # the second writer has started and is waiting for the first
        assert not second.done()
        first.commit()
        first.close()
        assert second.result(timeout=30) is Outcome.NEW_ALIAS

    (stored,) = all_articles(sessions)
    (alias,) = all_aliases(sessions)
    assert (stored.canonical_id, alias.canonical_id) == (ORIGINAL_ID, REPUBLISHED_ID)
    assert alias.article_id == stored.id


def test_the_same_canonical_id_under_another_url_becomes_an_alias(
    sessions: sessionmaker[Session],
) -> None:
    original = make_record()
    moved = make_record(
        url=article_url(ORIGINAL_ID, date(2022, 9, 26), "/10462/10758/10760/10766"),
        body=BODY + "\n\n(Edited when the page moved.)",
    )
    record(sessions, original)

    assert record(sessions, moved, LATER) is Outcome.NEW_ALIAS

    (stored,) = all_articles(sessions)
    assert stored.url == original.url
    (alias,) = all_aliases(sessions)
    assert (alias.url, alias.canonical_id, alias.article_id) == (moved.url, ORIGINAL_ID, stored.id)


def test_an_earlier_original_found_after_its_republication_takes_the_primary_url(
    sessions: sessionmaker[Session],
) -> None:
    copy, original = republication(), make_record()
    record(sessions, copy, SEEN)

    assert record(sessions, original, LATER) is Outcome.NEW_ALIAS

    (stored,) = all_articles(sessions)
    (content,) = current_versions(sessions)
    assert (stored.url, stored.canonical_id) == (original.url, ORIGINAL_ID)
    assert content.published_on == date(2022, 9, 26)
    (alias,) = all_aliases(sessions)
    assert (alias.url, alias.canonical_id, alias.article_id) == (
        copy.url,
        REPUBLISHED_ID,
        stored.id,
    )
    assert alias.published_on == date(2022, 9, 28)
    assert alias.first_seen_at == SEEN


def test_after_the_swap_both_urls_are_recognised(sessions: sessionmaker[Session]) -> None:
    record(sessions, republication(), SEEN)
    record(sessions, make_record(), SEEN)

    assert record(sessions, republication(), LATER) is Outcome.ALIAS_SEEN
    assert record(sessions, make_record(), LATER) is Outcome.UNCHANGED
    assert (len(all_articles(sessions)), len(all_aliases(sessions))) == (1, 1)


def test_two_different_articles_stay_two_rows(sessions: sessionmaker[Session]) -> None:
    first = make_record()
    second = make_record(OTHER_ID, title=OTHER_TITLE, body=OTHER_BODY, captions=[], images=[])

    assert record(sessions, first) is Outcome.NEW
    assert record(sessions, second) is Outcome.NEW

    assert [a.url for a in all_articles(sessions)] == [first.url, second.url]
    assert all_aliases(sessions) == []


# 3. Several records in one transaction ---------------------------------------------------------


def test_records_in_one_transaction_see_each_other(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        first = record_article(session, make_record(), SEEN)
        second = record_article(session, republication(), SEEN)

    assert (first.outcome, second.outcome) == (Outcome.NEW, Outcome.NEW_ALIAS)
    assert first.article_id is not None
    assert second.article_id == first.article_id
    assert len(all_articles(sessions)) == 1
    assert [alias.url for alias in all_aliases(sessions)] == [republication().url]


def test_an_alias_seen_twice_in_one_transaction_is_alias_seen(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        record_article(session, make_record(), SEEN)
        record_article(session, republication(), SEEN)
        again = record_article(session, republication(), LATER)

    assert again.outcome is Outcome.ALIAS_SEEN
    assert len(all_aliases(sessions)) == 1


def test_an_earlier_original_in_the_same_transaction_swaps(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        record_article(session, republication(), SEEN)
        outcome = record_article(session, make_record(), SEEN).outcome

    assert outcome is Outcome.NEW_ALIAS
    (stored,) = all_articles(sessions)
    assert stored.url == make_record().url
    assert [alias.url for alias in all_aliases(sessions)] == [republication().url]


# 4. Columns ------------------------------------------------------------------------------------

NEWS_LIST = f"{SITE}{NEWS_COLUMN}/index.shtml"


def test_record_column_stores_a_new_column(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        record_column(session, "10765", "News", NEWS_LIST, SEEN)

    with sessions() as session:
        column = session.get(SiteColumn, "10765")
    assert column is not None
    assert (column.name, column.list_url) == ("News", NEWS_LIST)
    assert (column.first_seen_at, column.last_seen_at) == (SEEN, SEEN)


def test_a_renamed_column_takes_its_new_name(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        record_column(session, "10765", "News", NEWS_LIST, SEEN)
    with sessions.begin() as session:
        record_column(session, "10765", "Sichuan News", NEWS_LIST, LATER)

    with sessions() as session:
        columns = list(session.scalars(select(SiteColumn)))
    assert [(c.column_id, c.name) for c in columns] == [("10765", "Sichuan News")]
    assert (columns[0].first_seen_at, columns[0].last_seen_at) == (SEEN, LATER)


def test_articles_view_names_the_column_from_the_navigation_when_known(
    archive_url: str, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        record_article(session, make_record(page_column_name="Open Governance"), SEEN)
        record_column(session, "10765", "Sichuan News", NEWS_LIST, SEEN)

    rows = raw_rows(archive_url, "SELECT column_name FROM articles")
    assert rows == [{"column_name": "Sichuan News"}]


def test_articles_view_falls_back_to_the_page_column_name(
    archive_url: str, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        record_article(session, make_record(page_column_name="Open Governance"), SEEN)
        record_column(session, "10766", "Report on the Work of the Government", NEWS_LIST, SEEN)

    rows = raw_rows(archive_url, "SELECT column_name FROM articles")
    assert rows == [{"column_name": "Open Governance"}]


# 5. UTC ----------------------------------------------------------------------------------------


def test_datetimes_come_back_aware_in_utc(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        record_article(session, make_record(), SEEN)
        record_article(session, republication(), SEEN)
        record_column(session, "10765", "News", NEWS_LIST, SEEN)

    with sessions() as session:  # a fresh session: values are read from the file
        article = session.scalars(select(Article)).one()
        alias = session.scalars(select(ArticleAlias)).one()
        column = session.scalars(select(SiteColumn)).one()
    read = [article.first_seen_at, article.last_seen_at, alias.first_seen_at, column.last_seen_at]
    assert all(value.utcoffset() == timedelta(0) for value in read)
    assert all(value == SEEN for value in read)


def test_a_naive_datetime_is_refused(sessions: sessionmaker[Session]) -> None:
    naive = datetime(2026, 11, 28, 2, 30)

    with pytest.raises((ValueError, StatementError), match="aware"):  # noqa: SIM117
        with sessions.begin() as session:
            record_article(session, make_record(), naive)

    assert all_articles(sessions) == []


def test_a_datetime_in_another_zone_is_stored_as_the_same_instant_in_utc(
    archive_url: str, sessions: sessionmaker[Session]
) -> None:
    chengdu = datetime(2026, 11, 28, 10, 30, tzinfo=timezone(timedelta(hours=8)))

    record(sessions, make_record(), chengdu)

    (raw,) = raw_rows(archive_url, "SELECT first_seen_at FROM article")
    assert raw["first_seen_at"].startswith("2026-11-28 02:30:00")
    (stored,) = all_articles(sessions)
    assert stored.first_seen_at == chengdu
    assert stored.first_seen_at.utcoffset() == timedelta(0)


# 6. Schema upgrades ----------------------------------------------------------------------------

OLD_IMAGES = [{"url": f"{SITE}/10462/c102/2022/9/26/boiler.jpg", "caption": CAPTION}]
OLD_ATTACHMENTS = [
    {"url": f"{SITE}/10462/c102/2022/9/26/inspection-schedule.pdf", "text": "Inspection schedule"}
]
# The article rows of an archive written at schema 0001 (ids not consecutive: the upgrade
# must keep them, not renumber them), and a word each one's body alone contains.
ROWS_0001: list[dict[str, Any]] = [
    {
        "id": 1,
        "cid": ORIGINAL_ID,
        "url": article_url(ORIGINAL_ID, date(2022, 9, 26)),
        "title": TITLE,
        "published_on": date(2022, 9, 26),
        "body": BODY,
        "captions": [CAPTION],
        "images": OLD_IMAGES,
        "attachments": OLD_ATTACHMENTS,
        "first_seen_at": datetime(2022, 9, 26, 8, tzinfo=UTC),
        "last_seen_at": datetime(2022, 10, 1, 8, tzinfo=UTC),
        "word": "Neijiang",
    },
    {
        "id": 7,
        "cid": OTHER_ID,
        "url": article_url(OTHER_ID, date(2022, 9, 27)),
        "title": OTHER_TITLE,
        "published_on": date(2022, 9, 27),
        "body": OTHER_BODY,
        "captions": [],
        "images": [],
        "attachments": [],
        "first_seen_at": datetime(2022, 9, 27, 9, 15, tzinfo=UTC),
        "last_seen_at": datetime(2022, 10, 1, 8, tzinfo=UTC),
        "word": "quarter",
    },
]
OLD_ALIAS_URL = article_url(REPUBLISHED_ID, date(2022, 9, 28))


def naive_utc(value: datetime) -> str:
    """A datetime as the archive stores it: naive UTC text."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def insert_rows_at_0001(engine: Engine) -> None:
    """Rows written with plain SQL in the 0001 schema, as an archive of that era holds them:
    the content columns on `article`, one alias, one column name."""
    article_sql = text(
        "INSERT INTO article (id, canonical_id, url, title, published_on, column_id, "
        "page_column_name, body, captions, images, attachments, language, template, "
        "extraction_path, body_digest, first_seen_at, last_seen_at) VALUES (:id, :cid, :url, "
        ":title, :published_on, '10765', 'Open Governance', :body, :captions, :images, "
        ":attachments, 'en', 'contText', 'container', :digest, :first_seen_at, :last_seen_at)"
    )
    with engine.begin() as connection:
        connection.execute(
            article_sql,
            [
                {
                    "id": row["id"],
                    "cid": row["cid"],
                    "url": row["url"],
                    "title": row["title"],
                    "published_on": row["published_on"].isoformat(),
                    "body": row["body"],
                    "captions": json.dumps(row["captions"], ensure_ascii=False),
                    "images": json.dumps(row["images"], ensure_ascii=False),
                    "attachments": json.dumps(row["attachments"], ensure_ascii=False),
                    "digest": hashlib.sha256(row["body"].encode("utf-8")).hexdigest(),
                    "first_seen_at": naive_utc(row["first_seen_at"]),
                    "last_seen_at": naive_utc(row["last_seen_at"]),
                }
                for row in ROWS_0001
            ],
        )
        connection.execute(
            text(
                "INSERT INTO article_alias (url, article_id, canonical_id, published_on, "
                "first_seen_at, last_seen_at) VALUES (:url, 1, :cid, '2022-09-28', "
                "'2022-09-28 08:00:00.000000', '2022-10-01 08:00:00.000000')"
            ),
            {"url": OLD_ALIAS_URL, "cid": REPUBLISHED_ID},
        )
        connection.execute(
            text(
                "INSERT INTO site_column (column_id, name, list_url, first_seen_at, "
                "last_seen_at) VALUES ('10765', 'News', :list_url, "
                "'2022-09-26 08:00:00.000000', '2022-10-01 08:00:00.000000')"
            ),
            {"list_url": NEWS_LIST},
        )


def record_of_0001_row(row: dict[str, Any]) -> ArticleRecord:
    """The page of an 0001 row as the crawler extracts it today."""
    return make_record(
        row["cid"],
        title=row["title"],
        body=row["body"],
        published_on=row["published_on"],
        captions=row["captions"],
        images=row["images"],
        attachments=row["attachments"],
    )


@pytest.fixture
def archive_from_0001(database_url: str) -> Iterator[Engine]:
    """An archive written at schema 0001, then opened (and so upgraded to head)."""
    old = storage.create_archive_engine(database_url)
    try:
        storage.upgrade_archive(old, "0001")
        assert storage.schema_revision(old) == "0001"
        insert_rows_at_0001(old)
    finally:
        old.dispose()
    engine = storage.open_archive(database_url)
    yield engine
    engine.dispose()


def test_upgrading_an_archive_from_0001_keeps_every_row(archive_from_0001: Engine) -> None:
    engine = archive_from_0001
    archive_url = url_of(engine)
    assert storage.schema_revision(engine) == storage.head_revision()
    with storage.session_factory(engine)() as session:
        articles = list(session.scalars(select(Article).order_by(Article.id)))
        versions = list(session.scalars(select(ArticleVersion).order_by(ArticleVersion.id)))
        aliases = list(session.scalars(select(ArticleAlias)))
        columns = list(session.scalars(select(SiteColumn)))

    # Identity, URLs and times stay on `article`; ids are not renumbered.
    assert [(a.id, a.canonical_id, a.url) for a in articles] == [
        (row["id"], row["cid"], row["url"]) for row in ROWS_0001
    ]
    assert [a.body_digest for a in articles] == [
        hashlib.sha256(row["body"].encode("utf-8")).hexdigest() for row in ROWS_0001
    ]
    assert [(a.first_seen_at, a.last_seen_at) for a in articles] == [
        (row["first_seen_at"], row["last_seen_at"]) for row in ROWS_0001
    ]
    assert [(a.column_id, a.withdrawn_at) for a in articles] == [("10765", None)] * 2
    # The content is each article's version 1, and it is the current one.
    assert [(v.article_id, v.version_no) for v in versions] == [(row["id"], 1) for row in ROWS_0001]
    assert [a.current_version_id for a in articles] == [v.id for v in versions]
    for row, version in zip(ROWS_0001, versions, strict=True):
        assert (version.title, version.body, version.published_on) == (
            row["title"],
            row["body"],
            row["published_on"],
        )
        assert (version.captions, version.images, version.attachments) == (
            row["captions"],
            row["images"],
            row["attachments"],
        )
        assert (version.page_column_name, version.language, version.template) == (
            "Open Governance",
            "en",
            "contText",
        )
        assert version.extraction_path == "container"
        assert (version.first_seen_at, version.last_seen_at) == (
            row["first_seen_at"],
            row["last_seen_at"],
        )
        assert version.content_digest == storage.content_digest(
            row["title"], row["published_on"], row["body"], row["captions"]
        )
        assert version.capture_id is None
    (alias,) = aliases
    assert (alias.url, alias.article_id, alias.canonical_id, alias.published_on) == (
        OLD_ALIAS_URL,
        1,
        REPUBLISHED_ID,
        date(2022, 9, 28),
    )
    assert (alias.first_seen_at, alias.last_seen_at) == (
        datetime(2022, 9, 28, 8, tzinfo=UTC),
        datetime(2022, 10, 1, 8, tzinfo=UTC),
    )
    (column,) = columns
    assert (column.column_id, column.name, column.list_url) == ("10765", "News", NEWS_LIST)

    # What a researcher reads: the views, through the standard library.
    view = raw_rows(
        archive_url,
        "SELECT id, url, title, body, published_on, year, column_name, version_count, "
        "alias_count, withdrawn_at, first_seen_at, last_seen_at FROM articles ORDER BY id",
    )
    assert view == [
        {
            "id": row["id"],
            "url": row["url"],
            "title": row["title"],
            "body": row["body"],
            "published_on": row["published_on"].isoformat(),
            "year": 2022,
            "column_name": "News",
            "version_count": 1,
            "alias_count": 1 if row["id"] == 1 else 0,
            "withdrawn_at": None,
            "first_seen_at": naive_utc(row["first_seen_at"]),
            "last_seen_at": naive_utc(row["last_seen_at"]),
        }
        for row in ROWS_0001
    ]
    history = raw_rows(
        archive_url,
        "SELECT article_id, version_no, title, body, captions, superseded_at, is_current "
        "FROM article_versions ORDER BY article_id",
    )
    assert [{**h, "captions": json.loads(h["captions"])} for h in history] == [
        {
            "article_id": row["id"],
            "version_no": 1,
            "title": row["title"],
            "body": row["body"],
            "captions": row["captions"],
            "superseded_at": None,
            "is_current": 1,
        }
        for row in ROWS_0001
    ]

    # The old articles are in the search and near-duplicate indexes, as new ones would be.
    for row in ROWS_0001:
        assert all(row["word"] not in other["body"] for other in ROWS_0001 if other is not row)
        assert index_search(archive_url, row["word"]) == [row["id"]]
    assert [a.simhash for a in articles] == [fingerprint(row["body"]) for row in ROWS_0001]
    bands = raw_rows(
        archive_url,
        "SELECT article_id, COUNT(*) AS n FROM near_duplicate_band GROUP BY 1 ORDER BY 1",
    )
    assert bands == [{"article_id": row["id"], "n": BANDS} for row in ROWS_0001]

    # The upgrade's digests are the running code's: the same pages again change nothing.
    sessions = storage.session_factory(engine)
    again = LATER + timedelta(days=30)
    for row in ROWS_0001:
        assert record(sessions, record_of_0001_row(row), again) is Outcome.UNCHANGED
    alias_page = make_record(
        REPUBLISHED_ID,
        published_on=date(2022, 9, 28),
        images=OLD_IMAGES,
        attachments=OLD_ATTACHMENTS,
    )
    assert alias_page.url == OLD_ALIAS_URL
    assert record(sessions, alias_page, again) is Outcome.ALIAS_SEEN
    counts = raw_rows(
        archive_url,
        "SELECT (SELECT COUNT(*) FROM article) AS articles, "
        "(SELECT COUNT(*) FROM article_version) AS versions, "
        "(SELECT COUNT(*) FROM article_alias) AS aliases",
    )
    assert counts == [{"articles": 2, "versions": 2, "aliases": 1}]

    if engine.dialect.name == "sqlite":
        assert raw_rows(archive_url, "PRAGMA integrity_check") == [{"integrity_check": "ok"}]
        assert raw_rows(archive_url, "PRAGMA foreign_key_check") == []


def older_revisions() -> list[str | None]:
    """Every schema older than head, from the empty database (None) up."""
    scripts = ScriptDirectory(str(Path(storage.__file__).with_name("migrations")))
    head = storage.head_revision()
    return [None, *(rev.revision for rev in scripts.walk_revisions() if rev.revision != head)]


def test_open_archive_without_upgrade_refuses_an_older_schema(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    for number, revision in enumerate(older_revisions()):
        folder = tmp_path / str(number)
        folder.mkdir()
        with new_database(backend, folder, request, at_head=False) as url:
            if revision is not None:
                old = storage.create_archive_engine(url)
                storage.upgrade_archive(old, revision)
                old.dispose()

            says = "`govcrawler db upgrade`" if revision else "no archive (at|in) .*crawl first"
            for read_only in (False, True):
                with pytest.raises(storage.ArchiveError, match=says):
                    storage.open_archive(url, upgrade=False, read_only=read_only)


# 7. Errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("opener", [storage.create_archive_engine, storage.open_archive])
def test_a_malformed_url_is_a_one_line_archive_error(opener: Any) -> None:
    with pytest.raises(storage.ArchiveError) as raised:
        opener("not a url")

    message = str(raised.value)
    assert "not a url" in message
    assert "\n" not in message


@pytest.mark.parametrize("opener", [storage.create_archive_engine, storage.open_archive])
def test_a_sqlite_file_in_a_missing_directory_is_a_one_line_archive_error(
    opener: Any, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-dir"

    with pytest.raises(storage.ArchiveError) as raised:
        opener(sqlite_url(missing / "a.sqlite3"))

    message = str(raised.value)
    assert str(missing) in message
    assert "\n" not in message
    assert not missing.exists()


def test_an_archive_in_a_directory_with_a_percent_sign_opens(tmp_path: Path) -> None:
    folder = tmp_path / "100%"
    folder.mkdir()

    engine = storage.open_archive(sqlite_url(folder / "a.sqlite3"))
    try:
        assert storage.schema_revision(engine) == storage.head_revision()
    finally:
        engine.dispose()


@pytest.mark.parametrize("upgrade", [True, False])
def test_an_archive_from_a_newer_version_is_an_archive_error(
    archive_url: str, engine: Engine, upgrade: bool
) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffffffffffff'"))
    engine.dispose()

    with pytest.raises(storage.ArchiveError) as raised:
        storage.open_archive(archive_url, upgrade=upgrade)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgresql+psycopg://govcrawler@127.0.0.1:1/archive", "Connection refused"),
        ("postgresql+psycopg2://govcrawler@127.0.0.1/archive", "postgresql+psycopg://"),
        ("nosuchdb://somewhere/archive", "nosuchdb"),
        ("sqlite://archive.sqlite3", "write sqlite:///archive.sqlite3"),
        ("mysql+pymysql://crawler@localhost/archive", "SQLite or PostgreSQL, not mysql"),
        ("sqlite+nosuchdriver:///archive.sqlite3", "nosuchdriver"),
    ],
)
def test_an_unusable_database_url_is_a_one_line_archive_error(url: str, says: str) -> None:
    with pytest.raises(storage.ArchiveError, match=re.escape(says)) as raised:
        storage.open_archive(url)
    assert "\n" not in str(raised.value)
    assert "govcrawler[postgres]" not in str(raised.value)


def test_a_read_only_archive_engine_cannot_write(archive_url: str, engine: Engine) -> None:
    reader = storage.open_archive(archive_url, read_only=True)
    try:
        with reader.connect() as connection:
            assert connection.scalar(select(storage.Article.id).limit(1)) is None
            with pytest.raises(DBAPIError, match=r"read-?only"):
                connection.execute(text("DELETE FROM site_column"))
    finally:
        reader.dispose()


def test_a_database_of_another_program_is_refused_and_kept(database_url: str) -> None:
    other = create_engine(database_url)
    with other.begin() as connection:
        connection.execute(text("CREATE TABLE notes (body TEXT NOT NULL)"))
        connection.execute(text("INSERT INTO notes (body) VALUES ('mine')"))
    other.dispose()

    for read_only in (False, True):
        with pytest.raises(storage.ArchiveError, match="not a govcrawler archive") as raised:
            storage.open_archive(database_url, read_only=read_only)
        assert "(notes)" in str(raised.value) and "\n" not in str(raised.value)
    other = create_engine(database_url)
    try:
        assert inspect(other).get_table_names() == ["notes"]
    finally:
        other.dispose()


def test_a_missing_postgresql_database_is_a_one_line_archive_error(
    postgres_databases: Any,
) -> None:
    url = postgres_databases.url("gc_test_no_such_database")
    with pytest.raises(storage.ArchiveError, match="does not exist") as raised:
        storage.open_archive(url)
    assert "\n" not in str(raised.value)
    assert str(raised.value).startswith("cannot open the archive at postgresql+psycopg://")


# 8-9. The package itself -----------------------------------------------------------------------


def test_storage_is_this_projects_package() -> None:
    assert Path(storage.__file__).resolve().parent == PROJECT / "storage"


def test_the_installed_storage_resolves_to_ours_outside_the_checkout(tmp_path: Path) -> None:
    found = subprocess.run(
        [sys.executable, "-c", "import storage; print(storage.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert Path(found.stdout.strip()).resolve().parent == PROJECT / "storage"


def test_no_other_installed_distribution_provides_storage() -> None:
    assert set(packages_distributions().get("storage", [])) == {"govcrawler"}


def test_importing_storage_loads_neither_scrapy_twisted_nor_govcrawler(tmp_path: Path) -> None:
    code = (
        "import storage, sys; print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('scrapy','twisted','govcrawler')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == "[]"
