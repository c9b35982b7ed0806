"""Run the benchmarks, print their tables and write benchmarks/RESULTS.md.

    .venv/bin/python -m benchmarks.run --all
    .venv/bin/python -m benchmarks.run b3 --b3-size 200000 --b3-budget 1800

Each benchmark's results are kept as JSON in the work directory (default
/tmp/govcrawler-bench/results), so running some of them again rewrites RESULTS.md with the
fresh ones and the others as they were.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from benchmarks import b1_pipeline, b2_incremental, b3_archive, b4_memory
from benchmarks.report import RESULTS, Section, machine, section_text, write_results

WORKDIR = Path("/tmp/govcrawler-bench")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Run govcrawler's benchmarks.")
    p.add_argument("benches", nargs="*", choices=["b1", "b2", "b3", "b4", []], default=[])
    p.add_argument("--all", action="store_true", help="run B1 to B4 (what `make bench` runs)")
    p.add_argument("--workdir", type=Path, default=WORKDIR, help="sites, archives, results")
    p.add_argument("--results", type=Path, default=RESULTS, help="the Markdown file written")
    p.add_argument("--b1-articles", type=int, default=3000, help="B1 site size (articles)")
    p.add_argument("--repeats", type=int, default=5, help="B1 rounds (a and b each)")
    p.add_argument("--b2-articles", type=int, default=10_000)
    p.add_argument("--b3-size", type=int, default=1_000_000, help="B3 articles wanted")
    p.add_argument("--b3-budget", type=float, default=7200, help="B3 build budget, seconds")
    p.add_argument("--b3-batch", type=int, default=500, help="B3 articles per transaction")
    p.add_argument("--b4-pages", type=int, default=100_000)
    p.add_argument("--keep", action="store_true", help="keep generated sites and archives")
    return p


def bench(name: str, args: argparse.Namespace) -> Section:
    work = args.workdir
    if name == "b1":
        return b1_pipeline.run(work, args.b1_articles, repeats=args.repeats)
    if name == "b2":
        return b2_incremental.run(work, args.b2_articles)
    if name == "b3":
        return b3_archive.run(work, args.b3_size, args.b3_budget, args.b3_batch)
    return b4_memory.run(work, args.b4_pages)


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    names = ["b1", "b2", "b3", "b4"] if args.all else args.benches
    if not names:
        parser().error("name the benchmarks to run (b1 b2 b3 b4) or give --all")
    results = args.workdir / "results"
    for name in names:
        start, started_at, code = time.perf_counter(), time.gmtime(), machine()["code"]
        print(f"{name.upper()}: running (work directory {args.workdir / name})", flush=True)
        section = bench(name, args)
        section.data["seconds"] = time.perf_counter() - start
        section.data["measured_at"] = time.strftime("%Y-%m-%d %H:%M UTC", started_at)
        # the code the run started with (what its processes loaded), and any later commit
        ended_with = machine()["code"]
        moved = f" (HEAD moved to {ended_with} while it ran)" if ended_with != code else ""
        section.data["code"] = code + moved
        section.save(results)
        print(section_text(section), flush=True)
        if not args.keep:
            shutil.rmtree(args.workdir / name, ignore_errors=True)
    write_results(results, args.results)
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
