"""The re-extraction loop: batches of articles in id order, each read, extracted and (unless a
dry run) written in one transaction through `storage.record_article`.

Crash-safe without any state of its own: a killed run leaves whole batches committed, and a
rerun re-extracts everything again, where each page already done gives the same result as its
current version, and writes nothing.

The extraction runs in worker processes (`pool`), a few batches ahead of the writer: the
captures are immutable, so a batch's pages are read (in a read transaction of their own) and
extracted while the writer applies the batch before it. What a result changes is decided
against the article's current version inside the batch's write transaction. Results are
applied batch by batch in id order, as one process applies them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

import storage
from govcrawler.crawl.faults import KillSwitch
from govcrawler.reextraction.diffs import Current, Report, change_of, currents
from govcrawler.reextraction.extraction import Extracted
from govcrawler.reextraction.pages import Selection, batch_of
from govcrawler.reextraction.pool import ExtractionPool, Job
from storage.writing import writer

BATCH = 100  # articles per transaction


def reextract(
    sessions: sessionmaker[storage.ArchiveSession],
    selection: Selection,
    apply: bool,
    problem: Callable[[str], None],
    kill_switch: KillSwitch | None = None,
    workers: int = 0,
    batch: int = BATCH,
) -> Report:
    """Re-extract every selected page; `apply` writes the changed ones as new versions.
    `workers` processes extract (0: this one)."""
    report = Report()
    kill_switch = kill_switch or KillSwitch("")
    detected_at = datetime.now(UTC)
    # In flight: a batch per worker and one more, ready when the writer is (memory: that
    # many batches of pages and of results).
    ahead = workers + 1
    with ExtractionPool(workers, problem) as pool:
        pending: deque[Job] = deque()
        after: int | None = 0
        while True:
            while after is not None and len(pending) < ahead:
                with sessions() as session:
                    pages = batch_of(session, selection, after, batch)
                if pages:
                    pending.append(pool.submit(pages))
                after = pages[-1].article_id if pages else None
            if not pending:
                break
            results = pool.results(pending.popleft())
            with sessions() as session:
                if apply:
                    writer(session)  # the write lock before the batch's reads
                current = currents(session, [result.article_id for result in results])
                for result in results:
                    report.pages += 1
                    when = detected_at if apply else None
                    _one(session, result, current.get(result.article_id), report, problem, when)
                if apply:
                    kill_switch.tick("commit")
                    session.commit()
                    kill_switch.tick("batch")
    return report


def _one(
    session: Session,
    result: Extracted,
    current: Current | None,
    report: Report,
    problem: Callable[[str], None],
    detected_at: datetime | None,
) -> None:
    where = f"article {result.article_id} (capture {result.capture_id})"
    if result.record is None:
        report.problems += 1
        problem(f"{where}: {result.problem}")
        return
    record = result.record
    if current is None or (current.url, current.canonical_id) != (record.url, record.canonical_id):
        # The page now reads as another URL or id: that would be another article, not a fix.
        report.problems += 1
        problem(f"{where}: now reads as {record.url} (id {record.canonical_id}), not written")
        return
    if current.unchanged_by(record):  # most pages: nothing loaded, nothing written
        return
    change = change_of(session, record, result.article_id)
    if change is None:
        return
    if detected_at is not None:
        storage.record_article(session, record, detected_at, result.capture_id)
    report.add(change)
