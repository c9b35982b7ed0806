"""Extraction off the writer: a few worker processes extract whole batches while the one
writer applies the previous ones (`run`), in order.

A batch is submitted as one task (a list of pages in, the list of results out, in the same
order), so the results come back in article id order whatever worker made them. With 0
workers the batch is extracted in this process, when submitted: the same code path, the same
results.

A worker that dies (the OOM killer, a crash in a C library) breaks the executor and every
task in it. The batches it held are extracted again one page at a time in a new pool, so the
page it died on is found and reported as that page's problem, and the rest are extracted; if
workers keep dying on page after page, the run goes on in this process, with one line said.
Workers start as every worker process does (`govcrawler.crawl.children`): they ignore the
group's stop signals (the writer decides what a stop is) and exit when the writer dies.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from govcrawler.crawl.children import start_child
from govcrawler.reextraction.extraction import CapturedPage, Extracted, extract_page

DIED = "its extraction worker died on it"
GIVE_UP_AFTER = 3  # pages in a row a worker died on: then the workers are not the cause


def extract_batch(pages: Sequence[CapturedPage]) -> list[Extracted]:
    """One task of a worker: a batch's pages, in order."""
    return [extract_page(page) for page in pages]


def default_workers() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass
class Job:
    pages: Sequence[CapturedPage]
    future: Future[list[Extracted]]


class ExtractionPool:
    """`submit` a batch, later `results` of it; `workers` 0 extracts in this process."""

    def __init__(
        self,
        workers: int,
        problem: Callable[[str], None],
        task: Callable[[Sequence[CapturedPage]], list[Extracted]] = extract_batch,
    ) -> None:
        if workers < 0:
            raise ValueError(f"workers must be 0 or more, not {workers}")
        self.workers, self.problem, self.task = workers, problem, task
        self.executor: ProcessPoolExecutor | None = None
        self.deaths_in_a_row = 0

    def __enter__(self) -> ExtractionPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None

    def _pool(self) -> ProcessPoolExecutor:
        if self.executor is None:
            # "spawn", as the crawl's text pool: no copy of the writer's open connections.
            context = multiprocessing.get_context("spawn")
            self.executor = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=start_child, initargs=("extract",)
            )
        return self.executor

    def submit(self, pages: Sequence[CapturedPage]) -> Job:
        if self.workers == 0:
            done: Future[list[Extracted]] = Future()
            done.set_result(self.task(pages))
            return Job(pages, done)
        try:
            return Job(pages, self._pool().submit(self.task, pages))
        except BrokenProcessPool as error:  # broken by an earlier task: found at `results`
            broken: Future[list[Extracted]] = Future()
            broken.set_exception(error)
            return Job(pages, broken)

    def results(self, job: Job) -> list[Extracted]:
        """The batch's results, in its pages' order."""
        try:
            return job.future.result()
        except BrokenProcessPool:
            self._broken()
            return [self._alone(page) for page in job.pages]

    def _broken(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = None

    def _alone(self, page: CapturedPage) -> Extracted:
        """One page in a pool of its own (or here, once the workers are given up)."""
        if self.workers == 0:
            return self.task([page])[0]
        try:
            found = self._pool().submit(self.task, [page]).result()[0]
        except BrokenProcessPool:
            self._broken()
            self.deaths_in_a_row += 1
            if self.deaths_in_a_row >= GIVE_UP_AFTER:
                self.problem(
                    f"extraction workers died on {GIVE_UP_AFTER} pages in a row: "
                    "extracting the rest in this process"
                )
                self.workers = 0
            return Extracted(page.article_id, page.capture_id, problem=DIED)
        self.deaths_in_a_row = 0
        return found
