"""One writer at a time: the archive's write transactions are serialized, on both backends.

Whether a page is new, a new version or an alias of an archived article is decided by reading
the archive (same URL, same id, same body) and then writing. Two writers deciding at once, two
crawl workers fetching the same article under two URLs, would each find nothing and each insert
it, and the alias would be lost. So a write transaction takes the archive's write lock before
its first read:

- SQLite: `BEGIN IMMEDIATE`. The driver would otherwise begin the transaction only at its first
  INSERT, leaving the reads before it outside, where another process can commit in between.
- PostgreSQL: a transaction-level advisory lock, released by the commit or the rollback.

Readers (search, exports, Datasette) never take it and are never blocked by it.

The archive's sessions are `ArchiveSession`s (`storage.session_factory`): what the write path
does at a transaction's end listens on that class only, never on SQLAlchemy's `Session`, so a
program's own sessions beside ours run none of it.
"""

from __future__ import annotations

from sqlalchemy import Connection, event
from sqlalchemy.orm import Session, SessionTransaction

WRITE_LOCK = 0x676F76637261776D  # PostgreSQL advisory lock key of archive writes
_PER_TRANSACTION: set[str] = set()


def per_transaction(key: str) -> str:
    """Declare `key` of `session.info` as the state of the session's current transaction: it is
    dropped when the transaction ends, whatever ends it (commit, rollback, or a close without
    either), so a reused session starts its next transaction without it."""
    _PER_TRANSACTION.add(key)
    return key


_HOLDING = per_transaction("storage.writing.holding")


class ArchiveSession(Session):
    """A session on the archive: the only kind the write path accepts."""


def writer(session: Session) -> Connection:
    """The session's connection, with the archive's write lock held until its transaction ends
    (waiting for another writer's commit if need be)."""
    if not isinstance(session, ArchiveSession):
        # A plain Session would run none of the listeners below: its search index would never
        # be written, its lock flag would outlive the transaction.
        raise TypeError(
            f"the archive is written through storage.session_factory(engine), not a "
            f"{type(session).__name__}"
        )
    db = session.connection()
    if not session.info.get(_HOLDING):
        if db.dialect.name == "postgresql":
            db.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")
        elif db.dialect.name == "sqlite" and not db.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
            db.exec_driver_sql("BEGIN IMMEDIATE")  # waits up to the busy timeout
        session.info[_HOLDING] = True
    return db


@event.listens_for(ArchiveSession, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        for key in _PER_TRANSACTION:
            session.info.pop(key, None)
