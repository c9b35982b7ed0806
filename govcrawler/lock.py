"""One crawl at a time per archive: an exclusive lock on a file beside it.

The lock is an `flock` held by the process for its lifetime: the kernel releases it when the
process ends in any way (SIGKILL included), so a lock left by a dead run never blocks the
next one. The file holds the holder's pid, host and start time, for the message a second run
prints before it exits.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import socket
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url


class ArchiveLocked(Exception):
    """Another crawl holds the archive; the message names it."""


def lock_path(database_url: str) -> Path:
    """`<archive>.lock` for a SQLite file; a per-URL file in the temp directory otherwise."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return (
            Path(url.database).expanduser().resolve().with_name(Path(url.database).name + ".lock")
        )
    digest = hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()
    return Path(tempfile.gettempdir()) / f"govcrawler-{digest[:16]}.lock"


class ArchiveLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: IO[str] | None = None

    def __enter__(self) -> ArchiveLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def acquire(self) -> None:
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise ArchiveLocked(
                f"another crawl is running on this archive ({holder}); this one exits"
            ) from None
        handle.seek(0)
        handle.truncate()
        started = datetime.now(UTC).isoformat(timespec="seconds")
        handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {started}\n")
        handle.flush()
        self.file = handle

    def release(self) -> None:
        if self.file is not None:
            fcntl.flock(self.file, fcntl.LOCK_UN)
            self.file.close()
            self.file = None
