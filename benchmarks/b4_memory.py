"""B4, memory: the resident set of a long replay crawl, sampled every second.

`govcrawler crawl --replay` over a synthetic site of about `pages` pages into a fresh archive;
VmRSS of the crawl process is read from /proc every `every` seconds, the peak is the kernel's
high-water mark. The trend is the least-squares slope of RSS over the second half of the run.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks import measure
from benchmarks.b1_pipeline import site
from benchmarks.report import Goal, Section
from benchmarks.sitegen import SiteSpec

PEAK_GOAL_MB = 300
FLAT_MB = 10  # "no upward trend": the second half grows by less than this (or 5 % of its mean)


def at(samples: list[tuple[float, float]], share: float) -> tuple[float, float]:
    """The sample nearest to `share` of the run's duration."""
    end = samples[-1][0]
    return min(samples, key=lambda sample: abs(sample[0] - share * end))


def run(workdir: Path, pages: int = 100_000, columns: int = 8, every: float = 1.0) -> Section:
    per_page = 20
    articles = max(1, (pages - 2) * per_page // (per_page + 1))
    info = site(workdir / "b4", SiteSpec(articles, columns, per_page))
    database = workdir / "b4" / "archive.sqlite3"
    for stale in database.parent.glob("archive.sqlite3*"):
        stale.unlink()
    result = measure.run(
        measure.govcrawler_crawl(info.root, database), workdir / "b4" / "crawl", every
    ).check()
    fetched = measure.summary_count(result.stdout, "pages fetched")
    samples = result.samples or [(0.0, result.peak_rss_mb)]
    half = [s for s in samples if s[0] >= samples[-1][0] / 2]
    slope_mb_s = measure.slope(half)
    growth = slope_mb_s * (half[-1][0] - half[0][0]) if len(half) > 1 else 0.0
    mean_half = sum(rss for _, rss in half) / len(half)
    flat = growth < max(FLAT_MB, 0.05 * mean_half)
    rows = [
        [label, f"{moment[0]:.0f}", f"{moment[1]:.0f}"]
        for label, moment in (
            ("start (first sample)", samples[0]),
            ("after start-up (5 % of the run)", at(samples, 0.05)),
            ("middle", at(samples, 0.5)),
            ("end (last sample)", samples[-1]),
        )
    ]
    rows.append(["peak (ru_maxrss)", "", f"{result.peak_rss_mb:.0f}"])
    rows.append(
        ["trend, second half", "", f"{slope_mb_s * 60:+.2f} MB/min ({growth:+.0f} MB over it)"]
    )
    quarters = [at(samples, q / 4) for q in range(1, 4)]
    return Section(
        key="b4",
        title=f"B4 memory ({fetched:,} pages crawled by replay)",
        columns=["moment", "seconds", "RSS MB"],
        rows=rows,
        notes=[
            f"Synthetic site: {info.articles:,} articles of about 40 KB in {columns} columns, "
            f"{info.list_pages:,} list pages; fresh archive; {len(samples)} samples, one "
            f"every {every:g} s; the crawl took {result.wall_s:.0f} s "
            f"({fetched / result.wall_s:.0f} pages/s, {result.cpu_s:.0f} CPU-s).",
            "RSS at the quarters: "
            + ", ".join(f"{t:.0f} s {rss:.0f} MB" for t, rss in quarters)
            + ".",
        ],
        goals=[
            Goal(
                f"B4 peak RSS < {PEAK_GOAL_MB} MB",
                "met" if result.peak_rss_mb < PEAK_GOAL_MB else "missed",
                f"peak {result.peak_rss_mb:.0f} MB over {fetched:,} pages",
            ),
            Goal(
                "B4 no upward trend",
                "met" if flat else "missed",
                f"{slope_mb_s * 60:+.2f} MB/min over the second half ({growth:+.0f} MB; flat "
                f"means < {FLAT_MB} MB or 5 % of its mean {mean_half:.0f} MB)",
            ),
        ],
        data={
            "samples": samples,
            "peak_rss_mb": result.peak_rss_mb,
            "wall_s": result.wall_s,
            "cpu_s": result.cpu_s,
            "pages": fetched,
        },
    )
