"""Spool files: a file response's body on disk, the crawl's spool directory, and the writer.

Shared by the live handler (govcrawler/crawl/spool.py) and replay (govcrawler/crawl/replay.py),
so both give a file request the same `Spooled`. An empty body keeps no file (`path` None,
`omitted` None); an omitted one (too_large, cut) keeps none either. The spool directory is one
per crawl (under `GOVCRAWLER_SPOOL_DIR`, default the system's temporary directory), made on
first use and removed when the engine stops: the pipeline is done with its files by then.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from weakref import WeakKeyDictionary

from scrapy import signals
from scrapy.exceptions import IgnoreRequest

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

FILE_META = "govcrawler_file"
SPOOLED_META = "govcrawler_spooled"
HEAD_BYTES = 8192
# A saved file is read into the spool in chunks of this size (replay).
CHUNK_BYTES = 1 << 20
DEFAULT_MAX_BYTES = 104857600
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
# Attachments, as a stock nginx (mime.types) sends them (replay); it knows no .wps or .ofd.
FILE_CONTENT_TYPES = {
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".wps": "application/octet-stream",
    ".ofd": "application/octet-stream",
    ".zip": "application/zip",
    ".rar": "application/x-rar-compressed",
}


@dataclass(frozen=True)
class Spooled:
    """A file response's body, on disk. `path` None: no file (omitted, or an empty body)."""

    path: Path | None  # the whole body; None when not kept (too large, cut) or empty
    length: int  # bytes received; the declared Content-Length when not read
    sha256: str | None  # of the body, computed while streaming (None when not kept)
    head: bytes  # its first 8 KiB (for sniffing), b"" when none
    omitted: str | None  # None, "too_large" or "cut"
    declared_length: int | None  # Content-Length as sent, if any


def is_file_request(request: Request) -> bool:
    return bool(request.meta.get(FILE_META))


def discard(spooled: Spooled | None) -> None:
    """Remove a spooled body once recorded: a long crawl would otherwise fill the disk."""
    if spooled is not None and spooled.path is not None:
        spooled.path.unlink(missing_ok=True)


SPOOL_PREFIX = "govcrawler-spool-"  # then the crawl's process id


def sweep(parent: Path) -> None:
    """Remove the spool directories of crawls that died without removing theirs (SIGKILL, a
    power cut): their process is gone, and what they held is fetched again by the next run."""
    for directory in parent.glob(f"{SPOOL_PREFIX}*-*"):
        pid = directory.name.removeprefix(SPOOL_PREFIX).split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(directory, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


class Spool:
    """The crawl's spool directory (made on first use) and its size limit."""

    def __init__(self, crawler: Crawler) -> None:
        self.parent = crawler.settings.get("GOVCRAWLER_SPOOL_DIR") or None
        self.max_bytes = crawler.settings.getint("GOVCRAWLER_FILE_MAX_BYTES", DEFAULT_MAX_BYTES)
        self.stats = crawler.stats
        self.directory: Path | None = None
        self.lock = threading.Lock()  # replay opens files from several threads

    def open(self) -> tuple[Path, BinaryIO]:
        """A new spool file; IgnoreRequest (not an OSError: no retry) if the disk refuses."""
        try:
            with self.lock:
                if self.directory is None:
                    sweep(Path(self.parent or tempfile.gettempdir()))
                    prefix = f"{SPOOL_PREFIX}{os.getpid()}-"
                    self.directory = Path(tempfile.mkdtemp(prefix=prefix, dir=self.parent))
            fd, name = tempfile.mkstemp(dir=self.directory, suffix=".part")
        except OSError as exc:
            self.count("spool_error", "cannot write to the spool directory: %s", exc)
            raise IgnoreRequest(f"spool: {exc}") from exc
        return Path(name), os.fdopen(fd, "wb")

    def remove(self) -> None:
        with self.lock:
            if self.directory is not None:
                shutil.rmtree(self.directory, ignore_errors=True)
                self.directory = None

    def count(self, reason: str, message: str, *args: Any, level: int = logging.INFO) -> None:
        """Count an outcome by reason. A file too large or cut is an outcome the run's summary
        and health checks report: it is logged at INFO, to keep a healthy run quiet."""
        logger.log(level, message, *args)
        if self.stats is not None:
            self.stats.inc_value(f"govcrawler/files/{reason}")

    def too_large(self, url: str, declared: int) -> Spooled:
        self.count("too_large", "not reading %s: %d bytes declared, over the limit", url, declared)
        return Spooled(None, declared, None, b"", "too_large", declared)


def empty_body(declared: int | None) -> Spooled:
    """No bytes: nothing on disk, yet a digest (the empty one)."""
    return Spooled(None, 0, EMPTY_SHA256, b"", None, declared)


_SPOOLS: WeakKeyDictionary[Crawler, Spool] = WeakKeyDictionary()


def crawl_spool(crawler: Crawler) -> Spool:
    """The one spool of a crawl, shared by its handlers, removed when its engine stops."""
    spool = _SPOOLS.get(crawler)
    if spool is None:
        spool = _SPOOLS[crawler] = Spool(crawler)
        crawler.signals.connect(spool.remove, signals.engine_stopped)
    return spool


class Sink:
    """One body being written: hashed, its head kept, held to the spool's limit."""

    def __init__(self, spool: Spool, url: str, declared: int | None) -> None:
        self.spool, self.url, self.declared = spool, url, declared
        self.path, self.file = spool.open()
        self.sha256 = hashlib.sha256()
        self.head = b""
        self.length = 0

    def write(self, data: bytes) -> bool:
        """Write a chunk; False (nothing written) once the body passes the limit."""
        self.length += len(data)
        if self.length > self.spool.max_bytes:
            return False
        self.file.write(data)
        self.sha256.update(data)
        if len(self.head) < HEAD_BYTES:
            self.head += data[: HEAD_BYTES - len(self.head)]
        return True

    def keep(self) -> Spooled:
        """The body is whole (unless shorter than declared: then it is cut)."""
        if self.declared is not None and self.length < self.declared:
            return self.drop("cut")
        self.file.close()
        if self.length == 0:
            self.path.unlink(missing_ok=True)
            return empty_body(self.declared)
        if self.spool.stats is not None:  # Scrapy's downloader/response_bytes sees b"" only
            self.spool.stats.inc_value("govcrawler/files/spooled")
            self.spool.stats.inc_value("govcrawler/files/spooled_bytes", self.length)
        return Spooled(
            self.path, self.length, self.sha256.hexdigest(), self.head, None, self.declared
        )

    def fail(self, exc: OSError) -> IgnoreRequest:
        """The disk failed us (full, say): no file, and an error that is not retried."""
        self.file.close()
        self.path.unlink(missing_ok=True)
        self.spool.count("spool_error", "cannot spool %s: %s", self.url, exc, level=logging.WARNING)
        return IgnoreRequest(f"spool: {exc}")

    def drop(self, omitted: str) -> Spooled:
        self.file.close()
        self.path.unlink(missing_ok=True)
        self.spool.count(
            omitted, "file %s %s after %d bytes (declared %s)", self.url, omitted,
            self.length, self.declared,
        )  # fmt: skip
        return Spooled(None, self.length, None, self.head, omitted, self.declared)


def spool_bytes(spool: Spool, url: str, body: bytes, declared: int | None = None) -> Spooled:
    """A body already in memory, spooled as if streamed."""
    sink = Sink(spool, url, declared)
    if not sink.write(body):
        return sink.drop("too_large")
    return sink.keep()


def declared_length(headers: dict[str, str], url: str) -> int | None:
    """A Content-Length header's value (None: none, or not a number)."""
    for key, value in headers.items():
        if key.lower() == "content-length":
            try:
                return max(int(value), 0)
            except (TypeError, ValueError):
                logger.warning("%s has a bad Content-Length %r", url, value)
    return None


def spool_saved(spool: Spool, url: str, path: Path, headers: dict[str, str]) -> Spooled:
    """A saved file (replay) into the spool a chunk at a time, as the network would give it:
    a Content-Length in `headers` is what the server declared (none: the file's size, added
    to `headers`); over the limit, not read; fewer bytes than declared, cut."""
    declared = declared_length(headers, url)
    if declared is None:
        declared = path.stat().st_size
        headers["Content-Length"] = str(declared)
    if declared > spool.max_bytes:
        return spool.too_large(url, declared)
    sink = Sink(spool, url, declared)
    try:
        with path.open("rb") as saved:
            while sink.length < declared and (chunk := saved.read(CHUNK_BYTES)):
                sink.write(chunk[: declared - sink.length])
    except OSError as exc:
        raise sink.fail(exc) from exc
    return sink.keep()
