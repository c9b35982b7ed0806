"""`govcrawler changes`: new, changed and withdrawn documents and articles, newest first, with
what changed; `--since`, `--field`, `--spider`, `--json`; bad input in one line. On SQLite and
PostgreSQL (the archive written through `record_article`, as a crawl writes it)."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine

import storage
from govcrawler.cli import main
from storage.runs import start_run
from tests.conftest import numbered_article, url_of
from tests.test_document_storage import GEN1, GEN2, GEN3, MEASURES, OLD_MEASURES, metadata


def changes(engine: Engine, *args: str) -> Result:
    return CliRunner().invoke(main, ["changes", *args, "--database", url_of(engine)])


@pytest.fixture
def history(engine: Engine) -> Engine:
    """Generation 1: two documents and an English article; generation 2 (a run of the
    document spider): one document expired, one withdrawn, the article retitled."""
    sessions = storage.session_factory(engine)
    article = numbered_article(9, "Sichuan report", "A Sichuan report on bamboo.", None, "c")
    with sessions.begin() as session:
        for record in (MEASURES, OLD_MEASURES, article):
            storage.record_article(session, record, GEN1)
    with sessions.begin() as session:
        run = start_run(session, "sc_zhengwu", GEN2, 4242, "host", full=False, recovery=False)
        expired = metadata(MEASURES, validity="失效", validity_raw="失效")
        storage.record_article(session, expired, GEN2, run_id=run.id)
        storage.record_gone(session, OLD_MEASURES.url, GEN2 + timedelta(hours=1), run_id=run.id)
    with sessions.begin() as session:
        retitled = dataclasses.replace(article, title="Sichuan report, corrected")
        storage.record_article(session, retitled, GEN3)
    return engine


def test_changes_lists_every_change_newest_first(history: Engine) -> None:
    result = changes(history)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    heads = [line for line in lines if not line.startswith("    ")]
    assert heads == [
        f"{GEN3:%Y-%m-%d %H:%M:%S} UTC  changed title: Sichuan report → Sichuan report, corrected",
        f"{GEN2 + timedelta(hours=1):%Y-%m-%d %H:%M:%S} UTC  withdrawn  (run 1, sc_zhengwu)",
        f"{GEN2:%Y-%m-%d %H:%M:%S} UTC  changed validity: 有效 → 失效  (run 1, sc_zhengwu)",
        *[f"{GEN1:%Y-%m-%d %H:%M:%S} UTC  new"] * 3,
    ]
    assert f"    1  document  川办发〔2024〕12号 {MEASURES.title}" in lines
    assert "    3  article  Sichuan report, corrected" in lines
    assert "6 changes" in result.stderr


def test_since_keeps_the_later_changes(history: Engine) -> None:
    result = changes(history, "--since", f"{GEN2:%Y-%m-%d}")
    assert result.exit_code == 0, result.output
    assert "validity: 有效 → 失效" in result.stdout and "  new" not in result.stdout
    assert "3 changes" in result.stderr
    later = changes(history, "--since", f"{GEN3 + timedelta(days=1):%Y-%m-%d}")
    assert later.stdout == "" and "0 changes" in later.stderr


def test_field_and_spider_select_changes(history: Engine) -> None:
    validity = changes(history, "--field", "validity")
    assert validity.exit_code == 0, validity.output
    assert [line for line in validity.stdout.splitlines() if "changed" in line] == [
        f"{GEN2:%Y-%m-%d %H:%M:%S} UTC  changed validity: 有效 → 失效  (run 1, sc_zhengwu)"
    ]
    spider = changes(history, "--spider", "sc_zhengwu", "--json")
    assert [json.loads(line)["change"] for line in spider.stdout.splitlines()] == [
        "withdrawn",
        "changed",
    ]


def test_json_prints_one_object_per_change(history: Engine) -> None:
    result = changes(history, "--json", "--since", f"{GEN2:%Y-%m-%d}", "--field", "validity")
    assert result.exit_code == 0, result.output
    [row] = [json.loads(line) for line in result.stdout.splitlines()]
    assert row == {
        "change_id": row["change_id"],
        "article_id": 1,
        "url": MEASURES.url,
        "title": MEASURES.title,
        "kind": "document",
        "doc_number": "川办发〔2024〕12号",
        "change": "changed",
        "field": "validity",
        "old_value": "有效",
        "new_value": "失效",
        "detected_at": GEN2.isoformat(),
        "run_id": 1,
        "spider": "sc_zhengwu",
        "origin": "crawl",
    }


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_bad_date_is_one_line_and_exit_2(history: Engine) -> None:
    result = changes(history, "--since", "1 December")
    assert result.exit_code == 2
    assert result.output == (
        "Error: --since wants a date like 2026-12-01 (or 2026-12-01T08:00), not '1 December'\n"
    )


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_changes_never_writes_the_archive(history: Engine, archive_path) -> None:  # type: ignore[no-untyped-def]
    before = archive_path.read_bytes()
    assert changes(history).exit_code == 0
    assert archive_path.read_bytes() == before
