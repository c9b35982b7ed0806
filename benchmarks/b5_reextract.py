"""B5, re-extraction: `govcrawler reextract` over an archive of synthetic articles, with its
extraction pool (2 workers) against one process (0 workers), and `--dry-run`.

The archive holds real pages of the synthetic English site (`benchmarks.sitegen`, its three
template generations), a fifth of them with a photo and its `<figcaption>`, archived as an
older extraction made them: captions pinned off (as `tests/older_extraction` does), so a
re-extraction writes a new version for that fifth. It is built directly through the real
storage functions (`storage.record_capture`, `storage.record_article`) from the pages read by
the crawl's own extraction in a generator pool, as B3's builder does (a replay crawl makes
about 40 pages/s), and kept under the work directory for the next run.

Measured, each as a `govcrawler reextract` process: the whole archive once with the pool (the
12-minute goal), then interleaved rounds over disjoint id ranges of a second copy — pool,
one process, pool `--dry-run` — for the ratios, medians over the rounds.
"""

from __future__ import annotations

import json
import multiprocessing
import resource
import shutil
import statistics
import subprocess
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import storage
from benchmarks.pages import article_page
from benchmarks.report import Goal, Section
from benchmarks.sitegen import SiteSpec, synth_article
from govcrawler.reextraction.extraction import ARTICLE, CapturedPage, extract_page

ROOT = Path(__file__).resolve().parent.parent
GOVCRAWLER = [str(ROOT / ".venv" / "bin" / "govcrawler")]
HEADERS = {"Content-Type": "text/html; charset=utf-8", "Server": "nginx"}
PHOTO_EVERY = 5  # a fifth of the articles show a captioned photo
CRAWLED = datetime(2025, 7, 1, tzinfo=UTC)
MODES = {  # name: extra arguments of `govcrawler reextract`
    "pool": ["--workers", "2"],
    "one process": ["--workers", "0"],
    "dry-run, pool": ["--workers", "2", "--dry-run"],
}
RATIO_GOAL, MINUTES_GOAL = 1.7, 12.0


def page_bytes(spec: SiteSpec, i: int) -> tuple[str, bytes]:
    article = synth_article(spec, i)
    media = ""
    if i % PHOTO_EVERY == 0:
        photo = f"/10462/10758/images/{article.doc_id}.jpg"
        caption = f"Photo: {article.text.title}"
        media = f'\n<figure><img src="{photo}" alt=""><figcaption>{caption}</figcaption></figure>'
    html = article_page(
        article.url,
        article.doc_id,
        article.column,
        article.published_on,
        article.text,
        [],
        media,
    )
    return article.url, html.encode("utf-8")


def prepare(spec: SiteSpec, i: int) -> tuple[storage.CaptureRecord, storage.ArticleRecord]:
    """Article `i` as the older extraction archived it (in a generator process)."""
    url, body = page_bytes(spec, i)
    made = extract_page(CapturedPage(0, ARTICLE, url, body, HEADERS["Content-Type"], 0))
    if made.record is None:
        raise RuntimeError(f"article {i} does not extract: {made.problem}")
    older = replace(made.record, origin=storage.CRAWL, captions=[]).derive()
    fetched = CRAWLED + timedelta(seconds=i)
    return storage.CaptureRecord(url, url, 200, fetched, body, HEADERS).derive(), older


def build(path: Path, size: int, batch: int = 500) -> float:
    """The archive of `size` articles at `path` (reused when already built); its build time."""
    done = path.with_suffix(".built.json")
    if done.is_file() and path.is_file():
        return float(json.loads(done.read_text())["seconds"])
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(path.name + "*"):
        stale.unlink()
    started = time.perf_counter()
    engine = storage.open_archive(f"sqlite:///{path}")
    sessions = storage.session_factory(engine)
    spec = SiteSpec(size, 8)
    # fork: the generators only make and extract pages (no archive, no reactor)
    with multiprocessing.get_context("fork").Pool(2) as generators:
        made = generators.imap(_prepare_of(spec), range(size), chunksize=50)
        for first in range(0, size, batch):
            with sessions.begin() as session:
                for _ in range(min(batch, size - first)):
                    capture, record = next(made)
                    row = storage.record_capture(session, capture)
                    storage.record_article(session, record, capture.fetched_at, row.id)
            if (first // batch) % 20 == 0:
                print(
                    f"  B5 build: {first + batch:,} articles, "
                    f"{time.perf_counter() - started:.0f} s",
                    flush=True,
                )
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    seconds = time.perf_counter() - started
    done.write_text(json.dumps({"seconds": seconds, "articles": size}))
    return seconds


class _prepare_of:
    def __init__(self, spec: SiteSpec) -> None:
        self.spec = spec

    def __call__(self, i: int) -> tuple[storage.CaptureRecord, storage.ArticleRecord]:
        return prepare(self.spec, i)


def copy(source: Path, target: Path) -> Path:
    for stale in target.parent.glob(target.name + "*"):
        stale.unlink()
    shutil.copyfile(source, target)
    return target


def timed(archive: Path, args: list[str]) -> dict:
    """One `govcrawler reextract` run: seconds, CPU seconds (it and its workers), report."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [*GOVCRAWLER, "reextract", "--json", *args, "--database", f"sqlite:///{archive}"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"reextract {args} failed: {done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "seconds": seconds,
        "cpu_s": cpu,
        "pages": report["pages"],
        "changed": report["changed"],
        "problems": report["problems"],
        "rate": report["pages"] / seconds,
    }


def run(workdir: Path, size: int = 100_000, rounds: int = 3, slice_size: int = 5_000) -> Section:
    if rounds * len(MODES) * slice_size > size:  # each timed run takes ids no other run had
        raise ValueError(
            f"B5: {rounds} rounds of {len(MODES)} runs of {slice_size:,} articles need more than "
            f"the archive's {size:,}: give a smaller --b5-slice"
        )
    pristine = workdir / "b5-archive" / f"archive-{size}.sqlite3"  # kept: run.py spares it
    build_s = build(pristine, size)
    print(f"  B5 archive of {size:,} built in {build_s:.0f} s", flush=True)
    work = workdir / "b5"
    work.mkdir(parents=True, exist_ok=True)
    whole = timed(copy(pristine, work / "whole.sqlite3"), MODES["pool"])
    print(f"  B5 whole archive, pool: {whole['seconds']:.0f} s", flush=True)
    sliced = copy(pristine, work / "slices.sqlite3")
    measured: dict[str, list[dict]] = {mode: [] for mode in MODES}
    first = 1
    for round_no in range(rounds):
        names = list(MODES)
        names = names[round_no % len(names) :] + names[: round_no % len(names)]  # interleave
        for mode in names:
            ids = f"{first}-{first + slice_size - 1}"
            measured[mode].append(timed(sliced, [*MODES[mode], "--id", ids]))
            first += slice_size
            print(
                f"  B5 round {round_no + 1} {mode}: {measured[mode][-1]['rate']:.0f} /s", flush=True
            )
    return summarise(size, build_s, whole, measured, rounds, slice_size)


def summarise(
    size: int, build_s: float, whole: dict, measured: dict[str, list[dict]], rounds: int, n: int
) -> Section:
    rate = {mode: statistics.median(r["rate"] for r in runs) for mode, runs in measured.items()}
    # ratios within each round (the machine drifts), then their median
    ratio = statistics.median(
        p["rate"] / o["rate"]
        for p, o in zip(measured["pool"], measured["one process"], strict=True)
    )
    dry = statistics.median(
        d["rate"] / p["rate"]
        for d, p in zip(measured["dry-run, pool"], measured["pool"], strict=True)
    )
    rows = [
        [
            mode,
            f"{rate[mode]:.0f}",
            f"{statistics.median(r['cpu_s'] / r['pages'] * 1000 for r in runs):.2f}",
            f"{sum(r['changed'] for r in runs) / sum(r['pages'] for r in runs):.1%}",
        ]
        for mode, runs in measured.items()
    ]
    rows.append(
        [
            f"pool, whole archive ({size:,})",
            f"{whole['rate']:.0f}",
            f"{whole['cpu_s'] / whole['pages'] * 1000:.2f}",
            f"{whole['changed'] / whole['pages']:.1%}",
        ]
    )
    minutes = whole["seconds"] / 60
    return Section(
        key="b5",
        title=f"B5 re-extraction ({size:,} articles)",
        columns=["reextract", "articles/s (median)", "CPU ms/article", "changed"],
        rows=rows,
        notes=[
            f"Archive: {size:,} synthetic English articles (three template generations, 40 KB "
            f"pages), 1 in {PHOTO_EVERY} with a captioned `<figure>`, archived with captions "
            "pinned off: a re-extraction writes a new version for those "
            f"({whole['changed']:,} of {whole['pages']:,}, {whole['changed'] / whole['pages']:.1%}"
            "). Built through storage.record_capture + record_article from pages the crawl's "
            f"extraction read, in a 2-process generator pool: {build_s:.0f} s "
            f"({size / build_s:.0f} articles/s).",
            f"Rates: `govcrawler reextract` processes over disjoint id ranges of {n:,} articles, "
            f"{rounds} interleaved rounds of the three modes; ratios taken within each round, "
            "median. CPU: the process and its workers (user + system).",
            f"Pool / one process: ×{ratio:.2f}; dry run / applied, both with the pool: "
            f"×{dry:.2f}. The whole archive with the pool: {whole['seconds']:.0f} s "
            f"({minutes:.1f} min), {whole['problems']} problems.",
        ],
        goals=[
            Goal(
                f"B5 reextract with the pool ≥ {RATIO_GOAL}× one process",
                "met" if ratio >= RATIO_GOAL else "missed",
                f"×{ratio:.2f}",
            ),
            Goal(
                f"B5 the whole {size:,} in ≤ {MINUTES_GOAL:.0f} minutes on 2 cores",
                "met" if minutes <= MINUTES_GOAL else "missed",
                f"{minutes:.1f} min",
            ),
            Goal(
                "B5 --dry-run as fast as reextract",
                "met" if dry >= 0.95 else "missed",
                f"×{dry:.2f} the applied run's rate",
            ),
        ],
        data={
            "build_s": build_s,
            "whole": whole,
            "measured": measured,
            "ratio": ratio,
            "dry_ratio": dry,
        },
    )
