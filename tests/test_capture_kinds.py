"""Captures of list pages (revision 0010): `capture.kind`, in the `captures` view; list pages
captured by the crawl, unchanged ones as revisits; an older archive keeps every capture."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from sqlalchemy import Engine

import storage
from storage.db import _alembic_config
from tests.conftest import ReplayCrawl, raw_rows, url_of
from tests.test_storage_history import LATER, SEEN, page_html

LIST_URL = "https://www.sc.gov.cn/10462/10758/10760/10765/index.shtml"


def record(engine: Engine, body: bytes, kind: str, seen=SEEN) -> storage.Capture:
    with storage.session_factory(engine).begin() as session:
        return storage.record_capture(
            session, storage.CaptureRecord(LIST_URL, LIST_URL, 200, seen, body, kind=kind)
        )


def test_a_list_capture_has_its_kind_and_an_unchanged_one_is_a_revisit(engine: Engine) -> None:
    first = record(engine, page_html("第一页"), "list")
    again = record(engine, page_html("第一页"), "list", LATER)
    assert (first.revisit_of, again.revisit_of) == (None, first.id)
    rows = raw_rows(url_of(engine), "SELECT kind, is_revisit FROM captures ORDER BY id")
    assert [(r["kind"], r["is_revisit"]) for r in rows] == [("list", 0), ("list", 1)]


def test_0010_downgrades_to_0009_and_back_keeping_every_capture(engine: Engine) -> None:
    record(engine, page_html("第一页"), "list")
    url = url_of(engine)
    before = raw_rows(url, "SELECT id, url, body_sha256 FROM captures")
    config = _alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0009")
    assert raw_rows(url, "SELECT id, url, body_sha256 FROM captures") == before
    storage.upgrade_archive(engine)
    # what was captured before the revision knew kinds was an article page's response
    assert raw_rows(url, "SELECT kind FROM captures") == [{"kind": "page"}]


def test_the_crawl_captures_every_list_page_it_read(
    replay_crawl: ReplayCrawl, tmp_path: Path
) -> None:
    archive = replay_crawl.copy(tmp_path / "archive.sqlite3")
    with sqlite3.connect(archive) as db:
        kinds = dict(db.execute("SELECT url, kind FROM captures").fetchall())
        article_pages = {url for (url,) in db.execute("SELECT url FROM article")}
    lists = {url for url, kind in kinds.items() if kind == "list"}
    assert LIST_URL in lists and LIST_URL.replace("index", "index_2") in lists
    assert "https://www.sc.gov.cn/10462/10758/index.shtml" in lists  # the start page
    assert not lists & article_pages
    assert all(kinds[url] == "page" for url in article_pages)
