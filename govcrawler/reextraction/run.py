"""The re-extraction loop: batches of articles in id order, each read, extracted and (unless a
dry run) written in one transaction through `storage.record_article`.

Crash-safe without any state of its own: a killed run leaves whole batches committed, and a
rerun re-extracts everything again, where each page already done gives the same result as its
current version, and writes nothing. The extraction is behind `extract` (one function over a
batch: a process pool's `map` can stand in for it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

import storage
from govcrawler.crawl.faults import KillSwitch
from govcrawler.reextraction.diffs import Report, change_of
from govcrawler.reextraction.extraction import CapturedPage, Extracted, extract_page
from govcrawler.reextraction.pages import Selection, batch_of
from storage.models import Article
from storage.writing import writer

BATCH = 100  # articles per transaction
Extract = Callable[[Iterable[CapturedPage]], Iterator[Extracted]]


def serial(pages: Iterable[CapturedPage]) -> Iterator[Extracted]:
    """Extract in this process, in order."""
    return map(extract_page, pages)


def reextract(
    sessions: sessionmaker[storage.ArchiveSession],
    selection: Selection,
    apply: bool,
    problem: Callable[[str], None],
    kill_switch: KillSwitch | None = None,
    extract: Extract = serial,
    batch: int = BATCH,
) -> Report:
    """Re-extract every selected page; `apply` writes the changed ones as new versions."""
    report, after = Report(), 0
    kill_switch = kill_switch or KillSwitch("")
    detected_at = datetime.now(UTC)
    while True:
        with sessions() as session:
            if apply:
                writer(session)  # the write lock before the batch's reads
            pages = batch_of(session, selection, after, batch)
            if not pages:
                break
            for result in extract(pages):
                report.pages += 1
                _one(session, result, report, problem, detected_at if apply else None)
            if apply:
                kill_switch.tick("commit")
                session.commit()
                kill_switch.tick("batch")
        after = pages[-1].article_id
    return report


def _one(
    session: Session,
    result: Extracted,
    report: Report,
    problem: Callable[[str], None],
    detected_at: datetime | None,
) -> None:
    where = f"article {result.article_id} (capture {result.capture_id})"
    if result.record is None:
        report.problems += 1
        problem(f"{where}: {result.problem}")
        return
    record, article = result.record, session.get(Article, result.article_id)
    if article is None or (article.url, article.canonical_id) != (record.url, record.canonical_id):
        # The page now reads as another URL or id: that would be another article, not a fix.
        report.problems += 1
        problem(f"{where}: now reads as {record.url} (id {record.canonical_id}), not written")
        return
    change = change_of(session, record, result.article_id)
    if change is None:
        return
    if detected_at is not None:
        storage.record_article(session, record, detected_at, result.capture_id)
    report.add(change)
