"""The write path of a re-extraction (`ArticleRecord.origin` REEXTRACT) and revision 0012, on
SQLite and PostgreSQL: a changed result is a new version made by re-extraction, with its
changes so marked, the search index and near-duplicate bands following it and the article's
sightings untouched; an unchanged result writes nothing; a page read as another URL is not
written. Revision 0012 says `crawl` of everything before it and downgrades keeping every row.
And `govcrawler reextract` itself on each backend, over pages archived with an older extraction;
it exits 75 while a crawl holds the archive."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import Engine

import storage
from govcrawler import settings
from govcrawler.cli import main
from govcrawler.cli.lock import ArchiveLock, lock_path
from govcrawler.reextraction.extraction import CapturedPage, extract_page
from storage.db import _alembic_config
from tests.conftest import (
    GOVCRAWLER,
    ROOT,
    FixturePage,
    fixture_pages,
    index_search,
    new_database,
    numbered_article,
    raw_rows,
    url_of,
)
from tests.test_neardup import english_pairs, site_bodies

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


def again(
    engine: Engine, record: storage.ArticleRecord, capture_id: int | None = 1
) -> storage.Result:
    with storage.session_factory(engine).begin() as session:
        return storage.record_article(session, record, REEXTRACTED, capture_id)


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


# --- the command, on both backends: an archive written by the write path with an older
# extraction of three saved pages (captions and 来源 dropped), their captures kept ------------


def older_archive(engine: Engine) -> dict[str, str]:
    """Three pages archived as an older extraction read them; what the current one fixes."""
    wanted = {"article_with_captions": None, "article": None, "document_with_source": None}
    for page in fixture_pages(None):
        record = extract_page(captured(page)).record
        assert record is not None
        if page.page_type == "article":
            kind = "article_with_captions" if record.captions else "article"
        else:
            kind = "document_with_source" if record.document.source else "document"  # type: ignore[union-attr]
        if wanted.get(kind, "") is None:
            wanted[kind] = page.url
            write_older(engine, page, record)
    return {kind: url for kind, url in wanted.items() if url}


def captured(page: FixturePage, article_id: int = 0) -> CapturedPage:
    return CapturedPage(article_id, page.page_type, page.url, page.path.read_bytes(), None, 0)


def write_older(engine: Engine, page: FixturePage, record: storage.ArticleRecord) -> None:
    older = dataclasses.replace(record, origin=storage.CRAWL, captions=[])
    if record.document is not None:
        older = dataclasses.replace(
            older, document=dataclasses.replace(record.document, source=None)
        )
    with storage.session_factory(engine).begin() as session:
        capture = storage.CaptureRecord(page.url, page.url, 200, CRAWLED, page.path.read_bytes())
        capture_id = storage.record_capture(session, capture).id
        storage.record_article(session, older, CRAWLED, capture_id)


def reextract(engine: Engine, *args: str) -> Any:
    result = CliRunner().invoke(main, ["reextract", "--json", *args, "--database", url_of(engine)])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_reextract_on_each_backend_fixes_the_older_pages_once(engine: Engine) -> None:
    pages = older_archive(engine)
    url = url_of(engine)
    dry = reextract(engine, "--dry-run")
    assert {c["url"]: c["fields"] for c in dry["changes"]} == {
        pages["article_with_captions"]: ["captions"],
        pages["document_with_source"]: ["source"],
    }
    assert raw_rows(url, "SELECT count(*) AS n FROM article_version") == [{"n": 3}]
    assert reextract(engine)["changed"] == 2
    made = raw_rows(url, "SELECT url, origin FROM article_versions WHERE is_current = 1")
    assert sorted(r["origin"] for r in made) == ["crawl", "reextract", "reextract"]
    source = raw_rows(url, "SELECT source FROM documents")
    assert source[0]["source"]
    assert reextract(engine)["changed"] == 0
    assert raw_rows(url, "SELECT count(*) AS n FROM article_version") == [{"n": 5}]
    assert reextract(engine, "--spider", "sc_zwgk", "--dry-run")["pages"] == 1


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_reextract_waits_for_no_crawl_it_exits_75(engine: Engine) -> None:
    with ArchiveLock(lock_path(url_of(engine), lock_dir=settings.GOVCRAWLER_LOCK_DIR)):
        result = CliRunner().invoke(main, ["reextract", "--database", url_of(engine)])
    assert result.exit_code == 75
    assert "another crawl is running on this archive" in result.output


def test_near_duplicate_links_follow_the_corrected_body(engine: Engine) -> None:
    pair = english_pairs()[0]
    bodies = site_bodies()
    original, copy = bodies[pair["original"]], "\n".join(pair["body"])
    other = next(b for p, b in bodies.items() if b not in (original, copy) and len(b) > 400)
    a = numbered_article(1, "Original", original, None, "n")
    b = numbered_article(2, "Copy", copy, None, "n")
    with storage.session_factory(engine).begin() as session:
        storage.record_article(session, a, CRAWLED)
        assert storage.record_article(session, b, CRAWLED).near_duplicate_of == 1
    url = url_of(engine)
    links = "SELECT article_id, original_id FROM near_duplicate"
    assert raw_rows(url, links) == [{"article_id": 2, "original_id": 1}]
    unlike = dataclasses.replace(b, body=other, origin=storage.REEXTRACT)
    assert again(engine, unlike, None).outcome == storage.Outcome.NEW_VERSION
    assert raw_rows(url, links) == []  # no longer a copy of it
    back = dataclasses.replace(b, origin=storage.REEXTRACT)
    assert again(engine, back, None).outcome == storage.Outcome.NEW_VERSION
    assert raw_rows(url, links) == [{"article_id": 2, "original_id": 1}]  # found again


# What a reader sees of the archive, by natural keys (PostgreSQL's sequences are not rolled
# back with a killed transaction: a rerun's row ids may differ, never its rows).
READER_STATE = {
    "versions": "SELECT article_id, version_no, title, body, captions, content_digest, capture_id,"
    " first_seen_at, last_seen_at, is_current, origin, extractor_revision FROM article_versions"
    " ORDER BY article_id, version_no",
    "changes": "SELECT article_id, change, field, old_value, new_value, origin FROM field_changes"
    " ORDER BY article_id, change, field",
    "documents": "SELECT * FROM documents ORDER BY id",
    "articles": "SELECT * FROM articles ORDER BY id",
}


def reader_state(url: str) -> dict[str, list[dict[str, Any]]]:
    return {name: raw_rows(url, sql) for name, sql in READER_STATE.items()}


@pytest.mark.slow
def test_killed_between_batches_and_rerun_on_each_backend_is_one_run(
    engine: Engine, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    older_archive(engine)
    killed = url_of(engine)
    with new_database(backend, tmp_path, request) as one_run:
        one_engine = storage.open_archive(one_run)
        try:
            older_archive(one_engine)
        finally:
            one_engine.dispose()
        assert reader_state(one_run) == reader_state(killed)  # the same older archive
        command = [*GOVCRAWLER, "reextract", "--batch", "1", "--database"]
        died = subprocess.run(
            [*command, killed],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
            env={**os.environ, "GOVCRAWLER_KILL_AT": "commit:2"},
        )
        assert died.returncode == -9, died.stderr[-2000:]
        assert len(raw_rows(killed, "SELECT 1 FROM article_version")) == 4  # batch 1's fix
        for url in (killed, one_run):
            done = subprocess.run([*command, url], capture_output=True, text=True, cwd=ROOT)
            assert done.returncode == 0, done.stderr[-2000:]
        assert reader_state(killed) == reader_state(one_run)
