"""B1, pipeline cost: a bare Scrapy spider against the full govcrawler crawl, same pages.

Both crawl the same synthetic site through govcrawler's replay download handler, at the
concurrency of govcrawler's replay crawls (8 requests): (a) `benchmarks.bare_spider`, parsel
extraction into plain dicts, no pipelines; (b) `govcrawler crawl --replay` into a fresh
archive, written by its writer process (`GOVCRAWLER_ARCHIVE_WRITER=process`, a replay's
default); (c) the same with the archive written in the crawl's thread (`inline`). Runs
alternate a, b, c, then c, b, a, `repeats` times; each figure is the median of the runs, and
each ratio the median of the ratios of paired runs. CPU time is the crawling
process's with its children (user + system: the writer process's too); "net" figures subtract
the median wall or CPU time of the same crawler over a one-article site (interpreter start,
imports, opening the archive: a constant per run, not throughput).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks import measure
from benchmarks.report import Goal, Section
from benchmarks.sitegen import SiteInfo, SiteSpec, generate

# Issue 15: the full crawl, on both cores (its archive written by a process of its own, as a
# replay crawl does by default), keeps this share of the bare spider's wall throughput.
GOAL = 0.8


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


def full(root: Path, logs: Path, writer: str = "process") -> tuple[measure.Run, int]:
    database = logs / "archive.sqlite3"
    for stale in logs.glob("archive.sqlite3*"):
        stale.unlink()
    settings = {"GOVCRAWLER_ARCHIVE_WRITER": writer}
    result = measure.run(measure.govcrawler_crawl(root, database, settings=settings), logs)
    result.check()
    return result, measure.summary_count(result.stdout, "pages fetched")


def inline(root: Path, logs: Path) -> tuple[measure.Run, int]:
    return full(root, logs, writer="inline")


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
    crawlers: dict[str, Crawler] = {"a": bare, "b": full, "c": inline}
    bare(info.root, workdir / "b1" / "warm-up")  # the site and the interpreter into the cache
    startup = rounds(crawlers, tiny.root, workdir / "b1" / "startup", max(3, repeats // 2))
    runs = rounds(crawlers, info.root, workdir / "b1" / "runs", repeats)
    base = {
        (n, key): measure.median([r[key] for r in startup[n]])
        for n in crawlers
        for key in ("cpu_s", "wall_s")
    }

    def per_1000(name: str, net: bool) -> list[float]:
        cut = base[name, "cpu_s"] if net else 0
        return [(r["cpu_s"] - cut) / r["pages"] * 1000 for r in runs[name]]

    def rate(name: str, net: bool) -> list[float]:
        cut = base[name, "wall_s"] if net else 0
        return [r["pages"] / (r["wall_s"] - cut) for r in runs[name]]

    def paired(values: dict[str, list[float]], b: str, a: str = "a") -> float:
        return measure.median([y / x for x, y in zip(values[a], values[b], strict=True)])

    rates = {n: rate(n, True) for n in crawlers}
    gross_rates = {n: rate(n, False) for n in crawlers}
    cpu = {n: per_1000(n, True) for n in crawlers}
    labels = {
        "a": "(a) bare Scrapy spider, no pipelines",
        "b": "(b) govcrawler crawl, writer process",
        "c": "(c) govcrawler crawl, written inline",
    }
    rows = [
        [
            labels[name],
            str(runs[name][0]["pages"]),
            f"{measure.median(rates[name]):.0f}",
            f"{measure.median(gross_rates[name]):.0f}",
            f"{measure.median(cpu[name]):.2f}",
            f"{measure.median([r['cpu_s'] / r['wall_s'] for r in runs[name]]):.2f}",
            f"{base[name, 'wall_s']:.2f} / {base[name, 'cpu_s']:.2f}",
        ]
        for name in crawlers
    ]
    for b in ("b", "c"):
        rows.append(
            [
                f"ratio {b}/a (median of paired runs)",
                "",
                f"{paired(rates, b):.2f}",
                f"{paired(gross_rates, b):.2f}",
                f"{paired(cpu, b):.2f}",
                "",
                "",
            ]
        )
    wall, gross = paired(rates, "b"), paired(gross_rates, "b")
    return Section(
        key="b1",
        title=f"B1 pipeline cost ({info.pages} pages, {repeats} interleaved rounds)",
        columns=[
            "crawler",
            "pages",
            "net pages/s",
            "pages/s",
            "net CPU-s/1000 pages",
            "CPU/wall",
            "start-up wall / CPU s",
        ],
        rows=rows,
        notes=[
            f"Synthetic site: {info.articles} articles of about 40 KB in {columns} columns, "
            f"{info.list_pages} list pages; every crawler served by govcrawler's "
            "ReplayDownloadHandler at 8 concurrent requests.",
            "CPU/wall: CPU seconds (the crawl's process and its children) per wall second: "
            "above 1, the second core worked too.",
            "net = minus the wall or CPU time of the same crawler over a one-article site.",
            f"With its writer process the full crawl keeps {wall:.2f} of the bare spider's wall "
            f"throughput (net; {gross:.2f} with start-up); written inline, "
            f"{paired(rates, 'c'):.2f}. The writer process makes the crawl "
            f"x{paired(rates, 'b', 'c'):.2f} faster in wall time.",
        ],
        goals=[
            Goal(
                f"B1 full crawl keeps ≥ {GOAL} of the bare spider's wall throughput on 2 cores",
                "met" if wall >= GOAL else "missed",
                f"{wall:.2f} (net of start-up, median of paired ratios; with start-up "
                f"{gross:.2f}); CPU per page x{paired(cpu, 'b'):.2f} the bare spider's",
            )
        ],
        data={"runs": runs, "startup": startup, "started": started, "pages": info.pages},
    )
