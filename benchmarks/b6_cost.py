"""B6, the text workers off the crawl's thread, and archive growth per file (b6_growth.py).

One synthetic site with files (an image and a Chinese PDF per article, benchmarks/filesite.py),
crawled by replay into fresh archives, `rounds` interleaved rounds of three crawls (the order
turned each round, so a drift of the machine's speed falls on each alike):

- workers 1: GOVCRAWLER_TEXT_WORKERS = 1, the default (text read in a worker process);
- workers 0: text read in a thread of the crawl process;
- no files: GOVCRAWLER_FETCH_FILES = False (what the files cost at all, and growth's baseline).

Wall time and the crawl process's own CPU (measure.py: wait4's figure less its workers'),
medians, and the median of each round's ratio workers 1 / workers 0. The last workers-1
archive and the no-files one are kept for the growth section.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from benchmarks import b6_growth, filesite, measure
from benchmarks.b1_pipeline import site
from benchmarks.report import Goal, Section
from benchmarks.sitegen import SiteSpec

CONFIGS = {
    "workers 1": {"GOVCRAWLER_TEXT_WORKERS": 1},
    "workers 0": {"GOVCRAWLER_TEXT_WORKERS": 0},
    "no files": {"GOVCRAWLER_FETCH_FILES": False},
}


def crawl(root: Path, logs: Path, settings: dict[str, object]) -> dict[str, float]:
    database = logs / "archive.sqlite3"
    for stale in logs.glob("archive.sqlite3*"):
        stale.unlink()
    result = measure.run(
        measure.govcrawler_crawl(root, database, settings=settings), logs, 0.5,
        every_process=True,
    ).check()  # fmt: skip
    workers = [p for p in result.processes if p.role == "text worker"]
    return {
        "wall_s": result.wall_s,
        "own_cpu_s": result.own_cpu_s,
        "worker_cpu_s": sum(p.cpu_s for p in workers),
        "cpu_s": result.cpu_s,
        "pages": measure.summary_count(result.stdout, "pages fetched"),
        "files": _files(result.stdout),
        "peak_rss_mb": result.processes[0].peak_rss_mb if result.processes else 0.0,
    }


def _files(stdout: str) -> int:
    try:
        return measure.summary_count(stdout, "files fetched")
    except ValueError:  # files off: the summary has no files line
        return 0


def run(workdir: Path, pages: int = 2000, rounds: int = 3, columns: int = 4) -> list[Section]:
    per_page = 20
    articles = max(1, (pages - 2) * per_page // (per_page + 1))
    info = site(workdir / "b6c", SiteSpec(articles, columns, per_page, files=True))
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in CONFIGS}
    kept = {name: workdir / "b6c" / f"kept-{name.replace(' ', '-')}.sqlite3" for name in CONFIGS}
    for number in range(rounds):
        order = list(CONFIGS)[number % 3 :] + list(CONFIGS)[: number % 3]
        for name in order:
            logs = workdir / "b6c" / name.replace(" ", "-")
            runs[name].append(crawl(info.root, logs, CONFIGS[name]))
            last = runs[name][-1]
            print(
                f"  B6 {name} round {number + 1}: {last['pages']:.0f} pages, {last['files']:.0f} "
                f"files, {last['wall_s']:.1f} s, crawl CPU {last['own_cpu_s']:.1f} s",
                flush=True,
            )
            shutil.copyfile(logs / "archive.sqlite3", kept[name])
    note = (
        f"Site: {info.articles:,} articles in {columns} columns, {info.list_pages:,} list pages, "
        f"each linking a PNG and a Chinese PDF ({filesite.library()}); the archives of the last "
        "round's `workers 1` and `no files` crawls."
    )
    growth = b6_growth.section(kept["workers 1"], kept["no files"], note)
    return [threads(runs, info.articles, columns, rounds), growth]


def threads(
    runs: dict[str, list[dict[str, float]]], articles: int, columns: int, rounds: int
) -> Section:
    def med(name: str, key: str) -> float:
        return measure.median([r[key] for r in runs[name]])

    def paired(key: str, a: str = "workers 1", b: str = "workers 0") -> float:
        return measure.median(
            [x[key] / y[key] for x, y in zip(runs[a], runs[b], strict=True) if y[key]]
        )

    rows = [
        [
            name,
            f"{med(name, 'pages'):.0f}",
            f"{med(name, 'files'):.0f}",
            f"{med(name, 'wall_s'):.1f}",
            f"{med(name, 'own_cpu_s'):.1f}",
            f"{med(name, 'worker_cpu_s'):.1f}",
            f"{med(name, 'cpu_s') / med(name, 'wall_s'):.2f}",
            f"{med(name, 'peak_rss_mb'):.0f}",
        ]
        for name in CONFIGS
    ]
    wall, own = paired("wall_s"), paired("own_cpu_s")
    rows.append(
        [
            "ratio workers 1 / workers 0 (median of rounds)",
            "",
            "",
            f"{wall:.2f}",
            f"{own:.2f}",
            "",
            "",
            "",
        ]
    )
    files_wall = paired("wall_s", "workers 1", "no files")
    rows.append(
        [
            "ratio workers 1 / no files",
            "",
            "",
            f"{files_wall:.2f}",
            f"{paired('own_cpu_s', 'workers 1', 'no files'):.2f}",
            "",
            "",
            "",
        ]
    )
    return Section(
        key="b6w",
        title=f"B6 text read off the crawl's thread ({articles:,} articles with files, "
        f"{rounds} interleaved rounds)",
        columns=[
            "crawl",
            "pages",
            "files",
            "wall s",
            "crawl CPU s",
            "worker CPU s",
            "CPU/wall",
            "peak MB",
        ],
        rows=rows,
        notes=[
            "Medians of the rounds; crawl CPU = the crawl process alone (with workers 0 it "
            "includes the text reading, done in its thread); worker CPU = the text worker "
            "process(es); CPU/wall = all processes' CPU over wall time; peak = the crawl "
            "process's VmHWM.",
            "Ratios: the median of each round's ratio (rounds interleaved, order turned).",
        ],
        goals=[
            Goal(
                "B6 text off the crawl's thread does not slow the crawl (wall workers 1 / 0 ≤ 1)",
                "met" if wall <= 1.0 else "missed",
                f"wall ×{wall:.2f}, crawl-process CPU ×{own:.2f} (median of {rounds} paired "
                f"rounds; files cost ×{files_wall:.2f} of the no-files crawl's wall time)",
            )
        ],
        data={"runs": runs},
    )
