"""Database URLs: which archive a URL names, checked before anything is opened, each mistake
said in one line with the URL to write instead."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, unquote

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from storage.exceptions import ArchiveError

BACKENDS = ("sqlite", "postgresql")


def archive_url(url: str, read_only: bool = False) -> URL:
    """The SQLAlchemy URL of the archive at `url`. `read_only`: a SQLite file must exist and is
    opened with SQLite's `mode=ro` (nothing can be written through it, not even a new file)."""
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise ArchiveError(
            f"not a database URL: {url!r} (try sqlite:///archive.sqlite3)"
        ) from error
    backend = parsed.get_backend_name()
    if backend not in BACKENDS:
        raise ArchiveError(
            f"govcrawler keeps its archive in SQLite or PostgreSQL, not {backend}: write "
            "sqlite:///archive.sqlite3 or postgresql+psycopg://user@host/database"
        )
    if backend == "postgresql":
        return _postgresql(parsed)
    return _sqlite(parsed, read_only)


def _postgresql(parsed: URL) -> URL:
    if parsed.drivername == "postgresql":  # SQLAlchemy's default would be psycopg2
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_driver_name() != "psycopg":
        raise ArchiveError(
            "PostgreSQL archives use the psycopg driver: write postgresql+psycopg://… "
            f"instead of {parsed.drivername}://…"
        )
    return parsed


def _sqlite(parsed: URL, read_only: bool) -> URL:
    if parsed.host:  # sqlite://archive.sqlite3: the file name parsed as a host
        name = "/".join(part for part in (parsed.host, parsed.database) if part)
        raise ArchiveError(
            f"a SQLite URL has three slashes before a file name: write sqlite:///{name} "
            f"(four before an absolute path: sqlite:////srv/{name})"
        )
    if parsed.database in (None, "", ":memory:"):
        return parsed
    path = Path(parsed.database).expanduser().resolve()
    if not path.parent.is_dir():
        raise ArchiveError(f"the archive's directory does not exist: {path.parent}")
    if not read_only:
        return parsed
    if not path.is_file():
        raise ArchiveError(f"no archive at {path} (crawl first, or check --database)")
    # A URI filename: "?", "#" and "%" in the path are escaped, the rest is SQLite's options.
    return parsed.set(
        database="file:" + quote(str(path)),
        query={**parsed.query, "mode": "ro", "uri": "true"},
    )


def sqlite_file(parsed: URL) -> Path | None:
    """The file of a SQLite URL as `archive_url` returns it (None for other databases)."""
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    database = parsed.database
    if parsed.query.get("uri") == "true" and database.startswith("file:"):
        return Path(unquote(database.removeprefix("file:")))
    return Path(database).expanduser().resolve()
