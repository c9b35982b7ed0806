"""What every `govcrawler` command shares: the group, the options, one-line errors, and
opening an existing archive for reading."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

import storage
from govcrawler import settings as defaults
from govcrawler.exceptions import GovcrawlerError

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
    """Turn the archive's and govcrawler's domain errors into one line on stderr, exit 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (storage.ArchiveError, GovcrawlerError) as error:
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


@contextmanager
def archive_session(database: str) -> Iterator[Session]:
    """A session on an existing archive at the current schema, opened read-only: never
    created nor upgraded, and nothing written to it (not even SQLite's journal mode)."""
    engine = storage.open_archive(database, read_only=True)
    try:
        with storage.session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


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
