"""Health checks over realistic stats: each failure mode gives its problem, and only it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from scrapy.settings import Settings

from govcrawler.runs.health import (
    EXIT_BLOCKED,
    EXIT_HEALTH,
    Problem,
    Thresholds,
    check_run,
    exit_status,
)

DEFAULT = Thresholds()
COLUMNS = {"10765": 31, "10766": 12}
COVERAGE = {"published_on": 38, "column_name": 40, "images": 12}


def run(
    *,
    requests: int = 60,
    server_errors: int = 1,
    exceptions: int = 0,
    container: int = 38,
    generic: int = 2,
    columns: dict[str, int] | None = None,
    articles: int = 40,
    coverage: dict[str, int] | None = None,
    blocked: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The stats of a run as Scrapy leaves them: by default a healthy run of 60 pages over
    two columns, 40 articles extracted, 38 of them by the known template."""
    stats: dict[str, Any] = {
        "start_time": datetime(2026, 11, 28, 3, 0, tzinfo=UTC),
        "finish_time": datetime(2026, 11, 28, 3, 9, tzinfo=UTC),
        "finish_reason": "finished",
        "elapsed_time_seconds": 540.2,
        "downloader/request_count": requests,
        "downloader/request_method_count/GET": requests,
        "downloader/response_count": requests - exceptions,
        "downloader/response_status_count/200": requests - exceptions - server_errors - 3,
        "downloader/response_status_count/301": 2,
        "downloader/response_status_count/404": 1,
        "govcrawler/extraction/container": container,
        "govcrawler/coverage/articles": articles,
        "govcrawler/archive/new": articles - 3,
        "govcrawler/archive/unchanged": 3,
        "log_count/INFO": 14,
        "scheduler/enqueued": requests,
    }
    if server_errors:  # pages answering 500, given up after their retries
        stats["downloader/response_status_count/500"] = server_errors
        stats["govcrawler/dropped/http_500"] = server_errors
    if exceptions:  # requests that ended in a download error
        stats["downloader/exception_count"] = exceptions
        stats["downloader/exception_type_count/twisted.internet.error.TimeoutError"] = exceptions
        stats["govcrawler/failed/TimeoutError"] = exceptions
    if generic:
        stats["govcrawler/extraction/generic"] = generic
    for column, links in (COLUMNS if columns is None else columns).items():
        stats[f"govcrawler/links/column/{column}"] = links
    for field, found in (COVERAGE if coverage is None else coverage).items():
        stats[f"govcrawler/coverage/{field}"] = found
    if blocked:
        stats["govcrawler/blocked"] = sum(blocked.values())
        for reason, count in blocked.items():
            stats[f"govcrawler/blocked/{reason}"] = count
    return stats


def checks(stats: dict[str, Any], previous: list[dict[str, Any]] | None = None) -> list[str]:
    return [p.check for p in check_run(stats, [run()] if previous is None else previous, DEFAULT)]


def only(stats: dict[str, Any], previous: list[dict[str, Any]] | None = None) -> Problem:
    """The one problem the run has (failing if it has none or more)."""
    problems = check_run(stats, [run()] if previous is None else previous, DEFAULT)
    assert len(problems) == 1, problems
    return problems[0]


# --- healthy runs ---------------------------------------------------------------------------


def test_a_healthy_run_has_no_problems() -> None:
    problems = check_run(run(), [run(), run(articles=50, coverage={"published_on": 50})], DEFAULT)
    assert problems == []
    assert exit_status(problems) == 0


def test_a_first_run_compares_with_nothing() -> None:
    stats = run(columns={}, coverage={"published_on": 0})
    assert check_run(stats, [], DEFAULT) == []


def test_stats_read_back_from_the_archive_json_column_work_the_same() -> None:
    stored = [json.loads(json.dumps(run(), default=str))]
    assert check_run(run(), stored, DEFAULT) == []
    assert checks(run(columns={"10765": 31}), stored) == ["empty_column"]


# --- blocked --------------------------------------------------------------------------------


def test_a_blocked_run_names_the_reasons_and_counts() -> None:
    problem = only(run(blocked={"challenge": 2, "status_403": 5}))
    assert problem.check == "blocked"
    assert problem.blocked
    assert "7 responses" in problem.message
    assert "challenge 2" in problem.message
    assert "status_403 5" in problem.message
    assert exit_status([problem]) == EXIT_BLOCKED


def test_a_block_without_reasons_still_fails() -> None:
    stats = run()
    stats["govcrawler/blocked"] = 1
    problem = only(stats)
    assert problem.blocked
    assert "reasons not recorded" in problem.message


def test_a_zero_block_count_is_fine() -> None:
    stats = run()
    stats["govcrawler/blocked"] = 0
    assert checks(stats) == []


# --- empty columns --------------------------------------------------------------------------


def test_a_column_without_links_this_run_is_reported_with_the_previous_count() -> None:
    problem = only(run(columns={"10766": 12}))
    assert problem == Problem(
        "empty_column",
        "column 10765: no article links this run (31 in the previous run): "
        "the list pages changed or are gone",
        blocked=False,
    )
    assert exit_status([problem]) == EXIT_HEALTH


def test_a_column_counted_as_zero_is_empty_too() -> None:
    assert checks(run(columns={"10765": 31, "10766": 0})) == ["empty_column"]


def test_every_empty_column_is_reported_once() -> None:
    previous = [run(), run(columns={"10765": 30, "10766": 11})]
    problems = check_run(run(columns={}), previous, DEFAULT)
    assert [p.message.split(":")[0] for p in problems] == ["column 10765", "column 10766"]


def test_a_column_is_compared_with_the_latest_run_that_mentions_it() -> None:
    previous = [run(), run(columns={**COLUMNS, "10767": 9})]
    problem = only(run(), previous)
    assert problem.check == "empty_column"
    assert "column 10767" in problem.message
    assert "(9 in an earlier run, 2 runs ago)" in problem.message


def test_a_column_empty_before_and_empty_now_is_fine() -> None:
    previous = [run(columns={**COLUMNS, "10767": 0}), run(columns={**COLUMNS, "10767": 9})]
    assert checks(run(), previous) == []


def test_a_new_column_is_fine() -> None:
    assert checks(run(columns={**COLUMNS, "10770": 4})) == []


# --- extraction fallback --------------------------------------------------------------------


def test_too_many_generic_extractions_is_a_problem_with_the_figures() -> None:
    problem = only(run(container=30, generic=10))
    assert problem.check == "extraction_fallback"
    assert not problem.blocked
    assert "10 of 40 article pages (25%)" in problem.message
    assert "limit 20%" in problem.message
    assert "template" in problem.message


@pytest.mark.parametrize(("generic", "expected"), [(8, []), (9, ["extraction_fallback"])])
def test_the_fallback_threshold_is_inclusive(generic: int, expected: list[str]) -> None:
    # 8 of 40 is exactly 20%: fine; 9 of 40 (22.5%) is over.
    assert checks(run(container=40 - generic, generic=generic)) == expected


def test_a_run_too_small_to_judge_extraction_passes() -> None:
    # 3 pages, 2 of them generic: 67%, but fewer than min_pages.
    assert checks(run(container=1, generic=2)) == []
    assert checks(run(container=1, generic=4)) == ["extraction_fallback"]  # 5 pages: judged


def test_no_article_pages_at_all_is_not_a_fallback_problem() -> None:
    assert check_run(run(container=0, generic=0), [], Thresholds(min_pages=0)) == []


# --- field coverage -------------------------------------------------------------------------


def test_a_drop_in_field_coverage_is_a_problem_with_both_shares() -> None:
    problem = only(run(coverage={**COVERAGE, "published_on": 24}))
    assert problem.check == "field_coverage"
    assert "field published_on" in problem.message
    assert "24 of 40 articles (60%)" in problem.message
    assert "down from 95% in the previous run: a drop of 35 points (limit 20)" in problem.message


def test_a_field_missing_from_the_stats_counts_as_found_on_none() -> None:
    problem = only(run(coverage={"published_on": 38, "column_name": 40}))
    assert "field images: found on 0 of 40 articles (0%), down from 30%" in problem.message


@pytest.mark.parametrize(("found", "expected"), [(28, []), (27, ["field_coverage"])])
def test_the_coverage_threshold_is_inclusive(found: int, expected: list[str]) -> None:
    # 36/40 = 90% before; 28/40 = 70% is a drop of exactly 20 points (0.20000000000000007 in
    # floats): fine; 27/40 = 67.5% is over.
    previous = [run(coverage={"published_on": 36})]
    assert checks(run(coverage={"published_on": found}), previous) == expected


def test_a_rise_in_coverage_is_fine() -> None:
    assert checks(run(coverage={**COVERAGE, "images": 40})) == []


def test_a_field_new_this_run_has_nothing_to_compare_with() -> None:
    assert checks(run(coverage={**COVERAGE, "attachments": 1})) == []


def test_a_small_run_is_not_judged_on_coverage() -> None:
    assert checks(run(articles=3, coverage={"published_on": 0, "column_name": 0})) == []


def test_coverage_is_compared_with_the_latest_run_big_enough_to_count() -> None:
    previous = [run(articles=3, coverage={"published_on": 0}), run()]
    problem = only(run(coverage={**COVERAGE, "published_on": 20}), previous)
    assert "down from 95% in an earlier run, 2 runs ago" in problem.message
    tiny = run(articles=4, container=4, generic=0, coverage={"published_on": 4})
    assert checks(run(coverage={"published_on": 20}), [tiny]) == []


def test_coverage_is_compared_with_the_latest_run_that_has_the_field() -> None:
    previous = [run(coverage={"column_name": 40}), run(coverage={"published_on": 36})]
    problem = only(run(coverage={"column_name": 40, "published_on": 10}), previous)
    assert "down from 90% in an earlier run, 2 runs ago" in problem.message


def test_a_first_run_never_fails_coverage() -> None:
    assert check_run(run(coverage={"published_on": 1}), [], DEFAULT) == []


# --- error rate -----------------------------------------------------------------------------


def test_too_many_errors_is_a_problem_with_the_figures() -> None:
    problem = only(run(server_errors=10, exceptions=3))
    assert problem.check == "error_rate"
    assert "13 of 60 pages (21.7%)" in problem.message
    assert "10 server errors 5xx, 3 download errors" in problem.message
    assert "limit 20%" in problem.message


@pytest.mark.parametrize(("errors", "expected"), [(12, []), (13, ["error_rate"])])
def test_the_error_threshold_is_inclusive(errors: int, expected: list[str]) -> None:
    assert checks(run(server_errors=errors)) == expected  # 12/60 is exactly 20%


def test_every_5xx_status_counts_and_4xx_does_not() -> None:
    stats = run(server_errors=5)
    stats["govcrawler/dropped/http_503"] = 4
    stats["govcrawler/dropped/http_520"] = 4  # a CDN's "origin returned an error"
    stats["govcrawler/dropped/http_404"] = 20
    assert "13 of 60 pages" in only(stats).message


def test_a_retried_page_counts_once() -> None:
    # One page answered 500 three times (two retries) among 10 requests: 1 of 8 pages failed.
    stats = {
        "downloader/request_count": 10,
        "downloader/response_status_count/200": 7,
        "downloader/response_status_count/500": 3,
        "retry/count": 2,
        "retry/max_reached": 1,
        "govcrawler/dropped/http_500": 1,
        "finish_reason": "finished",
    }
    assert checks(stats, []) == []
    stats |= {"downloader/request_count": 8, "downloader/response_status_count/200": 5}
    assert checks(stats, []) == []  # 1 of 6 pages: 16.7%, within 20%
    stats |= {"retry/count": 0, "govcrawler/dropped/http_500": 3}  # three pages: 3 of 8
    assert checks(stats, []) == ["error_rate"]


def test_a_503_waited_out_then_answered_is_not_a_failure() -> None:
    # Six pages each answered 503 with Retry-After once, then 200: six polite retries.
    stats = {
        "downloader/request_count": 14,
        "downloader/response_status_count/200": 8,
        "downloader/response_status_count/503": 6,
        "govcrawler/politeness/retry_after/retry/count": 6,
        "finish_reason": "finished",
    }
    assert checks(stats, []) == []


def test_refused_requests_are_not_errors() -> None:
    # robots.txt and off-site refusals reach DownloaderStats as IgnoreRequest exceptions.
    stats = run()
    stats["downloader/exception_count"] = 25
    stats["downloader/exception_type_count/scrapy.exceptions.IgnoreRequest"] = 25
    assert checks(stats) == []


def test_a_run_too_small_to_judge_errors_passes() -> None:
    # The start page and two list pages, all timed out: 100%, but fewer than min_pages requests.
    stats = {
        "downloader/request_count": 3,
        "govcrawler/failed/TimeoutError": 3,
        "finish_reason": "finished",
    }
    assert checks(stats, []) == []
    assert checks(
        {**stats, "downloader/request_count": 5, "govcrawler/failed/TimeoutError": 5}, []
    ) == ["error_rate"]


# --- thresholds and exit status -------------------------------------------------------------


def test_thresholds_come_from_the_caller() -> None:
    stats = run(container=30, generic=10, server_errors=13)
    loose = Thresholds(max_fallback_share=0.25, max_error_rate=0.3)
    assert check_run(stats, [run()], loose) == []
    assert check_run(run(container=1, generic=2), [], Thresholds(min_pages=3)) != []


def test_blocked_wins_the_exit_status_over_every_other_problem() -> None:
    stats = run(
        blocked={"challenge": 40},
        columns={},
        container=5,
        generic=35,
        coverage={},
        server_errors=30,
    )
    problems = check_run(stats, [run()], DEFAULT)
    assert [p.check for p in problems] == [
        "blocked",
        "empty_column",
        "empty_column",
        "extraction_fallback",
        "field_coverage",
        "field_coverage",
        "field_coverage",
        "error_rate",
    ]
    assert [p.blocked for p in problems] == [True] + [False] * 7
    assert all("\n" not in p.message for p in problems)
    assert exit_status(problems) == EXIT_BLOCKED == 5
    assert exit_status(problems[1:]) == EXIT_HEALTH == 4
    assert exit_status([]) == 0


def test_thresholds_from_a_dict() -> None:
    empty: dict[str, Any] = {}
    assert Thresholds.from_settings(empty.get) == Thresholds()
    settings = {
        "GOVCRAWLER_MAX_FALLBACK_SHARE": 0.1,
        "GOVCRAWLER_MAX_ERROR_RATE": 0.3,
        "GOVCRAWLER_MAX_COVERAGE_DROP": 0.5,
        "GOVCRAWLER_HEALTH_MIN_PAGES": 10,
    }
    assert Thresholds.from_settings(settings.get) == Thresholds(0.1, 0.3, 0.5, 10)


def test_thresholds_from_scrapy_settings_with_command_line_strings() -> None:
    settings = Settings()
    settings.setmodule("govcrawler.settings", priority="project")
    assert Thresholds.from_settings(settings.get) == Thresholds(0.2, 0.2, 0.2, 5)
    settings.setdict(
        {"GOVCRAWLER_MAX_ERROR_RATE": "0.35", "GOVCRAWLER_HEALTH_MIN_PAGES": "12"},
        priority="cmdline",
    )
    thresholds = Thresholds.from_settings(settings.get)
    assert thresholds == Thresholds(0.2, 0.35, 0.2, 12)
    assert isinstance(thresholds.max_error_rate, float)
    assert isinstance(thresholds.min_pages, int)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GOVCRAWLER_MAX_ERROR_RATE", "lots"),
        ("GOVCRAWLER_MAX_FALLBACK_SHARE", "1.5"),
        ("GOVCRAWLER_MAX_COVERAGE_DROP", "nan"),
        ("GOVCRAWLER_HEALTH_MIN_PAGES", "-1"),
        ("GOVCRAWLER_HEALTH_MIN_PAGES", "2.5"),
    ],
)
def test_a_bad_threshold_names_the_setting(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=f"^{name} must be .*, got '{value}'$"):
        Thresholds.from_settings(Settings({name: value}).get)


# --- the start page, and a run that found nothing (govcrawler/crawl/startpage.py) ------------

START = "https://www.sc.gov.cn/10462/10758/index.shtml"


def started(fates: dict[str, int], detail: str = "", **kwargs: Any) -> dict[str, Any]:
    """A run's stats with its start page's fate recorded as the start-page middlewares do."""
    stats = run(**kwargs) | {"govcrawler/start_url": START}
    stats |= {f"govcrawler/start/{fate}": n for fate, n in fates.items()}
    return stats | ({"govcrawler/start_detail": detail} if detail else {})


def unreachable() -> dict[str, Any]:
    """Nothing answered: no page, no link, no article (the stats of a crawl with no route)."""
    stats = started(
        {"DownloadConnectionRefusedError": 1},
        "Connection was refused by other side: 111: Connection refused.",
        requests=6,
        server_errors=0,
        exceptions=6,
        container=0,
        generic=0,
        columns={},
        articles=0,
        coverage={},
    )
    stats["retry/count"] = 4  # robots.txt and the start page, each tried 3 times
    return {key: value for key, value in stats.items() if "response_status_count" not in key}


@pytest.mark.parametrize("fate", ["200", "304"])
def test_a_start_page_that_answered_is_no_problem(fate: str) -> None:
    assert check_run(started({fate: 1}), [], DEFAULT) == []


def test_an_unreachable_start_page_is_a_problem_on_a_first_run_naming_url_and_error() -> None:
    problems = check_run(unreachable(), [], DEFAULT)
    assert [p.check for p in problems] == ["start_page"]
    assert START in problems[0].message
    assert "DownloadConnectionRefusedError: Connection was refused" in problems[0].message
    assert exit_status(problems) == EXIT_HEALTH


@pytest.mark.parametrize(
    ("fate", "detail"),
    [
        ("404", ""),
        ("500", ""),
        ("302", ""),
        ("refused", "offsite: https://mirror.example.org/"),
        ("refused", "Forbidden by robots.txt"),
        ("CannotResolveHostError", "DNS lookup failed: no results for hostname lookup"),
        ("DownloadTimeoutError", "Getting https://www.sc.gov.cn/ took longer than 60.0 seconds."),
    ],
)
def test_a_start_page_that_failed_is_a_problem_saying_how(fate: str, detail: str) -> None:
    problems = check_run(started({fate: 1}, detail), [], DEFAULT)
    assert [p.check for p in problems] == ["start_page"]
    assert f"start page {START} failed ({fate}" in problems[0].message
    assert detail in problems[0].message
    assert exit_status(problems) == EXIT_HEALTH


def test_a_blocked_start_page_is_a_problem_and_the_block_decides_the_status() -> None:
    stats = started({"blocked": 1}, f"http_412: {START}", blocked={"http_412": 1})
    problems = check_run(stats, [], DEFAULT)
    assert [p.check for p in problems] == ["blocked", "start_page"]
    assert exit_status(problems) == EXIT_BLOCKED


def test_a_start_page_that_answered_but_led_nowhere_is_a_problem() -> None:
    stats = started({"200": 1}, columns={}, container=0, generic=0, articles=0, coverage={})
    problems = check_run(stats, [], DEFAULT)
    assert [p.check for p in problems] == ["nothing_found"]
    assert START in problems[0].message and "no list page and no article" in problems[0].message
    assert exit_status(problems) == EXIT_HEALTH
    # One article link, or one article, is something found.
    assert check_run(stats | {"govcrawler/links/column/10765": 1}, [], DEFAULT) == []
    assert check_run(stats | {"govcrawler/extraction/generic": 1}, [], DEFAULT) == []


def test_nothing_found_is_not_judged_on_a_distributed_workers_share_of_a_job() -> None:
    stats = started({"200": 1}, columns={}, container=0, generic=0, articles=0, coverage={})
    share = stats | {"govcrawler/distributed/job": "job-1"}
    assert check_run(share, [], DEFAULT) == []
    assert [p.check for p in check_run(stats, [], DEFAULT)] == ["nothing_found"]  # the job


def test_a_run_without_a_recorded_start_page_is_not_judged_on_it() -> None:
    """Runs recorded before the start page was tracked (or a worker that fetched no start page)."""
    assert check_run(run(), [], DEFAULT) == []
    empty = run(columns={}, container=0, generic=0, articles=0, coverage={})
    assert check_run(empty, [], DEFAULT) == []


# --- files ------------------------------------------------------------------------------------


def with_files(fetched: int, cut: int = 0, timeouts: int = 0) -> dict[str, Any]:
    stats = run() | {"govcrawler/files/status/200": fetched}
    if cut:
        stats["govcrawler/files/cut"] = cut
    if timeouts:
        stats["govcrawler/files/timeout"] = timeouts
    return stats


def test_files_arriving_whole_are_fine() -> None:
    assert checks(with_files(40, cut=2)) == []


def test_files_cut_or_timed_out_beyond_the_limit_are_a_problem() -> None:
    problem = only(with_files(40, cut=6, timeouts=5))  # 11 of 45 asked for
    assert problem.check == "file_losses" and "11 of 45 downloads" in problem.message


def test_file_losses_at_the_limit_pass() -> None:
    assert checks(with_files(45, cut=5, timeouts=5)) == []  # 10 of 50: 20 %, the limit
