"""The `govcrawler` command: crawl the site (or a saved copy of it) into an archive, then
search, show, export and count what it holds.

Scrapy is imported only inside `crawl`; the other commands need only `storage`. The read
commands never create or upgrade an archive; their queries live in `storage.read`, their
formatting here.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session

import storage
from govcrawler import settings as defaults
from govcrawler.extract.urls import canonical_url
from govcrawler.lock import ArchiveLock, ArchiveLocked, lock_path
from govcrawler.render import (
    count,
    echo_article,
    echo_diff,
    echo_json,
    run_summary,
    runs_text,
    stats_text,
    version_summary,
    when,
)
from storage import read
from storage.search import search_articles

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_USAGE = 1  # a bad argument, database URL or archive: the message says what to do
EXIT_CRAWL_FAILED = 3  # the crawl stopped before finishing (e.g. the archive could not be written)
EXIT_LOCKED = 75  # another crawl holds the archive: try again later (sysexits EX_TEMPFAIL)

database_option = click.option(
    "--database",
    metavar="URL",
    default=defaults.GOVCRAWLER_DATABASE_URL,
    show_default=True,
    help="SQLAlchemy URL of the archive (or set GOVCRAWLER_DATABASE_URL).",
)


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


def one_line_errors(command: F) -> F:
    """Turn the archive's domain errors into one line on stderr and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except storage.ArchiveError as error:
            raise click.ClickException(str(error)) from error
        except SQLAlchemyError as error:
            reason = getattr(error, "orig", None) or error.__class__.__name__
            raise click.ClickException(
                f"the archive cannot be used: {reason} (check --database)"
            ) from error

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="govcrawler")
def main() -> None:
    """Archive the Open Governance section of www.sc.gov.cn into SQLite."""


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
) -> None:
    """Crawl the Open Governance section into the archive and print a summary.

    Incremental: lists are read again, known articles only when due. Exit status 0 healthy,
    3 failed, 4 a health check failed (the site changed), 5 blocked, 75 another crawl holds
    the archive.

    Example: govcrawler crawl --replay tests/fixtures/site --database sqlite:///demo.sqlite3
    """
    from govcrawler.runner import run_crawl  # Scrapy is imported here, not at start-up

    storage.open_archive(database).dispose()  # a bad URL or archive fails before any request
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
    try:
        with ArchiveLock(lock_path(database)):
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


@main.group()
def db() -> None:
    """Inspect or upgrade the archive's schema."""


@db.command("upgrade")
@database_option
@one_line_errors
def db_upgrade(database: str) -> None:
    """Upgrade the archive to this version's schema, keeping every row.

    Example: govcrawler db upgrade --database sqlite:///archive.sqlite3
    """
    engine = storage.create_archive_engine(database)
    before = storage.schema_revision(engine)
    storage.upgrade_archive(engine)
    click.echo(
        f"{describe_database(database)}: schema {before} -> {storage.schema_revision(engine)}"
    )


@db.command("revision")
@database_option
@one_line_errors
def db_revision(database: str) -> None:
    """Print the archive's schema revision and the one this version needs.

    Example: govcrawler db revision
    """
    engine = storage.create_archive_engine(database)
    current, head = storage.schema_revision(engine), storage.head_revision()
    state = "up to date" if current == head else "run `govcrawler db upgrade`"
    click.echo(f"{describe_database(database)}: schema {current}, needs {head} ({state})")


@main.command()
@click.argument("query")
@click.option("--since", metavar="YYYY-MM-DD", help="Only articles published on or after this day.")
@click.option("--until", metavar="YYYY-MM-DD", help="Only articles published on or before it.")
@click.option("--column", metavar="ID_OR_NAME", help="Only this column (10766, or its name).")
@click.option(
    "--limit",
    type=click.IntRange(min=1, max=1000),
    default=20,
    show_default=True,
    help="Most hits shown.",
)
@json_option
@database_option
@one_line_errors
def search(
    query: str,
    since: str | None,
    until: str | None,
    column: str | None,
    limit: int,
    as_json: bool,
    database: str,
) -> None:
    """Search titles and bodies, best matches first.

    Prints each hit's id, date, column, title, URL and a snippet with the matches marked.
    QUERY is words (all must match), "a phrase", OR, NOT, prefix*; Chinese works as typed.

    Example: govcrawler search "giant panda" --since 2019-01-01
    """
    bold = not as_json and sys.stdout.isatty()
    mark = (click.style("", bold=True, reset=False), click.style("", reset=True)) if bold else None
    with archive_session(database) as session:
        hits = search_articles(
            session,
            query,
            since=parse_day(since, "--since"),
            until=parse_day(until, "--until"),
            column=column,
            limit=limit,
            mark=mark or ("[", "]"),
        )
    if as_json:
        fields = ("article_id", "url", "title", "published_on", "column_name", "snippet", "score")
        echo_json([{name: getattr(hit, name) for name in fields} for hit in hits])
        return
    if not hits:
        click.echo(f"no articles match {query!r}")
        return
    for hit in hits:
        day = hit.published_on.isoformat() if hit.published_on else "(no date)"
        click.echo(f"{hit.article_id}  {day}  {hit.column_name or '-'}  {hit.title}")
        click.echo(f"    {hit.url}\n    {hit.snippet}\n")
    more = f" (the first {limit}: raise --limit for more)" if len(hits) == limit else ""
    click.echo(f"{count(len(hits), 'article')}{more}")


@main.command()
@click.argument("article", metavar="ID_OR_URL")
@click.option("--versions", is_flag=True, help="List every version of the article.")
@click.option("--diff", is_flag=True, help="Diff the two latest versions, paragraph by paragraph.")
@json_option
@database_option
@one_line_errors
def show(article: str, versions: bool, diff: bool, as_json: bool, database: str) -> None:
    """Print one article, its links and its body.

    ID_OR_URL is the archive id, or any URL of the article (an alias, http:// or https://).

    Example: govcrawler show 12 --versions --diff
    """
    key = int(article) if article.strip().isdigit() else canonical_url(article)
    with archive_session(database) as session:
        found = read.find_article(session, key) if key is not None else None
        if found is None:
            raise click.ClickException(
                f"no article {article!r} in the archive (give an id or URL; search finds ids)"
            )
        detail = read.article_detail(session, found)
        history = read.article_versions(session, found.id) if versions else []
        changes = read.version_diff(session, found.id) if diff else None
    if as_json:
        output = dataclasses.asdict(detail)
        if versions:
            output["versions"] = [version_summary(v) for v in history]
        if diff:
            output["diff"] = changes.lines if changes else None
        echo_json(output)
        return
    echo_article(detail)
    if versions:
        click.echo("\nversions:")
        for v in history:
            click.echo(
                f"  {v.version_no}  first seen {when(v.first_seen_at)}  last seen "
                f"{when(v.last_seen_at)}  {v.content_digest[:12]}  {v.title}"
            )
    click.echo(f"\n{detail.body}")
    if diff:
        click.echo()
        echo_diff(changes)


@main.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv", "warc"]),
    required=True,
    help="Output format.",
)
@click.option(
    "--since",
    metavar="YYYY-MM-DD",
    help="jsonl/csv: articles published on or after this day; warc: captures fetched since then.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default stdout; required for warc).",
)
@database_option
@one_line_errors
def export(fmt: str, since: str | None, output: Path | None, database: str) -> None:
    """Export articles (jsonl, csv) or raw captures (warc).

    jsonl and csv (UTF-8) have one row per article, to stdout or -o FILE; warc writes a
    gzipped WARC file of every capture, a revisit record for each repeated one.

    Example: govcrawler export --format warc -o archive.warc.gz
    """
    from govcrawler import export as writers  # warcio only when exporting

    day = parse_day(since, "--since")
    if fmt == "warc" and output is None:
        raise click.ClickException("--format warc writes a file: add -o FILE.warc.gz")
    try:
        with archive_session(database) as session:
            if output is not None and fmt == "warc":
                summary = writers.export_warc(session, output, day, describe_database(database))
            else:
                summary = writers.export_articles(session, fmt, output, day)
    except OSError as error:
        raise click.ClickException(
            f"cannot write {output or 'stdout'}: {error.strerror}"
        ) from error
    click.echo(summary, err=True)


@main.command()
@json_option
@database_option
@one_line_errors
def stats(as_json: bool, database: str) -> None:
    """Count what the archive holds.

    Articles, versions, aliases, near-duplicates, captures and their bytes, columns, years.

    Example: govcrawler stats --json
    """
    with archive_session(database) as session:
        counts = read.archive_stats(session)
    if as_json:
        output = dataclasses.asdict(counts)
        output["stored_ratio"] = counts.stored_ratio
        output["per_column"] = [
            {"column_id": c, "column_name": name, "articles": n} for c, name, n in counts.per_column
        ]
        output["per_year"] = [{"year": y, "articles": n} for y, n in counts.per_year]
        output["archive"] = describe_database(database)
        echo_json(output)
        return
    click.echo(stats_text(counts, describe_database(database)))


@contextmanager
def archive_session(database: str) -> Iterator[Session]:
    """A session on an existing archive at the current schema: never created nor upgraded."""
    path = sqlite_path(database)
    if path is not None and not path.is_file():
        raise click.ClickException(f"no archive at {path} (crawl first, or check --database)")
    engine = storage.open_archive(database, upgrade=False)
    try:
        with storage.session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def sqlite_path(database: str) -> Path | None:
    """The file of a SQLite URL (None for other databases, in-memory ones and bad URLs)."""
    try:
        parsed = make_url(database)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser()


def parse_day(value: str | None, option: str) -> date | None:
    """A YYYY-MM-DD option value, or one clear line."""
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise click.ClickException(
            f"{option} wants a date like 2022-09-26, not {value!r}"
        ) from None


def describe_database(url: str) -> str:
    """Where an archive lives, for humans: the file path for SQLite, the URL sans password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return str(Path(parsed.database).resolve())
    return parsed.render_as_string(hide_password=True)
