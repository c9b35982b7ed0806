"""Reading the archive (`storage.read`), crawl runs (`storage.runs`) and the incremental crawl's
input (`storage.frontier`), on SQLite and on PostgreSQL: the same archive reads the same."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage import read, runs
from storage.frontier import known_urls
from tests.test_storage_history import (
    CORRECTED_BODY,
    LATER,
    LATEST,
    SEEN,
    TITLE,
    WETLANDS_DAY,
    capture,
    other_article,
    page_html,
    record,
    wetlands,
)

ALIAS_URL = "https://www.sc.gov.cn/10462/newsdlb/2024/4/17/5c9e1a7b3d2f4e6a8b0c1d2e3f4a5b6c.shtml"


def small_archive(sessions: sessionmaker[Session]) -> tuple[int, int]:
    """Two articles: the wetlands one in two versions, with an alias and three captures (one a
    revisit); another one. Their ids."""
    first = capture(sessions, page_html(wetlands().body), SEEN)
    wetlands_id = record(sessions, wetlands(), SEEN, first.id).article_id
    capture(sessions, page_html(wetlands().body), LATER, article_id=wetlands_id)
    second = capture(sessions, page_html(CORRECTED_BODY), LATEST, article_id=wetlands_id)
    record(sessions, wetlands(body=CORRECTED_BODY), LATEST, second.id)
    alias = wetlands(
        url=ALIAS_URL, canonical_id="5c9e1a7b3d2f4e6a8b0c1d2e3f4a5b6c", body=CORRECTED_BODY
    )
    record(sessions, alias, LATEST)
    other_id = record(sessions, other_article(), SEEN).article_id
    assert wetlands_id is not None and other_id is not None
    return wetlands_id, other_id


def test_an_article_is_found_by_id_url_and_alias(sessions: sessionmaker[Session]) -> None:
    wetlands_id, _ = small_archive(sessions)
    with sessions() as session:
        found = [
            read.find_article(session, key) for key in (wetlands_id, wetlands().url, ALIAS_URL)
        ]
        assert {article.id for article in found if article} == {wetlands_id}
        assert read.find_article(session, "https://www.sc.gov.cn/nothing.shtml") is None
        article = found[0]
        assert article is not None
        detail = read.article_detail(session, article)
        diff = read.version_diff(session, wetlands_id)
        versions = read.article_versions(session, wetlands_id)
    assert (detail.title, detail.body, detail.version_count) == (TITLE, CORRECTED_BODY, 2)
    assert (detail.published_on, detail.first_seen_at, detail.last_seen_at) == (
        WETLANDS_DAY,
        SEEN,
        LATEST,
    )
    assert [alias.url for alias in detail.aliases] == [ALIAS_URL]
    assert [v.version_no for v in versions] == [1, 2]
    assert diff is not None and any(line.startswith("+") for line in diff.lines)


def test_article_rows_are_the_same_on_every_database(sessions: sessionmaker[Session]) -> None:
    wetlands_id, other_id = small_archive(sessions)
    with sessions() as session:
        rows = list(read.article_rows(session))
        recent = list(read.article_rows(session, since=date(2024, 1, 1)))
        columns = read.article_columns(session)
    assert [row["id"] for row in rows] == [wetlands_id, other_id]
    assert [row["id"] for row in recent] == [wetlands_id]
    assert list(rows[0]) == columns
    assert {key: rows[0][key] for key in ("published_on", "year", "version_count")} == {
        "published_on": "2024-04-15",
        "year": 2024,
        "version_count": 2,
    }
    # exported times carry their zone, as the --json outputs show them
    assert (rows[0]["first_seen_at"], rows[0]["last_seen_at"]) == (
        SEEN.isoformat(),
        LATEST.isoformat(),
    )
    assert (rows[0]["alias_count"], rows[0]["withdrawn_at"]) == (1, None)
    assert rows[0]["captions"] == wetlands().captions
    assert rows[0]["attachments"] == wetlands().attachments


def test_archive_stats(engine: Engine, sessions: sessionmaker[Session]) -> None:
    small_archive(sessions)
    with sessions() as session:
        stats = read.archive_stats(session)
    assert (stats.articles, stats.versions, stats.aliases, stats.captures) == (2, 3, 1, 3)
    assert (stats.stored_bodies, stats.revisits, stats.articles_with_versions) == (2, 1, 1)
    assert 0 < stats.stored_bytes < stats.raw_bytes
    assert stats.per_year == [(2022, 1), (2024, 1)]
    assert (stats.first_fetch, stats.last_fetch) == (SEEN, LATEST)
    assert stats.schema_revision is not None
    linked = {f["url"] for r in (wetlands(), other_article()) for f in r.images + r.attachments}
    assert (stats.files, stats.stored_files, stats.file_raw_bytes) == (len(linked), 0, 0)
    assert (stats.file_bytes is None) == (engine.dialect.name != "sqlite")


def test_known_urls_cover_articles_aliases_and_captures(sessions: sessionmaker[Session]) -> None:
    small_archive(sessions)
    with sessions() as session:
        known = known_urls(session)
    assert set(known) == {wetlands().url, ALIAS_URL, other_article().url}
    assert known[wetlands().url].last_seen_at == LATEST
    assert known[wetlands().url].published_on == WETLANDS_DAY


def test_crawl_runs_are_recorded_and_recovered(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        first = runs.start_run(
            session, "sc_open_governance", SEEN, pid=11, host="h", full=False, recovery=False
        ).id
    with sessions.begin() as session:
        report = runs.RunReport(
            outcome=runs.FINISHED,
            exit_status=0,
            requests=5,
            responses_by_status={"200": 5},
            problems=["none really"],
        )
        runs.finish_run(session, first, LATER, report)
        second = runs.start_run(
            session, "sc_open_governance", LATEST, pid=12, host="h", full=True, recovery=False
        ).id
    with sessions.begin() as session:
        assert runs.needs_recovery(
            session, "sc_open_governance", pid=13, host="h"
        )  # run 12 never finished
        assert runs.close_dead_runs(session, "h", lambda pid: pid != 12, LATEST) == [second]
    with sessions() as session:
        latest = runs.recent_runs(session)
    assert [run.id for run in latest] == [second, first]
    assert (latest[0].outcome, latest[0].full, latest[0].finished_at) == (
        runs.CRASHED,
        True,
        LATEST,
    )
    assert (latest[1].outcome, latest[1].requests, latest[1].responses_by_status) == (
        runs.FINISHED,
        5,
        {"200": 5},
    )
    assert latest[1].problems == ["none really"]
