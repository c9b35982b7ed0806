"""The `govcrawler` command: crawl the site (or a saved copy of it) into an archive.

Scrapy is imported only inside `crawl`; the other commands need only `storage`.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

import storage
from govcrawler import settings as defaults

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK = 0
EXIT_USAGE = 1  # a bad argument, database URL or archive: the message says what to do
EXIT_CRAWL_FAILED = 3  # the crawl stopped before finishing (e.g. the archive could not be written)

database_option = click.option(
    "--database",
    metavar="URL",
    default=defaults.GOVCRAWLER_DATABASE_URL,
    show_default=True,
    help="SQLAlchemy URL of the archive (or set GOVCRAWLER_DATABASE_URL).",
)


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
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    default="WARNING",
    show_default=True,
    help="Scrapy's log level; WARNING keeps a healthy run quiet.",
)
@one_line_errors
def crawl(replay: Path | None, database: str, start_url: str | None, log_level: str) -> None:
    """Crawl the Open Governance section into the archive and print a summary.

    Example: govcrawler crawl --replay tests/fixtures/site --database sqlite:///demo.sqlite3
    """
    from govcrawler.runner import run_crawl  # Scrapy is imported here, not at start-up

    storage.open_archive(database).dispose()  # a bad URL or archive fails before any request
    overrides: dict[str, Any] = {"GOVCRAWLER_DATABASE_URL": database, "LOG_LEVEL": log_level}
    if replay is not None:
        overrides["GOVCRAWLER_REPLAY_DIR"] = str(replay.resolve())
    if start_url:
        overrides["GOVCRAWLER_START_URL"] = start_url
    result = run_crawl(overrides)
    click.echo(result.summary(describe_database(database)))
    if result.finish_reason != "finished":
        click.echo(f"crawl stopped early: {result.finish_reason}", err=True)
        sys.exit(EXIT_CRAWL_FAILED)


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


def describe_database(url: str) -> str:
    """Where an archive lives, for humans: the file path for SQLite, the URL sans password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return str(Path(parsed.database).resolve())
    return parsed.render_as_string(hide_password=True)
