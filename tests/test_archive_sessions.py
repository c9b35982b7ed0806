"""The archive's session listeners live on its own sessions, never on SQLAlchemy's `Session`:
a program that imports `storage` beside its own sessions runs none of our code."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

import storage
from tests.conftest import sqlite_url

SEEN = datetime(2026, 11, 28, tzinfo=UTC)


def listeners_from_storage(session: Session) -> dict[str, list[str]]:
    """Every listener that fires for `session` and comes from the storage package, by event."""
    found = {}
    for name in session.dispatch._event_names:
        functions = [
            f"{fn.__module__}.{fn.__qualname__}"
            for fn in getattr(session.dispatch, name)
            if (getattr(fn, "__module__", "") or "").split(".")[0] == "storage"
        ]
        if functions:
            found[name] = functions
    return found


@pytest.fixture
def other_program(tmp_path: Path) -> Iterator[Engine]:
    """Another application's SQLite database, used through its own plain sessions."""
    engine = create_engine(sqlite_url(tmp_path / "other.sqlite3"))
    yield engine
    engine.dispose()


def test_a_plain_session_of_another_program_fires_none_of_our_listeners(
    other_program: Engine,
) -> None:
    with Session(other_program) as session:
        assert listeners_from_storage(session) == {}
        session.execute(text("CREATE TABLE notes (body TEXT)"))
        session.execute(text("INSERT INTO notes VALUES ('mine')"))
        session.commit()  # no archive listener: it would look for articles_fts, or take a lock
    with Session(other_program) as session:
        assert session.scalars(text("SELECT body FROM notes")).all() == ["mine"]


def test_the_archives_own_sessions_carry_its_listeners(engine: Engine) -> None:
    with storage.session_factory(engine)() as session:
        found = listeners_from_storage(session)
    assert set(found) == {"before_commit", "after_transaction_end"}, found


def test_the_write_path_refuses_a_plain_session(engine: Engine) -> None:
    with Session(engine) as session, pytest.raises(TypeError, match=r"storage\.session_factory"):
        storage.record_column(session, "10765", "News", "https://www.sc.gov.cn/", SEEN)
