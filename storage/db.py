"""Opening an archive: engine, SQLite pragmas, schema upgrades, sessions.

The archive is a SQLite file by default; a `postgresql+psycopg://` URL puts it in PostgreSQL,
with the same tables, migrations and views (see docs/schema.md)."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import sessionmaker

from storage.exceptions import ArchiveError
from storage.urls import archive_url, sqlite_file
from storage.writing import ArchiveSession

logger = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")
UPGRADE_LOCK = 0x676F76637261776C  # PostgreSQL advisory lock key of schema upgrades ("govcrawl")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def create_archive_engine(url: str, read_only: bool = False) -> Engine:
    """An engine for the archive at `url`; SQLite gets a busy timeout and foreign keys, and WAL
    when it is written. `read_only`: a SQLite file opened read-only (`storage.urls`), its
    bytes never changed, not even the journal mode; PostgreSQL read-only transactions."""
    parsed = archive_url(url, read_only)
    options = {}
    if read_only and parsed.get_backend_name() == "postgresql":
        options["postgresql_readonly"] = True  # every transaction READ ONLY
    try:
        engine = create_engine(parsed, json_serializer=_json, execution_options=options)
    except ArgumentError as error:  # an unknown driver (sqlite+nosuch://)
        raise ArchiveError(f"not a database URL govcrawler can use: {url!r} ({error})") from error
    except ImportError as error:
        extra = "pip install 'govcrawler[postgres]'"
        if parsed.get_backend_name() != "postgresql":  # only the PostgreSQL driver is optional
            extra = "write sqlite:///archive.sqlite3"
        raise ArchiveError(
            f"the driver for {parsed.drivername} is not installed ({error}): {extra}"
        ) from error
    if parsed.get_backend_name() == "sqlite":
        if read_only and parsed.query.get("mode") == "ro":
            event.listen(engine, "do_connect", _connect_read_only)
        event.listen(engine, "connect", _read_pragmas if read_only else _write_pragmas)
    return engine


def _connect_read_only(
    dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]
) -> Any:
    """A `mode=ro` connection. A WAL archive in a directory we cannot write (a read-only
    filesystem, or permissions) is opened `immutable` instead: SQLite could not make its
    shared-memory file there. Immutable skips locking: safe while nobody writes the archive,
    as nobody can on a read-only filesystem."""
    connection = dialect.loaded_dbapi.connect(*cargs, **cparams)
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchall()
        return connection
    except sqlite3.OperationalError as error:
        connection.close()
        if "readonly" not in str(error) and "unable to open" not in str(error):
            raise
    return dialect.loaded_dbapi.connect(f"{cargs[0]}&immutable=1", *cargs[1:], **cparams)


def _read_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _write_pragmas(dbapi_connection: Any, record: Any) -> None:
    _read_pragmas(dbapi_connection, record)
    cursor = dbapi_connection.cursor()
    tables = {row[0] for row in cursor.execute("SELECT name FROM sqlite_master")}
    # The journal mode is written into the file: never into another program's database
    # (which `schema_revision` then refuses), only into a new one or an archive.
    if not tables or {"alembic_version", "article"} <= tables:
        # A new archive gets 2 KiB pages (an existing one keeps its own): a version's text or
        # a compressed capture (~6.5 KB) then fills its overflow pages, where with 4 KiB pages
        # each left a leaf page a third empty. Measured on B3's articles: 19.4 KB per article
        # instead of 21.4 KB, searches as fast (benchmarks/RESULTS.md).
        cursor.execute("PRAGMA page_size=2048")
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable at each checkpoint, safe under WAL
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
    """The archive's schema revision (None for an empty database); an `ArchiveError` for a
    database that holds another program's tables."""
    with _connect(engine) as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
        if revision is None or not known_revision(revision):
            _refuse_foreign(connection, revision)
        return revision


def _refuse_foreign(connection: Connection, revision: str | None) -> None:
    """Not a govcrawler archive: tables without our revision, or a revision of another
    program's (an unknown one without our `article` table)."""
    found = inspect(connection)
    names = sorted(set(found.get_table_names()) | set(found.get_view_names()))
    names = [name for name in names if name != "alembic_version"]
    if not names or (revision is not None and "article" in names):
        return
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    raise ArchiveError(
        f"{_where(connection.engine)} is not a govcrawler archive: it holds another program's "
        f"tables ({shown}); point --database at a govcrawler archive, or at a new file to start one"
    )


def _where(engine: Engine) -> str:
    path = sqlite_file(engine.url)
    return str(path) if path else engine.url.render_as_string(hide_password=True)


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


def open_archive(url: str, upgrade: bool = True, read_only: bool = False) -> Engine:
    """The engine of an archive, created or upgraded to the current schema when needed.
    `read_only`: an existing archive at the current schema, opened read-only (it works on a
    read-only file or filesystem too, and never writes anything)."""
    upgrade = upgrade and not read_only
    engine = create_archive_engine(url, read_only)
    try:
        current, head = _known_schema(engine), head_revision()
        if current is None and not upgrade:
            raise ArchiveError(
                f"no archive in {_where(engine)} yet (crawl first, or check --database)"
            )
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
