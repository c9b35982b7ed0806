"""B1, pipeline cost: a bare Scrapy spider against the full govcrawler crawl, same pages.

Both crawl the same synthetic site through govcrawler's replay download handler, at the
concurrency of govcrawler's replay crawls (8 requests): (a) `benchmarks.bare_spider`, parsel
extraction into plain dicts, no pipelines; (b) `govcrawler crawl --replay` into a fresh
archive. Runs alternate a, b, then b, a, `repeats` times; each figure is the median of the
runs, and each ratio the median of the ratios of paired runs. CPU time is the crawling
process's own (user + system); "net" figures subtract the median CPU time of the same crawler
over a one-article site (interpreter start, imports, opening the archive).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks import measure
from benchmarks.report import Goal, Section
from benchmarks.sitegen import SiteInfo, SiteSpec, generate

GOAL = 0.85  # the full crawl keeps this share of the bare spider's throughput, in CPU terms


def site(workdir: Path, spec: SiteSpec) -> SiteInfo:
    """The site for `spec` under `workdir`, generated unless it is already there."""
    root = workdir / f"site-{spec.articles}x{spec.columns}"
    saved = root / "site.json"
    if saved.is_file() and json.loads(saved.read_text())["spec"] == spec.__dict__:
        info = SiteInfo(root=root, columns=spec.columns)
        info.articles, info.list_pages = spec.articles, json.loads(saved.read_text())["pages"]
        info.list_pages -= spec.articles + 2
        return info
    return generate(root, spec)


def bare(root: Path, logs: Path) -> tuple[measure.Run, int]:
    result = measure.run([measure.PYTHON, "-m", "benchmarks.bare_spider", str(root)], logs)
    stats = json.loads(result.check().stdout.strip().splitlines()[-1])
    return result, int(stats["downloader/response_count"])


def full(root: Path, logs: Path) -> tuple[measure.Run, int]:
    database = logs / "archive.sqlite3"
    for stale in logs.glob("archive.sqlite3*"):
        stale.unlink()
    result = measure.run(measure.govcrawler_crawl(root, database), logs).check()
    return result, measure.summary_count(result.stdout, "pages fetched")


Crawler = Callable[[Path, Path], tuple[measure.Run, int]]


def rounds(crawlers: dict[str, Crawler], root: Path, logs: Path, repeats: int) -> dict:
    """`repeats` rounds of every crawler, the order reversed every other round."""
    runs: dict[str, list[dict]] = {name: [] for name in crawlers}
    names = list(crawlers)
    for number in range(repeats):
        for name in names if number % 2 == 0 else names[::-1]:
            result, pages = crawlers[name](root, logs / f"{name}-{number}")
            runs[name].append({"wall_s": result.wall_s, "cpu_s": result.cpu_s, "pages": pages})
            print(
                f"  B1 {name} round {number + 1}: {pages} pages, "
                f"{result.wall_s:.1f} s wall, {result.cpu_s:.1f} s CPU",
                flush=True,
            )
    return runs


def run(workdir: Path, articles: int = 3000, columns: int = 4, repeats: int = 5) -> Section:
    started = time.time()
    info = site(workdir / "b1", SiteSpec(articles, columns))
    tiny = site(workdir / "b1", SiteSpec(1, columns))
    crawlers: dict[str, Crawler] = {"a": bare, "b": full}
    bare(info.root, workdir / "b1" / "warm-up")  # the site and the interpreter into the cache
    startup = rounds(crawlers, tiny.root, workdir / "b1" / "startup", max(3, repeats // 2))
    runs = rounds(crawlers, info.root, workdir / "b1" / "runs", repeats)
    base_cpu = {n: measure.median([r["cpu_s"] for r in startup[n]]) for n in crawlers}

    def per_1000(name: str, net: bool) -> list[float]:
        return [
            (r["cpu_s"] - (base_cpu[name] if net else 0)) / r["pages"] * 1000 for r in runs[name]
        ]

    def rate(name: str) -> list[float]:
        return [r["pages"] / r["wall_s"] for r in runs[name]]

    gross = [b / a for a, b in zip(per_1000("a", False), per_1000("b", False), strict=True)]
    net = [b / a for a, b in zip(per_1000("a", True), per_1000("b", True), strict=True)]
    wall = [b / a for a, b in zip(rate("a"), rate("b"), strict=True)]
    labels = {
        "a": "(a) bare Scrapy spider, no pipelines",
        "b": "(b) govcrawler crawl, fresh archive",
    }
    rows = [
        [
            labels[name],
            str(runs[name][0]["pages"]),
            f"{measure.median(rate(name)):.0f}",
            f"{measure.median(per_1000(name, False)):.2f}",
            f"{measure.median(per_1000(name, True)):.2f}",
            f"{measure.median([r['cpu_s'] / r['wall_s'] for r in runs[name]]):.2f}",
            f"{base_cpu[name]:.2f}",
        ]
        for name in crawlers
    ]
    share = 1 / measure.median(net)
    rows.append(
        [
            "ratio b/a (median of paired runs)",
            "",
            f"{measure.median(wall):.2f}",
            f"{measure.median(gross):.2f}",
            f"{measure.median(net):.2f}",
            "",
            "",
        ]
    )
    return Section(
        key="b1",
        title=f"B1 pipeline cost ({info.pages} pages, {repeats} interleaved rounds)",
        columns=[
            "crawler",
            "pages",
            "pages/s",
            "CPU-s/1000 pages",
            "net CPU-s/1000",
            "CPU/wall",
            "start-up CPU-s",
        ],
        rows=rows,
        notes=[
            f"Synthetic site: {info.articles} articles of about 40 KB in {columns} columns, "
            f"{info.list_pages} list pages; both crawlers served by govcrawler's "
            "ReplayDownloadHandler at 8 concurrent requests.",
            "CPU/wall: the share of the wall time the crawling process was on a CPU (the "
            "rest is waiting: file reads, SQLite, other processes on a shared machine).",
            "net = minus the start-up CPU of the same crawler over a one-article site.",
            f"Full crawl keeps {share:.2f} of the bare spider's throughput in CPU terms (net; "
            f"{1 / measure.median(gross):.2f} gross) and {measure.median(wall):.2f} in wall time.",
        ],
        goals=[
            Goal(
                f"B1 full crawl keeps ≥ {GOAL} of the bare spider's throughput in CPU terms",
                "met" if share >= GOAL else "missed",
                f"{share:.2f} (net CPU per page, median of paired ratios; gross "
                f"{1 / measure.median(gross):.2f})",
            )
        ],
        data={"runs": runs, "startup": startup, "started": started, "pages": info.pages},
    )
