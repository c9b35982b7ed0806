"""Opening an archive: engine, SQLite pragmas, schema upgrades, sessions.

The archive is a SQLite file by default; a `postgresql+psycopg://` URL puts it in PostgreSQL,
with the same tables, migrations and views (see docs/schema.md)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import sessionmaker

from storage.exceptions import ArchiveError
from storage.writing import ArchiveSession

logger = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")
UPGRADE_LOCK = 0x676F76637261776C  # PostgreSQL advisory lock key of schema upgrades ("govcrawl")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def create_archive_engine(url: str) -> Engine:
    """An engine for the archive at `url`; SQLite gets WAL, a busy timeout and foreign keys."""
    try:
        parsed = make_url(url)
        if parsed.drivername == "postgresql":  # SQLAlchemy's default would be psycopg2
            parsed = parsed.set(drivername="postgresql+psycopg")
        if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() != "psycopg":
            raise ArchiveError(
                "PostgreSQL archives use the psycopg driver: write postgresql+psycopg://… "
                f"instead of {parsed.drivername}://…"
            )
    except ArgumentError as error:
        raise ArchiveError(
            f"not a database URL: {url!r} (try sqlite:///archive.sqlite3)"
        ) from error
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        parent = Path(parsed.database).expanduser().resolve().parent
        if not parent.is_dir():
            raise ArchiveError(f"the archive's directory does not exist: {parent}")
    try:
        engine = create_engine(parsed, json_serializer=_json)
    except ArgumentError as error:  # an unknown dialect or driver
        raise ArchiveError(f"not a database URL govcrawler can use: {url!r} ({error})") from error
    except ImportError as error:
        raise ArchiveError(
            f"the driver for {parsed.drivername} is not installed ({error}): "
            "pip install 'govcrawler[postgres]'"
        ) from error
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # A new archive gets 2 KiB pages (an existing one keeps its own): a version's text or a
    # compressed capture (~6.5 KB) then fills its overflow pages, where with 4 KiB pages each
    # left a leaf page a third empty. Measured on B3's articles: 19.4 KB per article instead of
    # 21.4 KB, searches as fast (benchmarks/RESULTS.md).
    cursor.execute("PRAGMA page_size=2048")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable at each checkpoint, safe under WAL
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # configparser reads "%" as interpolation: a URL with "%" (an encoded path, a password)
    # must be escaped to survive the round trip.
    url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
    config.set_main_option("sqlalchemy.url", url)
    return config


def schema_revision(engine: Engine) -> str | None:
    """The archive's schema revision (None for an empty database)."""
    with _connect(engine) as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _connect(engine: Engine) -> Connection:
    """A connection; a PostgreSQL server that cannot be reached (or has no such database, or
    refuses the login) is an `ArchiveError` in one line."""
    try:
        return engine.connect()
    except OperationalError as error:
        if engine.dialect.name != "postgresql":
            raise
        reason = next((line for line in str(error.orig).splitlines() if line.strip()), "")
        where = engine.url.render_as_string(hide_password=True)
        raise ArchiveError(f"cannot open the archive at {where}: {reason.strip()}") from error


def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def head_revision() -> str | None:
    """The newest schema revision this code knows."""
    return _scripts().get_current_head()


def known_revision(revision: str | None) -> bool:
    """True for an empty database and for every revision this code has a migration for."""
    if revision is None:
        return True
    return any(script.revision == revision for script in _scripts().walk_revisions())


def _known_schema(engine: Engine) -> str | None:
    """The archive's revision; an `ArchiveError` if a newer govcrawler wrote it."""
    current = schema_revision(engine)
    if not known_revision(current):
        raise ArchiveError(
            f"the archive is at schema {current}, newer than this govcrawler knows "
            f"(its newest is {head_revision()}): upgrade govcrawler to read it"
        )
    return current


def upgrade_archive(engine: Engine, revision: str = "head") -> None:
    """Bring the archive's schema to `revision`, keeping every row (Alembic migrations).

    SQLite migrations rebuild tables (copy, drop, rename): with foreign keys enforced, the drop
    would cascade into the tables that refer to the old one. They run with enforcement off, and
    the references are checked before the upgrade commits.
    """
    _known_schema(engine)
    config = _alembic_config(engine)
    sqlite = engine.dialect.name == "sqlite"
    with _connect(engine) as connection:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")  # outside any transaction
            connection.commit()
        try:
            with connection.begin():
                if engine.dialect.name == "postgresql":
                    # Two processes opening a new archive at once: one upgrades, the other
                    # waits here, then finds the schema at head (Alembic reads it after).
                    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({UPGRADE_LOCK})")
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                if sqlite:
                    _check_references(connection)
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def _check_references(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise ArchiveError(
            f"the schema upgrade would leave {len(broken)} broken references "
            f"(first: {tuple(broken[0])}); nothing was changed"
        )


def open_archive(url: str, upgrade: bool = True) -> Engine:
    """The engine of an archive, created or upgraded to the current schema when needed."""
    engine = create_archive_engine(url)
    try:
        current, head = _known_schema(engine), head_revision()
        if current != head:
            if not upgrade:
                raise ArchiveError(
                    f"the archive is at schema {current}, this version needs {head}: "
                    "run `govcrawler db upgrade`"
                )
            logger.info("upgrading the archive schema from %s to %s", current, head)
            upgrade_archive(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def session_factory(engine: Engine) -> sessionmaker[ArchiveSession]:
    """The archive's sessions (`ArchiveSession`: the write path's listeners are on that class);
    they do not expire objects on commit (callers own the transaction)."""
    return sessionmaker(engine, class_=ArchiveSession, expire_on_commit=False)
