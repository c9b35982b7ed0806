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

from collections.abc import Iterator, Mapping, Sequence

from govcrawler.runs.checks import (
    Problem,
    Stats,
    Thresholds,
    count,
    over,
    pct,
    when,
    with_prefix,
)
from govcrawler.runs.coverage import DOCUMENTS, document_checks, field_coverage

__all__ = ["EXIT_BLOCKED", "EXIT_HEALTH", "Problem", "Thresholds", "check_run", "exit_status"]

EXIT_HEALTH = 4
EXIT_BLOCKED = 5

_COLUMN = "govcrawler/links/column/"
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
        *field_coverage(stats, previous, thresholds),
        *document_checks(stats, previous, thresholds),
        *_error_rate(stats, thresholds),
        *_file_losses(stats, thresholds),
    ]


def exit_status(problems: Sequence[Problem]) -> int:
    """0 for no problems, `EXIT_BLOCKED` if any problem is a block, else `EXIT_HEALTH`."""
    if not problems:
        return 0
    return EXIT_BLOCKED if any(problem.blocked for problem in problems) else EXIT_HEALTH


def _blocked(stats: Stats) -> Iterator[Problem]:
    total = count(stats, "govcrawler/blocked")
    if total <= 0:
        return
    reasons = ", ".join(f"{r} {n}" for r, n in with_prefix(stats, "govcrawler/blocked/").items())
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
    failed = {fate: n for fate, n in with_prefix(stats, _START_FATE).items() if not _ok(fate)}
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
    fates = with_prefix(stats, _START_FATE)
    if _WORKER_SHARE in stats or not fates or not all(_ok(fate) for fate in fates):
        return
    links = sum(with_prefix(stats, _COLUMN).values())
    articles = sum(with_prefix(stats, _EXTRACTED).values()) + count(stats, DOCUMENTS)
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
    now = with_prefix(stats, _COLUMN)
    last_seen: dict[str, tuple[int, int]] = {}  # column -> (age of its latest run, links then)
    for age, run in enumerate(previous):
        for column, links in with_prefix(run, _COLUMN).items():
            last_seen.setdefault(column, (age, links))
    for column, (age, before) in sorted(last_seen.items()):
        if before > 0 and now.get(column, 0) == 0:
            yield Problem(
                "empty_column",
                f"column {column}: no article links this run ({before} in {when(age)}): "
                "the list pages changed or are gone",
                blocked=False,
            )


def _extraction_fallback(stats: Stats, thresholds: Thresholds) -> Iterator[Problem]:
    generic = count(stats, "govcrawler/extraction/generic")
    pages = generic + count(stats, "govcrawler/extraction/container")
    if not over(generic, pages, thresholds.max_fallback_share, thresholds.min_pages):
        return
    yield Problem(
        "extraction_fallback",
        f"extraction: {generic} of {pages} article pages ({pct(generic / pages)}) needed the "
        f"generic fallback (limit {pct(thresholds.max_fallback_share)}): "
        "the article page template probably changed",
        blocked=False,
    )


def _error_rate(stats: Stats, thresholds: Thresholds) -> Iterator[Problem]:
    """Pages that failed for good, of the pages requested. A retried attempt is not a page
    (Scrapy retries a 500 twice; a 503 waited out per its Retry-After and then answered is
    not a failure): pages = requests - retries; failures = pages dropped on a 5xx status after
    their retries + requests that ended in an error (`govcrawler/failed/<error>`)."""
    retries = count(stats, "retry/count") + count(stats, _POLITE_RETRIES)
    pages = max(count(stats, "downloader/request_count") - retries, 0)
    server = sum(
        n
        for status, n in with_prefix(stats, _DROPPED_HTTP).items()
        if status.isdigit() and 500 <= int(status) < 600
    )
    failed = sum(with_prefix(stats, _FAILED).values())
    errors = server + failed
    if not over(errors, pages, thresholds.max_error_rate, thresholds.min_pages):
        return
    yield Problem(
        "error_rate",
        f"errors: {errors} of {pages} pages ({pct(errors / pages)}) failed after retries "
        f"({server} server errors 5xx, {failed} download errors; "
        f"limit {pct(thresholds.max_error_rate)}): the site is down or struggling",
        blocked=False,
    )


def _file_losses(stats: Stats, thresholds: Thresholds) -> Iterator[Problem]:
    """Files whose body was lost on the way (cut mid-body: answered, so among the statuses;
    timed out: not), of the files asked for: a site that closes connections early, or a proxy
    in the way, loses every file."""
    timeouts = count(stats, "govcrawler/files/timeout")
    asked = sum(with_prefix(stats, "govcrawler/files/status/").values()) + timeouts
    lost = count(stats, "govcrawler/files/cut") + timeouts
    if not over(lost, asked, thresholds.max_error_rate, thresholds.min_pages):
        return
    yield Problem(
        "file_losses",
        f"files: {lost} of {asked} downloads ({pct(lost / asked)}) were cut or timed out "
        f"(limit {pct(thresholds.max_error_rate)}): bodies are not arriving whole",
        blocked=False,
    )
