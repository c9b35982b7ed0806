"""Health checks: does a finished run's stats say the site changed under us or blocked us?

Pure functions over Scrapy stats dicts: no Scrapy, no database. The caller passes the current
run's stats and the stats of earlier complete runs (newest first), and turns the problems into
report lines and an exit status:

    ======  =============================================================================
    status  meaning
    ======  =============================================================================
    0       healthy: no check crossed its threshold
    4       ``EXIT_HEALTH``: the site changed under the crawler (a column went empty,
            extraction fell back, a field vanished, too many errors) or could not be
            crawled at all (the start page failed, nothing was found from it); what was
            archived is kept, the spider, the extractors or the network need a look
    5       ``EXIT_BLOCKED``: the site blocked or challenged the crawler; wins over 4
    ======  =============================================================================
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

EXIT_HEALTH = 4
EXIT_BLOCKED = 5

_COLUMN = "govcrawler/links/column/"
_COVERAGE = "govcrawler/coverage/"
_ARTICLES = _COVERAGE + "articles"
# Refusals (robots.txt, off-site) reach Scrapy's DownloaderStats as exceptions although no request
# was sent: they are policy, not errors, and are left out of the error rate.
_POLITE_RETRIES = "govcrawler/politeness/retry_after/retry/count"
_DROPPED_HTTP = "govcrawler/dropped/http_"
_FAILED = "govcrawler/failed/"
# Written by govcrawler.crawl.startpage (kept as strings here: this module imports no Scrapy).
_START_FATE = "govcrawler/start/"
_START_URL = "govcrawler/start_url"
_START_DETAIL = "govcrawler/start_detail"
_EXTRACTED = "govcrawler/extraction/"
# Only a distributed worker's own stats carry this: its share of a job, not the whole job.
_WORKER_SHARE = "govcrawler/distributed/job"
# Slack in share comparisons: a figure exactly at its threshold passes despite float rounding
# (a coverage drop from 90% to 70% computes as 0.20000000000000007).
_SLACK = 1e-9

Stats = Mapping[str, Any]
_T = TypeVar("_T", int, float)


@dataclass(frozen=True)
class Thresholds:
    """Limits a run must stay within; built from the GOVCRAWLER_* settings by the caller."""

    max_fallback_share: float = 0.2
    max_error_rate: float = 0.2
    max_coverage_drop: float = 0.2
    min_pages: int = 5

    @classmethod
    def from_settings(cls, get: Callable[[str], Any]) -> Thresholds:
        """Read `GOVCRAWLER_MAX_*` and `GOVCRAWLER_HEALTH_MIN_PAGES` through `get`.

        `get` is `dict.get` or a Scrapy `Settings.get`; missing settings keep the defaults and
        command-line strings ("0.3", "10") are converted. A bad value raises `ValueError`
        naming the setting.
        """
        d = cls()
        return cls(
            _setting(get, "GOVCRAWLER_MAX_FALLBACK_SHARE", d.max_fallback_share),
            _setting(get, "GOVCRAWLER_MAX_ERROR_RATE", d.max_error_rate),
            _setting(get, "GOVCRAWLER_MAX_COVERAGE_DROP", d.max_coverage_drop),
            _setting(get, "GOVCRAWLER_HEALTH_MIN_PAGES", d.min_pages),
        )


@dataclass(frozen=True)
class Problem:
    """One failed check, `message` a single line for the operator with the figures in it.

    `check` is "blocked", "start_page", "nothing_found", "empty_column",
    "extraction_fallback", "field_coverage" or "error_rate"; `blocked` is True only for
    "blocked".
    """

    check: str
    message: str
    blocked: bool


def check_run(stats: Stats, previous: Sequence[Stats], thresholds: Thresholds) -> list[Problem]:
    """Every problem in this run's `stats`, against `previous` complete runs (newest first).

    A figure exactly at its threshold passes; the share checks skip runs with fewer than
    `min_pages` pages, and field coverage compares with the newest previous run that recorded
    the field on at least `min_pages` articles. With no previous run nothing is compared.
    """
    return [
        *_blocked(stats),
        *_start_page(stats),
        *_nothing_found(stats),
        *_empty_columns(stats, previous),
        *_extraction_fallback(stats, thresholds),
        *_field_coverage(stats, previous, thresholds),
        *_error_rate(stats, thresholds),
    ]


def exit_status(problems: Sequence[Problem]) -> int:
    """0 for no problems, `EXIT_BLOCKED` if any problem is a block, else `EXIT_HEALTH`."""
    if not problems:
        return 0
    return EXIT_BLOCKED if any(problem.blocked for problem in problems) else EXIT_HEALTH


def _blocked(stats: Stats) -> Iterator[Problem]:
    total = _count(stats, "govcrawler/blocked")
    if total <= 0:
        return
    reasons = ", ".join(f"{r} {n}" for r, n in _with_prefix(stats, "govcrawler/blocked/").items())
    yield Problem(
        "blocked",
        f"blocked: {total} responses were block or challenge pages "
        f"({reasons or 'reasons not recorded'}): the site is refusing the crawler; "
        "wait before the next run and check the User-Agent, rate and source address",
        blocked=True,
    )


def _start_page(stats: Stats) -> Iterator[Problem]:
    """The start page ended in an error, a refusal, a block or a status other than 2xx/304:
    nothing could be crawled from it, on the first run as on any other."""
    failed = {fate: n for fate, n in _with_prefix(stats, _START_FATE).items() if not _ok(fate)}
    if not failed:
        return
    detail = stats.get(_START_DETAIL)
    yield Problem(
        "start_page",
        f"start page {_start_url(stats)} failed ({_pairs(failed)}"
        f"{f': {detail}' if isinstance(detail, str) and detail else ''}): the crawl could not "
        "begin; check the network (or gateway), the start URL and the site",
        blocked=False,
    )


def _nothing_found(stats: Stats) -> Iterator[Problem]:
    """The start page answered, yet the run saw no article link on any page and extracted
    no article: the start URL or the site's navigation changed."""
    fates = _with_prefix(stats, _START_FATE)
    if _WORKER_SHARE in stats or not fates or not all(_ok(fate) for fate in fates):
        return
    links = sum(_with_prefix(stats, _COLUMN).values())
    articles = sum(_with_prefix(stats, _EXTRACTED).values())
    if links or articles:
        return
    yield Problem(
        "nothing_found",
        f"start page {_start_url(stats)} answered ({_pairs(fates)}) but the run found no list "
        "page and no article (0 article links, 0 articles extracted): the start URL or the "
        "site's navigation changed",
        blocked=False,
    )


def _ok(fate: str) -> bool:
    return fate.isdigit() and (200 <= int(fate) < 300 or int(fate) == 304)


def _start_url(stats: Stats) -> str:
    url = stats.get(_START_URL)
    return url if isinstance(url, str) and url else "(URL not recorded)"


def _pairs(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{key} {n}" if n != 1 else key for key, n in sorted(counts.items()))


def _empty_columns(stats: Stats, previous: Sequence[Stats]) -> Iterator[Problem]:
    now = _with_prefix(stats, _COLUMN)
    last_seen: dict[str, tuple[int, int]] = {}  # column -> (age of its latest run, links then)
    for age, run in enumerate(previous):
        for column, links in _with_prefix(run, _COLUMN).items():
            last_seen.setdefault(column, (age, links))
    for column, (age, before) in sorted(last_seen.items()):
        if before > 0 and now.get(column, 0) == 0:
            yield Problem(
                "empty_column",
                f"column {column}: no article links this run ({before} in {_when(age)}): "
                "the list pages changed or are gone",
                blocked=False,
            )


def _extraction_fallback(stats: Stats, thresholds: Thresholds) -> Iterator[Problem]:
    generic = _count(stats, "govcrawler/extraction/generic")
    pages = generic + _count(stats, "govcrawler/extraction/container")
    if not _over(generic, pages, thresholds.max_fallback_share, thresholds.min_pages):
        return
    yield Problem(
        "extraction_fallback",
        f"extraction: {generic} of {pages} article pages ({_pct(generic / pages)}) needed the "
        f"generic fallback (limit {_pct(thresholds.max_fallback_share)}): "
        "the article page template probably changed",
        blocked=False,
    )


def _field_coverage(
    stats: Stats, previous: Sequence[Stats], thresholds: Thresholds
) -> Iterator[Problem]:
    articles = _count(stats, _ARTICLES)
    if articles < max(thresholds.min_pages, 1):
        return
    keys = {key for run in (stats, *previous) for key in run if key.startswith(_COVERAGE)}
    for field in sorted({key.removeprefix(_COVERAGE) for key in keys} - {"articles"}):
        baseline = _coverage_baseline(field, previous, thresholds.min_pages)
        if baseline is None:
            continue
        age, before = baseline
        found = _count(stats, _COVERAGE + field)
        drop = before - found / articles
        if drop > thresholds.max_coverage_drop + _SLACK:
            yield Problem(
                "field_coverage",
                f"field {field}: found on {found} of {articles} articles "
                f"({_pct(found / articles)}), down from {_pct(before)} in {_when(age)}: a drop "
                f"of {_num(drop)} points (limit {_num(thresholds.max_coverage_drop)}): "
                "the pages no longer show it where the extractor looks",
                blocked=False,
            )


def _coverage_baseline(
    field: str, previous: Sequence[Stats], min_pages: int
) -> tuple[int, float] | None:
    """(age, share) of the field in the newest previous run that has it and enough articles."""
    for age, run in enumerate(previous):
        articles = _count(run, _ARTICLES)
        if _COVERAGE + field in run and articles >= max(min_pages, 1):
            return age, _count(run, _COVERAGE + field) / articles
    return None


def _error_rate(stats: Stats, thresholds: Thresholds) -> Iterator[Problem]:
    """Pages that failed for good, of the pages requested. A retried attempt is not a page
    (Scrapy retries a 500 twice; a 503 waited out per its Retry-After and then answered is
    not a failure): pages = requests - retries; failures = pages dropped on a 5xx status after
    their retries + requests that ended in an error (`govcrawler/failed/<error>`)."""
    retries = _count(stats, "retry/count") + _count(stats, _POLITE_RETRIES)
    pages = max(_count(stats, "downloader/request_count") - retries, 0)
    server = sum(
        n
        for status, n in _with_prefix(stats, _DROPPED_HTTP).items()
        if status.isdigit() and 500 <= int(status) < 600
    )
    failed = sum(_with_prefix(stats, _FAILED).values())
    errors = server + failed
    if not _over(errors, pages, thresholds.max_error_rate, thresholds.min_pages):
        return
    yield Problem(
        "error_rate",
        f"errors: {errors} of {pages} pages ({_pct(errors / pages)}) failed after retries "
        f"({server} server errors 5xx, {failed} download errors; "
        f"limit {_pct(thresholds.max_error_rate)}): the site is down or struggling",
        blocked=False,
    )


def _with_prefix(stats: Stats, prefix: str) -> dict[str, int]:
    return {key.removeprefix(prefix): _count(stats, key) for key in stats if key.startswith(prefix)}


def _count(stats: Stats, key: str) -> int:
    """A counter from the stats; a missing or non-numeric value counts as 0."""
    value = stats.get(key, 0)
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return int(value) if ok else 0


def _when(age: int) -> str:
    return "the previous run" if age == 0 else f"an earlier run, {age + 1} runs ago"


def _over(part: int, whole: int, limit: float, min_pages: int) -> bool:
    """True when part/whole exceeds `limit` and `whole` is big enough to prove anything."""
    return whole >= max(min_pages, 1) and part / whole > limit + _SLACK


def _num(share: float) -> str:
    """A share as a number of percent: 0.25 -> "25", 0.2167 -> "21.7"."""
    return f"{share * 100:.1f}".removesuffix(".0")


def _pct(share: float) -> str:
    return _num(share) + "%"


def _setting(get: Callable[[str], Any], name: str, default: _T) -> _T:
    """The setting converted to the default's type: a float share 0..1, or a count of 0 or more."""
    raw = get(name)
    if raw is None or raw == "":
        return default
    share = isinstance(default, float)
    try:
        value = type(default)(raw)
    except (TypeError, ValueError):
        value = None
    if value is None or not 0 <= value <= (1 if share else math.inf):  # NaN fails too
        bounds = "a number from 0 to 1" if share else "a whole number, 0 or more"
        raise ValueError(f"{name} must be {bounds}, got {raw!r}")
    return value
