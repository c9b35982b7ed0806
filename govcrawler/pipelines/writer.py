"""The archive's one writer: each batch one transaction, batches in the order they were made,
in the crawl's own process (`InlineWriter`) or in a process of its own (`ProcessWriter`).

Both run `write_batch`, so what is archived is the same either way: whole batches, the same
order of identities (one writer, batches in order), and the derived values (compression,
digests, SimHash, the search index's text) computed where the batch is written. In a process
of its own, all of that and SQLite's work run on the second core while the crawl's thread goes
on fetching and extracting (B1: the archive's work was 38 % of a replay crawl's main thread).
A polite live crawl is idle most of the time and gains nothing, so `GOVCRAWLER_ARCHIVE_WRITER`
is "auto": a process when replaying a saved site, in the crawl's process otherwise.

The writer process is the crawl's (`crawl.children`: it ignores the group's stop signals
and quits when the crawl is gone), and its log records go to the crawl's log.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from logging.handlers import QueueHandler, QueueListener
from typing import Any, Protocol

from scrapy.settings import BaseSettings, Settings
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

import storage
from govcrawler.crawl.children import start_child
from govcrawler.crawl.faults import KillSwitch
from govcrawler.exceptions import BadSetting
from govcrawler.pipelines.path import RUN_ID, Paths
from govcrawler.pipelines.registry import item_paths

INLINE, PROCESS, AUTO = "inline", "process", "auto"


@dataclass(frozen=True)
class WriterConfig:
    """What a writer needs, as plain values (a writer process gets it pickled)."""

    database_url: str
    item_paths: tuple[str, ...] = ()  # GOVCRAWLER_ITEM_PATHS
    kill_at: str = ""  # GOVCRAWLER_KILL_AT
    log_level: str = "INFO"

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> WriterConfig:
        return cls(
            database_url=settings.get("GOVCRAWLER_DATABASE_URL"),
            item_paths=tuple(settings.getlist("GOVCRAWLER_ITEM_PATHS")),
            kill_at=settings.get("GOVCRAWLER_KILL_AT", "") or "",
            log_level=str(settings.get("LOG_LEVEL", "INFO")),
        )


@dataclass
class Written:
    """A batch's end: the outcomes to count, or why none of it was stored."""

    outcomes: list[str] = field(default_factory=list)
    error: str | None = None


def write_batch(
    sessions: sessionmaker[storage.ArchiveSession],
    paths: Paths,
    run_id: int | None,
    batch: list[Any],
    kill_switch: KillSwitch,
) -> Written:
    """One transaction for the batch: all of it is archived, or none of it."""
    outcomes: list[str] = []
    try:
        with sessions.begin() as session:
            session.info[RUN_ID] = run_id
            for item in batch:
                outcomes.extend(paths[type(item)].archive(session, item))
            session.flush()
            kill_switch.tick("commit")
    except SQLAlchemyError as error:
        return Written(error=str(error))
    kill_switch.tick("batch")
    return Written(outcomes)


class Writer(Protocol):
    def submit(self, run_id: int | None, batch: list[Any]) -> Future[Written]: ...

    def close(self) -> None: ...


class _Archive:
    """An open archive and the item paths: a writer's state, in whichever process writes."""

    def __init__(self, config: WriterConfig, kill_switch: KillSwitch) -> None:
        self.engine = storage.open_archive(config.database_url)
        self.sessions = storage.session_factory(self.engine)
        self.paths = item_paths(Settings({"GOVCRAWLER_ITEM_PATHS": list(config.item_paths)}))
        self.kill_switch = kill_switch

    def write(self, run_id: int | None, batch: list[Any]) -> Written:
        return write_batch(self.sessions, self.paths, run_id, batch, self.kill_switch)


class InlineWriter:
    """Writes each batch at once, in the caller's thread: its future is done when returned."""

    def __init__(self, config: WriterConfig) -> None:
        self.archive = _Archive(config, KillSwitch(config.kill_at))

    def submit(self, run_id: int | None, batch: list[Any]) -> Future[Written]:
        future: Future[Written] = Future()
        try:
            future.set_result(self.archive.write(run_id, batch))
        except BaseException as error:  # a bug in an archive step: the caller sees it
            future.set_exception(error)
        return future

    def close(self) -> None:
        self.archive.engine.dispose()


class ProcessWriter:
    """Writes the batches in one process of its own, in the order they were submitted."""

    def __init__(self, config: WriterConfig) -> None:
        context = multiprocessing.get_context("spawn")  # never fork a process running a reactor
        self.logs: Any = context.Queue()
        self.listener = QueueListener(self.logs, _Relay())
        self.listener.start()
        self.pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=context,
            initializer=_start,
            initargs=(config, os.getpid(), self.logs),
        )
        # Started now, the process imports and opens the archive while the crawl starts up,
        # not when the first batch is ready (its start-up is about 1.5 s of CPU).
        self.pool.submit(_ready)

    def submit(self, run_id: int | None, batch: list[Any]) -> Future[Written]:
        return self.pool.submit(_write, run_id, batch)

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.listener.stop()
        self.logs.close()


def writer_kind(settings: BaseSettings) -> str:
    """INLINE or PROCESS, as `GOVCRAWLER_ARCHIVE_WRITER` says ("auto": a process for replay)."""
    kind = str(settings.get("GOVCRAWLER_ARCHIVE_WRITER", AUTO) or AUTO).lower()
    if kind not in (INLINE, PROCESS, AUTO):
        raise BadSetting(f"GOVCRAWLER_ARCHIVE_WRITER must be inline, process or auto, not {kind!r}")
    if kind == AUTO:
        return PROCESS if settings.get("GOVCRAWLER_REPLAY_DIR") else INLINE
    return kind


def open_writer(kind: str, config: WriterConfig) -> Writer:
    return ProcessWriter(config) if kind == PROCESS else InlineWriter(config)


class _Relay(logging.Handler):
    """A writer process's log record, handled by the crawl's logger of the same name."""

    def emit(self, record: logging.LogRecord) -> None:
        logging.getLogger(record.name).handle(record)


# --- in the writer process ---------------------------------------------------------------
_state: _Archive | None = None


def _start(config: WriterConfig, crawl_pid: int, logs: Any) -> None:
    global _state
    start_child("writer")
    root = logging.getLogger()
    root.handlers[:] = [QueueHandler(logs)]
    root.setLevel(config.log_level)
    # A kill point kills the crawl with the writer, as a power loss would.
    _state = _Archive(config, KillSwitch(config.kill_at, also=crawl_pid))


def _ready() -> None:
    """The writer's first task: none, once it has started."""


def _write(run_id: int | None, batch: list[Any]) -> Written:
    assert _state is not None, "the writer process was not started"
    return _state.write(run_id, batch)
