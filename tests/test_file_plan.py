"""Which files a run requests: unknown ones, ones never fetched whole, and due revisits, with
the validators of the last stored answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from govcrawler.runs.plan import CrawlPlan
from storage.files import KnownFile

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
PDF = "https://www.sc.gov.cn/10462/zfwjts/2025/1/23/ab/files/a.pdf"


def plan_with(state: str, fetched_days_ago: int | None, **kwargs: object) -> CrawlPlan:
    fetched = None if fetched_days_ago is None else NOW - timedelta(days=fetched_days_ago)
    known = KnownFile(PDF, "attachment", state, fetched, '"e1"', "Mon, 01 Dec 2025 00:00:00 GMT")
    return CrawlPlan(now=NOW, files={PDF: known}, file_revisit_days=90, **kwargs)  # type: ignore[arg-type]


def test_an_unknown_file_is_wanted() -> None:
    assert CrawlPlan(now=NOW).file_wanted(PDF)


def test_a_stored_file_waits_for_its_revisit() -> None:
    assert not plan_with("stored", 89).file_wanted(PDF)
    assert plan_with("stored", 90).file_wanted(PDF)
    assert plan_with("stored", 90).due_files() == [PDF]
    assert plan_with("stored", 10).due_files() == []


def test_files_never_fetched_whole_are_due_at_once() -> None:
    for state, days in (("pending", None), ("failed", 1)):
        assert plan_with(state, days).file_wanted(PDF), state
    assert not plan_with("gone", 1).file_wanted(PDF)  # a removed file: on its schedule


def test_a_revisit_is_conditional_on_the_stored_answer() -> None:
    headers = plan_with("stored", 100).file_conditional_headers(PDF)
    assert headers == {
        "If-None-Match": '"e1"',
        "If-Modified-Since": "Mon, 01 Dec 2025 00:00:00 GMT",
    }
    assert plan_with("gone", 100).file_conditional_headers(PDF) == {}


def test_a_full_run_fetches_every_file_unconditionally() -> None:
    plan = plan_with("stored", 1, full=True)
    assert plan.file_wanted(PDF)
    assert plan.file_conditional_headers(PDF) == {}
