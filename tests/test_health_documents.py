"""The document spider's health checks: metadata coverage against earlier runs, metadata blocks
of no known layout, a validity source gone dry, list pages of unknown shape."""

from __future__ import annotations

from typing import Any

import pytest

from govcrawler.runs.health import EXIT_HEALTH, Thresholds, check_run, exit_status

P = "govcrawler/"


def document_run(
    documents: int = 40,
    *,
    doc_number: int = 38,
    issuer: int = 40,
    validity: int = 36,
    layouts: dict[str, int] | None = None,
    sources: dict[str, int] | None = None,
    shapes: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The stats of a healthy run of the document spider, with what a test changes."""
    layouts = {"a": 30, "b": 4, "c": 5, "none": 1} if layouts is None else layouts
    sources = {"static": 20, "script": 14, "red_notice": 2} if sources is None else sources
    shapes = {"biaobody": 6, "dash_table": 4, "unknown": 1} if shapes is None else shapes
    stats: dict[str, Any] = {
        P + "start/200": 1,
        P + "coverage/documents": documents,
        P + "coverage/document/doc_number": doc_number,
        P + "coverage/document/issuer": issuer,
        P + "coverage/document/validity": validity,
        "downloader/request_count": documents + 12,
    }
    stats |= {P + f"documents/layout/{k}": v for k, v in layouts.items()}
    stats[P + "documents/block_expected"] = sum(layouts.values())
    stats[P + "documents/block_missing"] = layouts.get("none", 0)
    stats |= {P + f"documents/validity_source/{k}": v for k, v in sources.items()}
    stats |= {P + f"lists/shape/{k}": v for k, v in shapes.items()}
    return stats


def checks(stats: dict[str, Any], *previous: dict[str, Any]) -> list[str]:
    return [problem.check for problem in check_run(stats, list(previous), Thresholds())]


def test_a_healthy_run_after_a_healthy_run_has_no_problem() -> None:
    assert checks(document_run(), document_run()) == []


def test_a_drop_in_doc_number_coverage_is_a_problem_naming_documents() -> None:
    problems = check_run(document_run(doc_number=20), [document_run()], Thresholds())
    assert [p.check for p in problems] == ["field_coverage"]
    assert (
        "field doc_number: found on 20 of 40 documents (50%), down from 95%" in problems[0].message
    )
    assert exit_status(problems) == EXIT_HEALTH


def test_document_fields_are_not_judged_against_the_article_total() -> None:
    """An English run in the baseline (articles, no documents) does not make document fields
    'vanish', nor do document counters become article fields."""
    english = {P + "start/200": 1, P + "extraction/container": 50}
    english |= {P + "coverage/articles": 50, P + "coverage/published_on": 50}
    assert checks(document_run(), english) == []
    assert checks(english, document_run()) == []


@pytest.mark.parametrize(("unknown", "expected"), [(8, []), (9, ["document_layout"])])
def test_metadata_blocks_of_no_known_layout_over_the_share_are_a_problem(
    unknown: int, expected: list[str]
) -> None:
    run = document_run(layouts={"a": 40 - unknown, "none": unknown})
    assert checks(run) == expected  # 8 of 40 is the 20% limit itself


def test_a_validity_source_gone_dry_is_a_problem() -> None:
    before = document_run()
    now = document_run(validity=22, sources={"static": 22, "red_notice": 0})
    problems = check_run(now, [before], Thresholds())
    assert "validity_source" in [p.check for p in problems]
    message = next(p.message for p in problems if p.check == "validity_source")
    assert "from the script source" in message and "14 of 40 documents" in message


def test_a_source_that_gave_few_documents_before_is_not_judged() -> None:
    before = document_run(sources={"static": 36, "red_notice": 2})
    assert checks(document_run(sources={"static": 36}), before) == []


@pytest.mark.parametrize(("unknown", "expected"), [(2, []), (3, ["list_shape"])])
def test_list_pages_of_unknown_shape_over_the_share_are_a_problem(
    unknown: int, expected: list[str]
) -> None:
    assert checks(document_run(shapes={"biaobody": 10 - unknown, "unknown": unknown})) == expected


def test_a_document_run_is_not_nothing_found() -> None:
    """Documents count as found pages even without the English spider's column counters."""
    assert "nothing_found" not in checks(document_run())
    assert checks(
        document_run(0, doc_number=0, issuer=0, validity=0, shapes={}, layouts={}, sources={})
    ) == ["nothing_found"]
