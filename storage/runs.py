"""Crawl runs: recording each run and reading the previous ones.

A run is the run of one spider (`CrawlRun.spider`): whether a run must recover, and which
runs its health is compared with, is decided among the runs of its own spider.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import CrawlRun

RUNNING = "running"
FINISHED = "finished"  # the crawl went through the whole section
CRASHED = "crashed"  # the process died without closing its run (SIGKILL, power loss)
# A run is complete when it went through the whole section; any other outcome leaves list
# pages unvisited, so the next run walks every list page again (`recovering`).
COMPLETE_OUTCOMES = frozenset({FINISHED, "failed_health", "blocked"})


@dataclass(frozen=True)
class RunReport:
    """What a run did, as its stats tell, and what the health checks found."""

    outcome: str
    exit_status: int
    recovery: bool = False
    requests: int = 0
    responses_by_status: dict[str, int] = field(default_factory=dict)
    new_articles: int = 0
    new_versions: int = 0
    withdrawn: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    extraction_fallbacks: int = 0
    blocked: int = 0
    stats: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def start_run(
    session: Session,
    spider: str,
    started_at: datetime,
    pid: int,
    host: str,
    full: bool,
    recovery: bool,
) -> CrawlRun:
    """A new run of `spider`, `running` until `finish_run` closes it."""
    run = CrawlRun(
        spider=spider,
        started_at=started_at,
        outcome=RUNNING,
        pid=pid,
        host=host,
        full=full,
        recovery=recovery,
    )
    session.add(run)
    session.flush()
    return run


def finish_run(session: Session, run_id: int, finished_at: datetime, report: RunReport) -> None:
    """Close a run with its outcome, exit status, counts and problems."""
    run = session.get(CrawlRun, run_id)
    if run is None:
        raise LookupError(f"no crawl run {run_id}")
    run.finished_at = finished_at
    for name, value in vars(report).items():
        setattr(run, name, value)


def close_dead_runs(
    session: Session, host: str, is_alive: Callable[[int], bool], now: datetime
) -> list[int]:
    """Runs of this host still marked running whose process is gone: they crashed.

    Any spider's: a dead process is dead whichever spider it ran, and `govcrawler runs` should
    not show it running until that spider runs again. Whether a run recovers is decided per
    spider (`needs_recovery`), not here."""
    dead = [
        run
        for run in session.scalars(
            select(CrawlRun).where(CrawlRun.outcome == RUNNING, CrawlRun.host == host)
        )
        if not is_alive(run.pid)
    ]
    for run in dead:
        run.outcome, run.finished_at = CRASHED, now
        run.problems = [*run.problems, "the process died before closing its run"]
    return [run.id for run in dead]


def recent_runs(session: Session, limit: int = 20, spider: str | None = None) -> list[CrawlRun]:
    """The latest runs, newest first: of one spider, or of every spider (`None`)."""
    query = select(CrawlRun).order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
    if spider is not None:
        query = query.where(CrawlRun.spider == spider)
    return list(session.scalars(query.limit(limit)))


def needs_recovery(session: Session, spider: str, pid: int, host: str) -> bool:
    """True when the previous run of `spider` (before the one of process `pid` on `host`) did
    not go through the whole section: it ended early, or is still marked running though it is
    not this one (with the archive locked, such a run is dead). Other spiders' runs do not
    count: they crawl other pages."""
    this_run = (CrawlRun.outcome == RUNNING) & (CrawlRun.pid == pid) & (CrawlRun.host == host)
    last = session.scalar(
        select(CrawlRun)
        .where(CrawlRun.spider == spider, ~this_run)
        .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
        .limit(1)
    )
    return last is not None and last.outcome not in COMPLETE_OUTCOMES
