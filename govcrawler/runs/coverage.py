"""Health checks on what the pages gave: field coverage against earlier runs, for articles and
for 政务公开 documents, and the document spider's own signs of a changed site (metadata blocks
of no known layout, a validity source gone dry, list pages of unknown shape).

Counters, as the spiders write them:
- articles: `coverage/articles` (the total) and `coverage/<field>`;
- documents: `coverage/documents` and `coverage/document/<field>` (文号, issuer, dates,
  validity), `documents/block_expected` and `documents/block_missing` (pages that should have a
  metadata block, and those where no known layout matched), `documents/validity_source/<source>`;
- list pages: `lists/shape/<shape>`, `unknown` for a list the spider could not read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from govcrawler.runs.checks import (
    SLACK,
    Problem,
    Stats,
    Thresholds,
    count,
    num,
    over,
    pct,
    when,
    with_prefix,
)

_COVERAGE = "govcrawler/coverage/"
ARTICLES = _COVERAGE + "articles"
DOCUMENTS = _COVERAGE + "documents"
_DOCUMENT_FIELD = _COVERAGE + "document/"
_BLOCK_EXPECTED = "govcrawler/documents/block_expected"
_BLOCK_MISSING = "govcrawler/documents/block_missing"
_VALIDITY_SOURCE = "govcrawler/documents/validity_source/"
_LIST_SHAPE = "govcrawler/lists/shape/"


def field_coverage(
    stats: Stats, previous: Sequence[Stats], thresholds: Thresholds
) -> list[Problem]:
    """A field found on a smaller share of pages than in the newest previous run that had it,
    by more than `max_coverage_drop`: articles and documents each against their own total."""
    article_fields = {
        key.removeprefix(_COVERAGE)
        for run in (stats, *previous)
        for key in run
        if key.startswith(_COVERAGE) and "/" not in key.removeprefix(_COVERAGE)
    } - {"articles", "documents"}
    return [
        *_coverage(stats, previous, thresholds, ARTICLES, _COVERAGE, article_fields, "articles"),
        *_coverage(
            stats,
            previous,
            thresholds,
            DOCUMENTS,
            _DOCUMENT_FIELD,
            {
                key.removeprefix(_DOCUMENT_FIELD)
                for run in (stats, *previous)
                for key in run
                if key.startswith(_DOCUMENT_FIELD)
            },
            "documents",
        ),
    ]


def _coverage(
    stats: Stats,
    previous: Sequence[Stats],
    thresholds: Thresholds,
    total_key: str,
    prefix: str,
    fields: set[str],
    noun: str,
) -> Iterator[Problem]:
    pages = count(stats, total_key)
    if pages < max(thresholds.min_pages, 1):
        return
    for field in sorted(fields):
        baseline = _baseline(previous, total_key, prefix + field, thresholds.min_pages)
        if baseline is None:
            continue
        age, before = baseline
        found = count(stats, prefix + field)
        drop = before - found / pages
        if drop > thresholds.max_coverage_drop + SLACK:
            yield Problem(
                "field_coverage",
                f"field {field}: found on {found} of {pages} {noun} "
                f"({pct(found / pages)}), down from {pct(before)} in {when(age)}: a drop "
                f"of {num(drop)} points (limit {num(thresholds.max_coverage_drop)}): "
                "the pages no longer show it where the extractor looks",
                blocked=False,
            )


def _baseline(
    previous: Sequence[Stats], total_key: str, key: str, min_pages: int
) -> tuple[int, float] | None:
    """(age, share) of `key` in the newest previous run that has it and enough pages."""
    for age, run in enumerate(previous):
        pages = count(run, total_key)
        if key in run and pages >= max(min_pages, 1):
            return age, count(run, key) / pages
    return None


def document_checks(
    stats: Stats, previous: Sequence[Stats], thresholds: Thresholds
) -> list[Problem]:
    return [
        *_unknown_layouts(stats, thresholds),
        *_validity_sources(stats, previous, thresholds),
        *_unknown_lists(stats, thresholds),
    ]


def _unknown_layouts(stats: Stats, thresholds: Thresholds) -> Iterator[Problem]:
    documents = count(stats, _BLOCK_EXPECTED)
    unknown = count(stats, _BLOCK_MISSING)
    if over(unknown, documents, thresholds.max_fallback_share, thresholds.min_pages):
        yield Problem(
            "document_layout",
            f"documents: {unknown} of {documents} ({pct(unknown / documents)}) that should have "
            "a metadata block had none of a known layout "
            f"(limit {pct(thresholds.max_fallback_share)}): the document template probably "
            "changed; their metadata came from the fallbacks",
            blocked=False,
        )


def _validity_sources(
    stats: Stats, previous: Sequence[Stats], thresholds: Thresholds
) -> Iterator[Problem]:
    """A source of 有效性 that gave it on enough documents in the previous run and on none now
    (the inline script renamed, the static cell gone): validity is where we no longer look."""
    documents = count(stats, DOCUMENTS)
    if documents < max(thresholds.min_pages, 1):
        return
    for age, run in enumerate(previous):
        if count(run, DOCUMENTS) < max(thresholds.min_pages, 1):
            continue
        now = with_prefix(stats, _VALIDITY_SOURCE)
        for source, before in sorted(with_prefix(run, _VALIDITY_SOURCE).items()):
            if source != "none" and before >= thresholds.min_pages and not now.get(source):
                yield Problem(
                    "validity_source",
                    f"validity: no document had it from the {source} source this run "
                    f"({before} of {count(run, DOCUMENTS)} documents in {when(age)}): the "
                    "pages no longer show it where the extractor looks",
                    blocked=False,
                )
        return


def _unknown_lists(stats: Stats, thresholds: Thresholds) -> Iterator[Problem]:
    shapes = with_prefix(stats, _LIST_SHAPE)
    lists, unknown = sum(shapes.values()), shapes.get("unknown", 0)
    if over(unknown, lists, thresholds.max_fallback_share, thresholds.min_pages):
        yield Problem(
            "list_shape",
            f"lists: {unknown} of {lists} list pages ({pct(unknown / lists)}) had no known "
            f"shape (limit {pct(thresholds.max_fallback_share)}): the list template probably "
            "changed; their links were followed by shape alone",
            blocked=False,
        )
