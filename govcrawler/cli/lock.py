"""One crawl at a time per archive (per worker in a distributed crawl): an exclusive lock on a
file beside it.

The lock is an `flock` held by the process for its lifetime: the kernel releases it when the
process ends in any way (SIGKILL included), so a lock left by a dead run never blocks the
next one. The file holds the holder's pid, host and start time, for the message a second run
prints before it exits.

A distributed crawl (`govcrawler.distributed`) has several workers on one archive: each takes
its own lock, `<archive>.<worker-id>.lock`, so the same worker is not started twice while the
others run. When the archive is not a local SQLite file (PostgreSQL), the lock file lives in
`GOVCRAWLER_LOCK_DIR` (the temp directory by default), named after the archive's URL.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import socket
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sqlalchemy.engine import make_url

from govcrawler.exceptions import ArchiveLocked

_WORKER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def valid_worker_id(worker_id: str) -> bool:
    """A worker id names files and Redis keys: letters, digits, `.`, `_`, `-` (64 at most)."""
    return bool(_WORKER_ID.fullmatch(worker_id))


def lock_path(database_url: str, worker_id: str = "", lock_dir: str | Path = "") -> Path:
    """`<archive>.lock` (`<archive>.<worker-id>.lock` for a worker of a distributed crawl) for a
    SQLite file; a file named after the URL in `lock_dir` (default: the temp directory) for
    any other archive."""
    if worker_id and not valid_worker_id(worker_id):
        raise ValueError(f"a worker id is letters, digits, '.', '_' and '-', not {worker_id!r}")
    suffix = f".{worker_id}.lock" if worker_id else ".lock"
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(url.database).expanduser().resolve()
        return path.with_name(path.name + suffix)
    digest = hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()
    return Path(lock_dir or tempfile.gettempdir()) / f"govcrawler-{digest[:16]}{suffix}"


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
        self.path.parent.mkdir(parents=True, exist_ok=True)
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
