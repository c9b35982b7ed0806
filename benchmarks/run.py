"""Run the benchmarks, print their tables and write benchmarks/RESULTS.md.

    .venv/bin/python -m benchmarks.run --all
    .venv/bin/python -m benchmarks.run b3 --b3-size 200000 --b3-budget 1800
    .venv/bin/python -m benchmarks.run b6 --b6-parts text,cost --b6-rounds 3

Each benchmark's results are kept as JSON in the work directory (default
/tmp/govcrawler-bench/results), so running some of them again rewrites RESULTS.md with the
fresh ones and the others as they were.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from benchmarks import (
    b1_pipeline,
    b2_incremental,
    b3_archive,
    b4_memory,
    b5_reextract,
    b6_cost,
    b6_memory,
    b6_text,
)
from benchmarks.report import RESULTS, Section, machine, section_text, write_results

WORKDIR = Path("/tmp/govcrawler-bench")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Run govcrawler's benchmarks.")
    p.add_argument(
        "benches", nargs="*", choices=["b1", "b2", "b3", "b4", "b5", "b6", []], default=[]
    )
    p.add_argument("--all", action="store_true", help="run B1 to B6 (what `make bench` runs)")
    p.add_argument("--workdir", type=Path, default=WORKDIR, help="sites, archives, results")
    p.add_argument("--results", type=Path, default=RESULTS, help="the Markdown file written")
    p.add_argument("--b1-articles", type=int, default=3000, help="B1 site size (articles)")
    p.add_argument("--repeats", type=int, default=5, help="B1 rounds (a and b each)")
    p.add_argument("--b2-articles", type=int, default=10_000)
    p.add_argument("--b3-size", type=int, default=1_000_000, help="B3 articles wanted")
    p.add_argument("--b3-budget", type=float, default=7200, help="B3 build budget, seconds")
    p.add_argument("--b3-batch", type=int, default=500, help="B3 articles per transaction")
    p.add_argument("--b4-pages", type=int, default=100_000)
    p.add_argument("--b5-size", type=int, default=100_000, help="B5 archive (articles)")
    p.add_argument("--b5-rounds", type=int, default=3, help="B5 interleaved rounds")
    p.add_argument("--b5-slice", type=int, default=10_000, help="B5 articles per timed run")
    p.add_argument(
        "--b6-parts",
        default="text,cost,memory",
        help="B6's parts: text (library prices), cost (text workers 1 vs 0, growth per file), "
        "memory (RSS with files)",
    )
    p.add_argument("--b6-pages", type=int, default=45_000, help="B6 memory site size (pages)")
    p.add_argument("--b6-big", default=b6_memory.BIG_FILES, help="B6 memory big files, MiB")
    p.add_argument("--b6-cost-pages", type=int, default=2000, help="B6 cost site size (pages)")
    p.add_argument("--b6-rounds", type=int, default=3, help="B6 cost rounds")
    p.add_argument("--b6-text-repeat", type=int, default=7, help="B6 text rounds")
    p.add_argument("--keep", action="store_true", help="keep generated sites and archives")
    return p


def bench(name: str, args: argparse.Namespace) -> list[Section]:
    work = args.workdir
    if name == "b1":
        return [b1_pipeline.run(work, args.b1_articles, repeats=args.repeats)]
    if name == "b2":
        return [b2_incremental.run(work, args.b2_articles)]
    if name == "b3":
        return [b3_archive.run(work, args.b3_size, args.b3_budget, args.b3_batch)]
    if name == "b4":
        return [b4_memory.run(work, args.b4_pages)]
    if name == "b5":
        return [b5_reextract.run(work, args.b5_size, args.b5_rounds, args.b5_slice)]
    sections = []
    parts = [part.strip() for part in args.b6_parts.split(",") if part.strip()]
    for part in parts:  # each its own sections: a part may run again alone
        start, started_at = time.perf_counter(), time.gmtime()
        if part == "text":
            made = [b6_text.run(args.b6_text_repeat)]
        elif part == "cost":
            made = b6_cost.run(work, args.b6_cost_pages, args.b6_rounds)
        elif part == "memory":
            made = [b6_memory.run(work, args.b6_pages, big_files=args.b6_big)]
        else:
            raise SystemExit(f"--b6-parts: no part {part!r} (text, cost, memory)")
        for section in made:
            section.data["seconds"] = time.perf_counter() - start
            section.data["measured_at"] = time.strftime("%Y-%m-%d %H:%M UTC", started_at)
        sections += made
    return sections


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    names = ["b1", "b2", "b3", "b4", "b5", "b6"] if args.all else args.benches
    if not names:
        parser().error("name the benchmarks to run (b1 b2 b3 b4 b6) or give --all")
    results = args.workdir / "results"
    for name in names:
        start, started_at, code = time.perf_counter(), time.gmtime(), machine()["code"]
        print(f"{name.upper()}: running (work directory {args.workdir / name})", flush=True)
        sections = bench(name, args)
        # the code the run started with (what its processes loaded), and any later commit
        ended_with = machine()["code"]
        moved = f" (HEAD moved to {ended_with} while it ran)" if ended_with != code else ""
        for section in sections:
            section.data.setdefault("seconds", time.perf_counter() - start)
            section.data.setdefault("measured_at", time.strftime("%Y-%m-%d %H:%M UTC", started_at))
            section.data["code"] = code + moved
            section.save(results)
            print(section_text(section), flush=True)
        if not args.keep:
            for directory in (name, f"{name}m", f"{name}c"):
                shutil.rmtree(args.workdir / directory, ignore_errors=True)
    write_results(results, args.results)
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
