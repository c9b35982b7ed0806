"""Commands on the archive's schema: `db upgrade`, `db revision`."""

from __future__ import annotations

import click

import storage
from govcrawler.cli.common import database_option, describe_database, main, one_line_errors


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
    try:
        before = storage.schema_revision(engine)  # another program's database is refused here
        storage.upgrade_archive(engine)
        after = storage.schema_revision(engine)
    finally:
        engine.dispose()
    click.echo(f"{describe_database(database)}: schema {before} -> {after}")


@db.command("revision")
@database_option
@one_line_errors
def db_revision(database: str) -> None:
    """Print the archive's schema revision and the one this version needs.

    Example: govcrawler db revision
    """
    engine = storage.create_archive_engine(database, read_only=True)  # writes nothing
    try:
        current, head = storage.schema_revision(engine), storage.head_revision()
    finally:
        engine.dispose()
    state = "up to date" if current == head else "run `govcrawler db upgrade`"
    click.echo(f"{describe_database(database)}: schema {current}, needs {head} ({state})")
