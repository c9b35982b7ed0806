"""Commands that run and watch crawls: `crawl`, `runs`.

Scrapy is imported only inside `crawl`, so the other commands start fast."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import click

import storage
from govcrawler import settings as defaults
from govcrawler.cli.common import (
    EXIT_CRAWL_FAILED,
    EXIT_LOCKED,
    archive_session,
    database_option,
    describe_database,
    json_option,
    main,
    one_line_errors,
)
from govcrawler.cli.lock import ArchiveLock, ArchiveLocked, lock_path, valid_worker_id
from govcrawler.cli.render import echo_json, run_summary, runs_text


@main.command()
@click.option(
    "--replay",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Crawl a saved copy of the site (wget --mirror layout) instead of the network.",
)
@database_option
@click.option("--start-url", default=None, help="First page (default: the English home page).")
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
    replay: Path | None,
    database: str,
    start_url: str | None,
    full: bool,
    max_runtime: int | None,
    log_file: Path | None,
    log_level: str | None,
    quiet: bool,
    redis_url: str | None,
    worker_id: str | None,
) -> None:
    """Crawl the Open Governance section into the archive and print a summary.

    Incremental: lists are read again, known articles only when due. With --redis-url,
    several workers (on several machines) share one crawl. Exit status 0 healthy, 1 a bad
    argument (archive, Redis), 3 failed, 4 a health check failed (the site changed),
    5 blocked, 75 another crawl holds the archive (or this worker id).

    Example: govcrawler crawl --replay tests/fixtures/site --database sqlite:///demo.sqlite3
    """
    from govcrawler.cli.runner import run_crawl  # Scrapy is imported here, not at start-up

    storage.open_archive(database).dispose()  # a bad URL or archive fails before any request
    check_delay(defaults.GOVCRAWLER_DOWNLOAD_DELAY)
    level = (log_level or ("INFO" if log_file else "WARNING")).upper()
    overrides: dict[str, Any] = {
        "GOVCRAWLER_DATABASE_URL": database,
        "GOVCRAWLER_FULL": full,
        "LOG_LEVEL": level,
        "LOG_ENABLED": bool(log_file) or not quiet or log_level is not None,
    }
    if replay is not None:
        overrides["GOVCRAWLER_REPLAY_DIR"] = str(replay.resolve())
    if start_url:
        overrides["GOVCRAWLER_START_URL"] = start_url
    if max_runtime:
        overrides["CLOSESPIDER_TIMEOUT"] = max_runtime
    lock = lock_path(database, lock_dir=defaults.GOVCRAWLER_LOCK_DIR)
    if redis_url:
        worker = distributed_worker(redis_url, worker_id)
        overrides |= {"GOVCRAWLER_REDIS_URL": redis_url, "GOVCRAWLER_WORKER_ID": worker}
        lock = lock_path(database, worker, defaults.GOVCRAWLER_LOCK_DIR)
    try:
        with ArchiveLock(lock):
            result = run_crawl(overrides, log_file)
    except ArchiveLocked as error:
        click.echo(f"govcrawler: {error}", err=True)
        sys.exit(EXIT_LOCKED)
    if not quiet or result.exit_status:
        click.echo(result.summary(describe_database(database)))
    for problem in result.problems:
        click.echo(f"PROBLEM: {problem}", err=True)
    if result.exit_status == EXIT_CRAWL_FAILED:
        click.echo(f"crawl stopped early: {result.finish_reason}", err=True)
    sys.exit(result.exit_status)


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
@json_option
@database_option
@one_line_errors
def runs(limit: int, as_json: bool, database: str) -> None:
    """List the latest crawl runs: when, how they ended, what they did, what was wrong.

    Example: govcrawler runs --limit 5
    """
    from storage.runs import recent_runs

    with archive_session(database) as session:
        latest = recent_runs(session, limit)
    if as_json:
        echo_json([run_summary(run) for run in latest])
        return
    if not latest:
        click.echo("no crawl runs yet")
        return
    click.echo(runs_text(latest))
