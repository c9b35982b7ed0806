"""Commands that run and watch crawls: `crawl`, `runs`.

`crawl` runs every spider of the section (or those named by `--spider`) one after the other,
under one archive lock, and exits with the worst of their statuses (`worst_status`). Scrapy is
imported only inside `crawl`, so the other commands start fast."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

import storage
from govcrawler import settings as defaults
from govcrawler.cli.common import (
    EXIT_CRAWL_FAILED,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_USAGE,
    archive_session,
    database_option,
    describe_database,
    json_option,
    main,
    one_line_errors,
)
from govcrawler.cli.lock import ArchiveLock, ArchiveLocked, lock_path, valid_worker_id
from govcrawler.cli.render import echo_json, run_summary, runs_text
from govcrawler.runs.health import EXIT_BLOCKED, EXIT_HEALTH

if TYPE_CHECKING:
    from govcrawler.cli.runner import CrawlResult


@main.command()
@click.option(
    "--replay",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    multiple=True,
    help="Crawl a saved copy of the site (wget --mirror layout) instead of the network; "
    "repeated, copies overlay one another (the first that has a page answers it).",
)
@database_option
@click.option(
    "--spider",
    "spiders",
    metavar="NAME",
    multiple=True,
    help="Crawl with this spider only (repeatable) [every spider of the section].",
)
@click.option(
    "--start-url", default=None, help="First page of the one spider crawled [the spider's own]."
)
@click.option("--full", is_flag=True, help="Fetch every page again, known or not.")
@click.option(
    "--max-runtime",
    metavar="DURATION",
    callback=lambda _ctx, _param, value: parse_duration(value),
    help="Stop cleanly after this long: 90s, 45m, 2h.",
)
@click.option(
    "--log-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the log here (rotated at 10 MB, 5 kept) instead of stderr.",
)
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    default=None,
    help="Log level [WARNING on stderr, INFO in a --log-file].",
)
@click.option("--quiet", is_flag=True, help="Print nothing when the run is healthy (cron).")
@click.option(
    "--redis-url",
    metavar="URL",
    default=defaults.GOVCRAWLER_REDIS_URL or None,
    help="Distributed crawl: share the job with every worker on this Redis "
    "(or set GOVCRAWLER_REDIS_URL).",
)
@click.option(
    "--worker-id",
    metavar="ID",
    default=None,
    help="This worker's name in a distributed crawl [GOVCRAWLER_WORKER_ID, else the host name].",
)
@one_line_errors
def crawl(
    replay: tuple[Path, ...],
    database: str,
    spiders: tuple[str, ...],
    start_url: str | None,
    full: bool,
    max_runtime: int | None,
    log_file: Path | None,
    log_level: str | None,
    quiet: bool,
    redis_url: str | None,
    worker_id: str | None,
) -> None:
    """Crawl the Open Governance section into the archive and print a summary per spider.

    Every spider of the section crawls, one after the other (--spider NAME picks some).
    Incremental: lists are read again, known articles only when due. With --redis-url,
    several workers (on several machines) share one crawl. Exit status: the worst of the
    spiders': 75 another crawl holds the archive (or this worker id), 5 blocked, 4 a health
    check failed (the site changed), 3 failed, 1 a bad argument (archive, Redis, spider),
    0 healthy.

    Example: govcrawler crawl --replay tests/fixtures/site --database sqlite:///demo.sqlite3
    """
    from govcrawler.cli.runner import run_crawls  # Scrapy is imported here, not at start-up

    names = chosen_spiders(spiders, start_url)
    check_delay(defaults.GOVCRAWLER_DOWNLOAD_DELAY)
    # Redis before the archive: a worker that cannot join leaves no new archive file behind.
    worker = distributed_worker(redis_url, worker_id) if redis_url else ""
    storage.open_archive(database).dispose()  # a bad URL or archive fails before any request
    level = (log_level or ("INFO" if log_file else "WARNING")).upper()
    overrides: dict[str, Any] = {
        "GOVCRAWLER_DATABASE_URL": database,
        "GOVCRAWLER_FULL": full,
        "LOG_LEVEL": level,
        "LOG_ENABLED": bool(log_file) or not quiet or log_level is not None,
    }
    if replay:
        overrides["GOVCRAWLER_REPLAY_DIR"] = os.pathsep.join(str(p.resolve()) for p in replay)
    lock = lock_path(database, lock_dir=defaults.GOVCRAWLER_LOCK_DIR)
    if worker:
        overrides |= {"GOVCRAWLER_REDIS_URL": redis_url, "GOVCRAWLER_WORKER_ID": worker}
        lock = lock_path(database, worker, defaults.GOVCRAWLER_LOCK_DIR)
    arguments = {"start_url": start_url} if start_url else {}
    try:
        with ArchiveLock(lock):
            results = run_crawls(names, overrides, arguments, log_file, max_runtime)
    except ArchiveLocked as error:
        click.echo(f"govcrawler: {error}", err=True)
        sys.exit(EXIT_LOCKED)
    echo_results(results, describe_database(database), quiet)
    sys.exit(worst_status([result.exit_status for result in results]))


def echo_results(results: list[CrawlResult], where: str, quiet: bool) -> None:
    """Each spider's summary (with `quiet`, only those of unhealthy runs), then its problems
    on stderr, each ending in the spider's name."""
    shown = [result for result in results if not quiet or result.exit_status]
    if shown:
        click.echo(f"archive: {where}")
        click.echo("\n\n".join(result.summary() for result in shown))
    for result in results:
        for problem in result.problems:
            click.echo(f"PROBLEM: {problem} [{result.spider}]", err=True)
        if result.exit_status == EXIT_CRAWL_FAILED:
            reason = result.error or result.finish_reason
            click.echo(f"crawl stopped early: {reason} [{result.spider}]", err=True)


# The order in which a spider's exit status wins over another's: the first one that needs the
# operator most (another crawl running, the site blocking us, the site changed, the archive
# failing), then a bad argument, then success.
STATUS_ORDER = (EXIT_LOCKED, EXIT_BLOCKED, EXIT_HEALTH, EXIT_CRAWL_FAILED, EXIT_USAGE, EXIT_OK)


def worst_status(statuses: list[int]) -> int:
    """The status that wins among the spiders' (`STATUS_ORDER`; one it does not know wins
    over all); 0 when there are none."""
    if not statuses:
        return EXIT_OK
    rank = {status: place for place, status in enumerate(STATUS_ORDER)}
    return min(statuses, key=lambda status: rank.get(status, -1))


def chosen_spiders(picked: tuple[str, ...], start_url: str | None) -> list[str]:
    """The spiders to crawl with, in order, once their start pages and scopes are sound."""
    from govcrawler.cli.runner import crawl_settings, spider_classes
    from govcrawler.spiders.site import SiteSpider

    settings = crawl_settings({})
    known = spider_classes(settings)
    unknown = [name for name in picked if name not in known]
    if unknown or not known:
        raise click.ClickException(
            f"no spider named {unknown[0]!r}; the spiders are: {', '.join(known)}"
            if unknown
            else "no spiders: SPIDER_MODULES names none"
        )
    names = list(dict.fromkeys(picked)) or list(known)
    one_spider = "--start-url" if start_url else None
    if not one_spider and defaults.GOVCRAWLER_START_URL:
        one_spider = "GOVCRAWLER_START_URL"
    if one_spider and len(names) > 1:
        raise click.ClickException(
            f"{one_spider} is the start page of one spider: pick it with --spider NAME "
            f"(the spiders are: {', '.join(names)})"
        )
    arguments = {"start_url": start_url} if start_url else {}
    for name in names:
        spider = known[name]
        try:
            if issubclass(spider, SiteSpider):
                spider.configured(settings, arguments)
        except ValueError as error:
            raise click.ClickException(f"{name}: {error}") from None
    return names


def check_delay(value: str) -> None:
    """GOVCRAWLER_DOWNLOAD_DELAY, if set, is a number of seconds."""
    try:
        if value and float(value) >= 0:
            return
    except ValueError:
        pass
    if value:
        raise click.ClickException(f"GOVCRAWLER_DOWNLOAD_DELAY wants seconds, not {value!r}")


def distributed_worker(redis_url: str, worker_id: str | None) -> str:
    """This worker's id, once Redis answers and no live worker on another host has the id."""
    try:
        from govcrawler.distributed import workers
    except ImportError as error:
        raise click.ClickException(
            f"a distributed crawl needs scrapy-redis: pip install 'govcrawler[distributed]' "
            f"({error})"
        ) from None
    from govcrawler.exceptions import RedisUnavailable

    worker = worker_id or defaults.GOVCRAWLER_WORKER_ID or workers.default_worker_id()
    if not valid_worker_id(worker):
        raise click.BadParameter(
            f"letters, digits, '.', '_' and '-' (64 at most), not {worker!r}",
            param_hint="--worker-id",
        )
    try:
        workers.check_redis(redis_url)
        holder = workers.worker_holder(redis_url, defaults.GOVCRAWLER_REDIS_PREFIX, worker)
    except RedisUnavailable as error:
        raise click.ClickException(f"{error} (check --redis-url)") from None
    if holder:
        click.echo(
            f"govcrawler: worker {worker!r} is running ({holder}); "
            "give this one another --worker-id",
            err=True,
        )
        sys.exit(EXIT_LOCKED)
    return worker


def parse_duration(value: str | None) -> int | None:
    """Seconds in `90s`, `45m`, `2h` or a plain number of seconds."""
    if value is None:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*([smh]?)\s*", value.lower())
    if not match or int(match[1]) == 0:
        raise click.BadParameter(f"want a duration like 90s, 45m or 2h, not {value!r}")
    return int(match[1]) * {"": 1, "s": 1, "m": 60, "h": 3600}[match[2]]


@main.command()
@click.option(
    "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Most runs shown."
)
@click.option("--spider", metavar="NAME", default=None, help="Only the runs of this spider.")
@json_option
@database_option
@one_line_errors
def runs(limit: int, spider: str | None, as_json: bool, database: str) -> None:
    """List the latest crawl runs, one per spider crawled: which spider, when, how they ended,
    what they did, what was wrong.

    Example: govcrawler runs --limit 5
    """
    from storage.runs import recent_runs

    with archive_session(database) as session:
        latest = recent_runs(session, limit, spider)
    if as_json:
        echo_json([run_summary(run) for run in latest])
        return
    if not latest:
        click.echo("no crawl runs yet")
        return
    click.echo(runs_text(latest))
