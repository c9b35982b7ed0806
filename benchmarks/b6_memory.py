"""B6, memory with files: B4's rule (peak RSS under 300 MB, no upward trend over the second
half) for a replay crawl whose articles each link an image and a PDF, with a few big PDFs.

`govcrawler crawl --replay` over a synthetic site (`SiteSpec(files=True, big_files=…)`, see
benchmarks/filesite.py) into a fresh archive. Every process of the crawl is sampled every
`every` seconds (benchmarks/measure.py): the crawl process and its text worker(s) apart,
since a worker reads whole files and the crawl process must not. The trend is the least-squares
slope of RSS over the second half of the run, as B4's. When files were fetched is read from
the archive afterwards (`capture.fetched_at` by kind), to tell the page phase from the files'.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from benchmarks import filesite, measure, probe
from benchmarks.b1_pipeline import site
from benchmarks.b4_memory import FLAT_MB, PEAK_GOAL_MB, at
from benchmarks.report import Goal, Section
from benchmarks.sitegen import SiteSpec
from govcrawler.spiders.files import FILE_PRIORITY

BIG_FILES = "20,60,99,150"  # MiB; 150 is over the 100 MiB default limit: recorded, not kept


def trend(samples: list[tuple[float, float]]) -> tuple[float, float, bool]:
    """(slope MB/s, growth MB, flat) over the second half of `samples`, by B4's rule."""
    samples = samples or [(0.0, 0.0)]
    half = [s for s in samples if s[0] >= samples[-1][0] / 2]
    slope = measure.slope(half)
    growth = slope * (half[-1][0] - half[0][0]) if len(half) > 1 else 0.0
    mean = sum(rss for _, rss in half) / len(half)
    return slope, growth, growth < max(FLAT_MB, 0.05 * mean)


def phases(database: Path, started_at: float) -> dict[str, list[float]]:
    """Seconds into the run (from `started_at`, Unix time) of the first and last capture of
    each kind (page, list, image, attachment)."""
    unix = "(julianday({}) - 2440587.5) * 86400"  # fetched_at is UTC
    with sqlite3.connect(database) as db:
        rows = db.execute(
            f"SELECT kind, min({unix.format('fetched_at')}), max({unix.format('fetched_at')}) "
            "FROM capture GROUP BY kind"
        ).fetchall()
    return {kind: [lo - started_at, hi - started_at] for kind, lo, hi in rows}


def _quarters(queue: list[dict]) -> list[dict]:
    if not queue:
        return []
    end = queue[-1]["t"]
    return [min(queue, key=lambda q: abs(q["t"] - share * end)) for share in (0.25, 0.5, 0.75)]


def stored(database: Path) -> dict[str, Any]:
    with sqlite3.connect(database) as db:
        blobs, raw, kept = db.execute(
            "SELECT count(*), coalesce(sum(length), 0), coalesce(sum(stored_length), 0) "
            "FROM file_blob"
        ).fetchone()
        big = db.execute("SELECT max(length) FROM file_blob").fetchone()[0] or 0
        states = dict(db.execute("SELECT state, count(*) FROM site_file GROUP BY state").fetchall())
        late = db.execute(  # file responses that waited for every page (FILE_PRIORITY)
            "SELECT count(*) FROM capture WHERE kind IN ('image', 'attachment') AND fetched_at > "
            "(SELECT max(fetched_at) FROM capture WHERE kind = 'page')"
        ).fetchone()[0]
        files = db.execute(
            "SELECT count(*) FROM capture WHERE kind IN ('image', 'attachment')"
        ).fetchone()[0]
    totals = {"blobs": blobs, "raw_mb": raw / 1e6, "stored_mb": kept / 1e6}
    totals |= {"largest_mib": big / 2**20, "after_pages": late, "file_captures": files}
    return {**totals, "states": states}


def run(
    workdir: Path,
    pages: int = 45_000,
    columns: int = 8,
    every: float = 1.0,
    big_files: str = BIG_FILES,
    max_bytes: int | None = None,
    settings: dict[str, object] | None = None,
) -> Section:
    """`settings`: for a diagnostic run (measure.govcrawler_crawl's)."""
    per_page = 20
    articles = max(1, (pages - 2) * per_page // (per_page + 1))
    spec = SiteSpec(articles, columns, per_page, files=True, big_files=big_files)
    info = site(workdir / "b6m", spec)
    database = workdir / "b6m" / "archive.sqlite3"
    for stale in database.parent.glob("archive.sqlite3*"):
        stale.unlink()
    queue_log = workdir / "b6m" / "scheduler.jsonl"
    queue_log.unlink(missing_ok=True)
    env = {probe.ENV: str(queue_log)}
    if max_bytes:
        env["GOVCRAWLER_FILE_MAX_BYTES"] = str(max_bytes)
    command = measure.govcrawler_crawl(info.root, database, settings=settings, probe=True)
    result = measure.run(command, workdir / "b6m" / "crawl", every, env, every_process=True)
    result.check()
    queue = [json.loads(line) for line in queue_log.read_text().splitlines() if line.strip()]
    most = max(queue, key=lambda q: q["waiting"], default={"t": 0, "waiting": 0})
    fetched = measure.summary_count(result.stdout, "pages fetched")
    files = measure.summary_count(result.stdout, "files fetched")
    crawl = result.processes[0] if result.processes else measure.Process(0, "crawl")
    workers = [p for p in result.processes if p.role == "text worker"]
    others = [p for p in result.processes[1:] if p.role != "text worker"]
    worker_samples = sorted(s for w in workers for s in w.samples)  # one at a time by default
    samples = crawl.samples or [(0.0, result.peak_rss_mb)]
    slope, growth, flat = trend(samples)
    w_slope, w_growth, w_flat = trend(worker_samples)
    worker_peak = max((w.peak_rss_mb for w in workers), default=0.0)
    when = phases(database, result.started_at)
    kept = stored(database)
    rows = [
        [label, f"{moment[0]:.0f}", f"{moment[1]:.0f}"]
        for label, moment in (
            ("crawl process: start (first sample)", samples[0]),
            ("after start-up (5 % of the run)", at(samples, 0.05)),
            ("middle", at(samples, 0.5)),
            ("end (last sample)", samples[-1]),
        )
    ]
    rows += [
        ["crawl process: peak (VmHWM)", "", f"{crawl.peak_rss_mb:.0f}"],
        ["crawl process: trend, second half", "", f"{slope * 60:+.2f} MB/min ({growth:+.0f} MB)"],
        ["text worker(s): peak (VmHWM)", "", f"{worker_peak:.0f}"],
        [
            "text worker(s): trend, second half",
            "",
            f"{w_slope * 60:+.2f} MB/min ({w_growth:+.0f} MB)",
        ],
        ["all processes: ru_maxrss (the largest of them)", "", f"{result.peak_rss_mb:.0f}"],
    ]
    quarters = [at(samples, q / 4) for q in range(1, 4)]
    phase_text = "; ".join(f"{kind} {lo:.0f}-{hi:.0f} s" for kind, (lo, hi) in sorted(when.items()))
    return Section(
        key="b6m",
        title=f"B6 memory with files ({fetched:,} pages and {files:,} files crawled by replay)",
        columns=["moment", "seconds", "RSS MB"],
        rows=rows,
        notes=[
            f"Synthetic site: {info.articles:,} articles of about 40 KB in {columns} columns, "
            f"{info.list_pages:,} list pages; each article links a PNG (random pixels, 14-90 KB) "
            f"and a Chinese PDF of 1-6 pages ({filesite.library()}); big attachments of "
            f"{big_files} MiB spread over the site (random bytes; over the limit: a sparse "
            f"file, declared by its size, never read). Fresh archive; GOVCRAWLER_TEXT_WORKERS "
            "1; "
            f"{len(samples)} samples, one every {every:g} s.",
            f"The crawl took {result.wall_s:.0f} s ({fetched / result.wall_s:.0f} pages/s, "
            f"{files / result.wall_s:.0f} files/s); CPU: crawl process "
            f"{result.own_cpu_s:.0f} s, "
            f"text worker(s) {sum(w.cpu_s for w in workers):.0f} s "
            f"({len(workers)} worker process(es); also "
            f"{', '.join(p.role for p in others) or 'none'}).",
            f"Captured (first-last, seconds into the run): {phase_text}.",
            f"Stored: {kept['blobs']:,} blobs, {kept['raw_mb']:,.0f} MB raw in "
            f"{kept['stored_mb']:,.0f} MB of zlib chunks, the largest "
            f"{kept['largest_mib']:.0f} MiB; "
            "file states " + ", ".join(f"{k} {v:,}" for k, v in kept["states"].items()) + ".",
            f"{kept['after_pages']:,} of the {kept['file_captures']:,} file captures "
            f"({kept['after_pages'] / max(kept['file_captures'], 1):.0%}) were fetched after the "
            "last page (a page's files are requested at FILE_PRIORITY "
            f"{FILE_PRIORITY}; the list's next page at -1).",
            "Crawl-process RSS at the quarters: "
            + ", ".join(f"{t:.0f} s {rss:.0f} MB" for t, rss in quarters)
            + ".",
            f"Requests waiting in the scheduler (benchmarks/probe.py, seconds from the engine's "
            f"start): at most {most['waiting']:,} at {most['t']:.0f} s; at the quarters "
            + ", ".join(f"{q['t']:.0f} s {q['waiting']:,}" for q in _quarters(queue))
            + ".",
        ],
        goals=[
            Goal(
                f"B6 crawl process peak RSS < {PEAK_GOAL_MB} MB with files",
                "met" if crawl.peak_rss_mb < PEAK_GOAL_MB else "missed",
                f"peak {crawl.peak_rss_mb:.0f} MB over {fetched:,} pages and {files:,} files",
            ),
            Goal(
                "B6 crawl process no upward trend with files",
                "met" if flat else "missed",
                f"{slope * 60:+.2f} MB/min over the second half ({growth:+.0f} MB; flat means "
                f"< {FLAT_MB} MB or 5 % of its mean)",
            ),
            Goal(
                f"B6 text worker peak RSS < {PEAK_GOAL_MB} MB",
                "met" if worker_peak < PEAK_GOAL_MB else "missed",
                f"peak {worker_peak:.0f} MB (largest file read {kept['largest_mib']:.0f} MiB); "
                f"second half {w_growth:+.0f} MB ({'flat' if w_flat else 'growing'})",
            ),
        ],
        data={
            "samples": samples,
            "worker_samples": worker_samples,
            "processes": [
                {"pid": p.pid, "role": p.role, "peak_rss_mb": p.peak_rss_mb, "cpu_s": p.cpu_s}
                for p in result.processes
            ],
            "peak_rss_mb": crawl.peak_rss_mb,
            "worker_peak_rss_mb": worker_peak,
            "wall_s": result.wall_s,
            "cpu_s": result.cpu_s,
            "own_cpu_s": result.own_cpu_s,
            "pages": fetched,
            "files": files,
            "phases": when,
            "scheduler": queue,
            "settings": settings or {},
            "stored": kept,
        },
    )
