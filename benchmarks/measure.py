"""Running a crawl in a subprocess and measuring it: wall time, CPU time, RSS.

CPU time is the child's own (user + system, from `os.wait4`, the same figure
`getrusage(RUSAGE_CHILDREN)` adds up); RSS is sampled from `/proc/<pid>/status` (VmRSS) while
it runs, and the peak is the kernel's high-water mark (`ru_maxrss`).
"""

from __future__ import annotations

import math
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


@dataclass
class Run:
    command: list[str]
    returncode: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    samples: list[tuple[float, float]] = field(default_factory=list)  # (seconds, RSS MB)
    stdout: str = ""
    stderr: str = ""

    def check(self) -> Run:
        if self.returncode != 0:
            raise RuntimeError(
                f"{' '.join(self.command[:6])}… exited {self.returncode}:\n{self.stderr[-3000:]}"
            )
        return self


def _rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(found[1]) / 1024 if found else None


def run(command: list[str], logs: Path, sample_every: float = 0.0, env: dict | None = None) -> Run:
    """Run `command` from the repository root, output to files under `logs`."""
    logs.mkdir(parents=True, exist_ok=True)
    out_path, err_path = logs / "stdout.txt", logs / "stderr.txt"
    result = Run(command)
    with out_path.open("w") as out, err_path.open("w") as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            command, stdout=out, stderr=err, cwd=ROOT, env={**os.environ, **(env or {})}
        )
        stop = threading.Event()
        if sample_every:

            def sample() -> None:
                while not stop.is_set():
                    rss = _rss_mb(process.pid)
                    if rss is not None:
                        result.samples.append((time.perf_counter() - start, rss))
                    stop.wait(sample_every)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        result.wall_s = time.perf_counter() - start
        stop.set()
        process.returncode = result.returncode = os.waitstatus_to_exitcode(status)
    result.cpu_s = usage.ru_utime + usage.ru_stime
    result.peak_rss_mb = usage.ru_maxrss / 1024
    result.stdout, result.stderr = out_path.read_text(), err_path.read_text()
    return result


def govcrawler_crawl(site: Path, database: Path, *extra: str) -> list[str]:
    """The command line of a real `govcrawler crawl --replay` run of the English spider (the
    synthetic sites are of English news)."""
    return [
        PYTHON,
        "-c",
        "from govcrawler.cli import main; main()",
        "crawl",
        "--spider",
        "sc_open_governance",
        "--replay",
        str(site),
        "--database",
        f"sqlite:///{database}",
        *extra,
    ]


def summary_count(stdout: str, label: str) -> int:
    """A number from the crawl summary: `pages fetched: N`, or `N new` in `articles:`."""
    found = re.search(rf"{label}: (\d+)", stdout) or re.search(rf"(\d+) {label}\b", stdout)
    if not found:
        raise ValueError(f"no {label!r} in the crawl summary:\n{stdout}")
    return int(found[1])


def median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def percentile(values: list[float], share: float) -> float:
    """The `share` quantile (nearest rank) of `values`."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of y over x (0 with fewer than two points)."""
    if len(points) < 2:
        return 0.0
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if not spread:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
