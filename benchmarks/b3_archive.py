"""B3, archive scale: build an archive of synthetic articles through the real storage
functions, and time searches at growing sizes.

Each article is written as the pipeline writes it: `storage.record_capture` (its raw ~40 KB
page) then `storage.record_article`, `batch` articles per transaction. A tenth of the articles
are in Chinese. At each checkpoint size the WAL is checkpointed, the file measured and every
query timed `repeats` times, queries interleaved (warm page cache: the archive was just
written). The build stops at the last checkpoint it can reach within `budget_s`.
"""

from __future__ import annotations

import functools
import itertools
import multiprocessing
import random
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

import storage
from benchmarks import measure
from benchmarks.b3_queries import QUERIES, extrapolate, hit_shares
from benchmarks.report import Goal, Section, table
from benchmarks.sitegen import SiteSpec, page_of, synth_article
from govcrawler.extract.text import body_digest
from storage.read import find_article

HEADERS = {"Content-Type": "text/html", "Server": "nginx"}
STEPS = (10_000, 30_000, 100_000, 200_000, 300_000, 500_000, 1_000_000)
P50_GOAL_MS = 20.0


def checkpoints(size: int) -> list[int]:
    return sorted({step for step in STEPS if step < size} | {size})


@dataclass(frozen=True)
class Prepared:
    """Article `i` of the synthetic site as the crawler hands it to storage, and its sizes."""

    capture: storage.CaptureRecord
    record: storage.ArticleRecord
    text_bytes: int
    compressed_bytes: int | None  # sampled: every 50th article's page, zlib level 6


def prepare(spec: SiteSpec, i: int) -> Prepared:
    """Make article `i` (run in a generator process: the site is made, not measured)."""
    article = synth_article(spec, i)
    page = page_of(article, []).encode("utf-8")
    body = "\n\n".join(article.text.paragraphs)
    now = datetime.now(UTC)
    record = storage.ArticleRecord(
        url=article.url,
        canonical_id=article.doc_id,
        title=article.text.title,
        body=body,
        body_digest=body_digest(article.text.paragraphs),
        published_on=article.published_on,
        column_id=article.column[0],
        page_column_name=article.column[1],
        language=article.text.language,
        template="synthetic",
        extraction_path="container",
    )
    capture = storage.CaptureRecord(article.url, article.url, 200, now, page, HEADERS)
    # What storage derives from the records (compressed page, hashes, near-duplicate
    # signature) is computed here, in the generator process, by the records' own properties,
    # as a crawler's preparing pool would: the writer then measures the archive's SQL.
    return Prepared(
        capture.derive(),
        record.derive(),
        len(article.text.title.encode()) + len(body.encode()),
        len(zlib.compress(page, 6)) if i % 50 == 0 else None,
    )


def write_batch(session: Session, articles: Iterable[Prepared], sizes: dict) -> float:
    """Articles into the archive as the pipeline writes them; returns the seconds spent in
    storage calls."""
    spent = 0.0
    for article in articles:
        sizes["text"] += article.text_bytes
        if article.compressed_bytes is not None:
            sizes["sampled"] += 1
            sizes["compressed"] += article.compressed_bytes
        start = time.perf_counter()
        capture = storage.record_capture(session, article.capture)
        storage.record_article(session, article.record, article.capture.fetched_at, capture.id)
        spent += time.perf_counter() - start
    start = time.perf_counter()
    session.flush()
    return spent + time.perf_counter() - start


def file_bytes(engine: Any, path: Path) -> int:
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def latencies(sessions: Callable[[], Session], spec: SiteSpec, n: int, repeats: int) -> dict:
    """Milliseconds of each query, `repeats` interleaved rounds after one warm-up round."""
    rng = random.Random(n)
    timings: dict[str, list[float]] = {name: [] for name in QUERIES}
    for round_no in range(repeats + 1):
        with sessions() as session:
            url = session.scalar(
                text("SELECT url FROM article WHERE id = :i"), {"i": rng.randint(1, n)}
            )
            for name, query in QUERIES.items():
                start = time.perf_counter()
                query(session, {"url": url, "year": 2015 + round_no % 10, "find": find_article})
                if round_no:
                    timings[name].append((time.perf_counter() - start) * 1000)
    return timings


def run(
    workdir: Path,
    size: int = 1_000_000,
    budget_s: float = 3600,
    batch: int = 500,
    repeats: int = 30,
    columns: int = 8,
) -> Section:
    path = workdir / "b3" / "archive.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob("archive.sqlite3*"):
        stale.unlink()
    engine = storage.open_archive(f"sqlite:///{path}")
    sessions = storage.session_factory(engine)
    spec = SiteSpec(size, columns, chinese_share=0.1)
    with sessions.begin() as session:
        for k in range(columns):
            column_id, name, list_url = spec.column(k)
            storage.record_column(session, column_id, name, list_url, datetime.now(UTC))
    sizes = {"text": 0, "compressed": 0, "sampled": 0}
    points: list[dict] = []
    done, storage_s, started, chunk_start = 0, 0.0, time.perf_counter(), time.perf_counter()
    # The articles are made in a second process (the machine's other core), one batch ahead
    # of this one, which writes: the build measures storage, not the site generator.
    generator = multiprocessing.get_context("fork").Pool(1)
    batches = iter(
        [
            range(first, min(first + batch, target))
            for start, target in itertools.pairwise([0, *checkpoints(size)])
            for first in range(start, target, batch)
        ]
    )
    make = functools.partial(prepare, spec)
    ahead = generator.map_async(make, next(batches))
    for target in checkpoints(size):
        chunk_from, chunk_storage = done, storage_s
        while done < target:
            articles = ahead.get()
            following = next(batches, None)
            if following is not None:
                ahead = generator.map_async(make, following)
            with sessions.begin() as session:
                storage_s += write_batch(session, articles, sizes)
            done += len(articles)
            if time.perf_counter() - chunk_start > 30 or done == target:
                elapsed = time.perf_counter() - started
                print(
                    f"  B3 {done:,} articles, {elapsed:.0f} s, "
                    f"{done / storage_s:.0f} articles/s in storage calls",
                    flush=True,
                )
                chunk_start = time.perf_counter()
        point = {
            "articles": done,
            "elapsed_s": time.perf_counter() - started,
            "rate": (done - chunk_from) / (storage_s - chunk_storage),
            "file_bytes": file_bytes(engine, path),
            "latency_ms": latencies(sessions, spec, done, repeats),
        }
        with sessions() as session:
            point["hits"] = hit_shares(session)
        points.append(point)
        print(f"  B3 checkpoint {done:,}: {point['file_bytes'] / 1e9:.2f} GB", flush=True)
        next_target = next((c for c in checkpoints(size) if c > done), None)
        if next_target is not None:
            projected = (next_target - done) / point["rate"] * 1.3
            if point["elapsed_s"] + projected > budget_s:
                break
    generator.terminate()
    engine.dispose()
    return summarise(points, sizes, size, budget_s, batch, repeats)


def summarise(
    points: list[dict], sizes: dict, size: int, budget_s: float, batch: int, repeats: int
) -> Section:
    last = points[-1]
    n = last["articles"]
    per_article = last["file_bytes"] / n
    allowed = sizes["compressed"] / max(sizes["sampled"], 1) + 2 * sizes["text"] / n
    rows = []
    for name in QUERIES:
        share = last.get("hits", {}).get(name)
        cells = [name if share is None else f"{name} (in {share:.0%} of articles)"]
        for point in points:
            values = point["latency_ms"][name]
            cells.append(f"{measure.median(values):.2f} / {measure.percentile(values, 0.95):.2f}")
        rows.append(cells)
    reached = n >= size
    p50 = {name: measure.median(last["latency_ms"][name]) for name in QUERIES}
    projected = extrapolate(points, 1_000_000) if not reached else p50
    slow = {name: ms for name, ms in projected.items() if ms > P50_GOAL_MS}
    label = "" if reached else f" (extrapolated from {n:,}; not measured)"
    build = table(
        [
            "articles",
            "build rate, articles/s",
            "file GB",
            "bytes/article",
            "marginal bytes/article",
        ],
        [
            [
                f"{p['articles']:,}",
                f"{p['rate']:.0f}",
                f"{p['file_bytes'] / 1e9:.2f}",
                f"{p['file_bytes'] / p['articles']:,.0f}",
                f"{(p['file_bytes'] - q['file_bytes']) / (p['articles'] - q['articles']):,.0f}"
                if q
                else "",
            ]
            for p, q in zip(points, [None, *points[:-1]], strict=True)
        ],
    )
    return Section(
        key="b3",
        title=f"B3 archive scale ({n:,} articles{'' if reached else f' of {size:,} asked'})",
        columns=["query, ms p50 / p95", *(f"at {p['articles']:,}" for p in points)],
        rows=rows,
        notes=[
            f"Built through storage.record_capture + storage.record_article, {batch} articles "
            f"per transaction, 10% Chinese; {repeats} timed rounds per checkpoint, queries "
            "interleaved, after one warm-up round; warm page cache.",
            f"Per article: {per_article:,.0f} bytes of archive against "
            f"{sizes['compressed'] / max(sizes['sampled'], 1):,.0f} bytes of compressed raw page "
            f"+ 2 × {sizes['text'] / n:,.0f} bytes of text = {allowed:,.0f} allowed.",
            (
                "The full size was reached."
                if reached
                else f"**Only {n:,} of {size:,} articles were built**: the next checkpoint "
                f"would not finish within the {budget_s / 60:.0f}-minute budget at the measured "
                "rate. "
                "Figures at 10^6 below are extrapolations (log-log slope between the last two "
                "checkpoints), labelled as such."
            ),
            f"File size at 10^6 at the measured {per_article:,.0f} bytes/article: "
            f"{per_article * 1e6 / 1e9:,.0f} GB"
            + ("" if reached else " (extrapolated, linear)")
            + f"; the build would take {1e6 / last['rate'] / 3600:.1f} h at the last rate.",
            "Extrapolated p50 at 10^6 (ms): "
            + ", ".join(f"{name} {ms:.1f}" for name, ms in projected.items())
            + ("" if reached else " — extrapolated, not measured."),
        ],
        extra="Build:\n\n" + build,
        goals=[
            Goal(
                f"B3 at 10^6 every search p50 ≤ {P50_GOAL_MS:.0f} ms",
                (
                    ("met" if not slow else "missed") + ("" if reached else " (extrapolated)")
                    if reached or len(points) > 1
                    else "not measured"
                ),
                (
                    "all within"
                    if not slow
                    else "over: " + ", ".join(f"{name} {ms:.0f} ms" for name, ms in slow.items())
                )
                + label,
            ),
            Goal(
                "B3 growth per article ≤ compressed raw page + 2× its text",
                "met" if per_article <= allowed else "missed",
                f"{per_article:,.0f} bytes against {allowed:,.0f} allowed at {n:,} articles",
            ),
        ],
        data={"points": points, "sizes": sizes, "asked": size},
    )
