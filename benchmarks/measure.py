"""Running a crawl in a subprocess and measuring it: wall time, CPU time, RSS.

CPU time is the child's own (user + system, from `os.wait4`, the same figure
`getrusage(RUSAGE_CHILDREN)` adds up); RSS is sampled from `/proc/<pid>/status` (VmRSS) while
it runs, and the peak is the kernel's high-water mark (`ru_maxrss`).

`os.wait4` counts the processes the crawl itself waited for (its text workers) in both figures:
CPU summed, `ru_maxrss` the largest of them. So the crawl's processes are also sampled one by
one (`Run.processes`): each one's VmRSS, its own high-water mark VmHWM (a peak between samples
is not missed) and its CPU time from `/proc/<pid>/stat`; `Run.own_cpu_s` is the crawl process
alone (wait4's figure less its workers' last sampled CPU: idle at the end, they lag nothing).
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
class Process:
    """One process of the run (the crawl itself, or a process it started), as sampled."""

    pid: int
    role: str  # "crawl", "text worker", "resource tracker" or its command line
    samples: list[tuple[float, float]] = field(default_factory=list)  # (seconds, RSS MB)
    peak_rss_mb: float = 0.0  # VmHWM, as last read
    cpu_s: float = 0.0  # user + system, as last read


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
    processes: list[Process] = field(default_factory=list)  # with `every_process`: [0] the crawl
    own_cpu_s: float = 0.0  # the crawl process alone (with `every_process`)
    started_at: float = 0.0  # Unix time of the start (to place the archive's own times)

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


_TICKS = os.sysconf("SC_CLK_TCK")


def _status_mb(pid: int) -> tuple[float, float] | None:
    """(VmRSS, VmHWM) in MB, None once the process is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    rss = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    hwm = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    if rss is None or hwm is None:
        return None  # a zombie has no memory lines
    return int(rss[1]) / 1024, int(hwm[1]) / 1024


def _cpu_s(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


def descendants(pid: int) -> list[int]:
    """The processes `pid` started, and theirs (from each thread's `children` list)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            children = Path(f"/proc/{pid}/task/{tid}/children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found += [child, *descendants(child)]
    return found


def _role(pid: int) -> str:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "gone"
    if "resource_tracker" in command:
        return "resource tracker"
    if "spawn_main" in command or "forkserver" in command:  # a worker: its name says which
        try:
            name = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            return "gone"
        return {"gc-text": "text worker", "gc-writer": "archive writer"}.get(name, name)
    return command[:80]


_NAMED = ("crawl", "text worker", "archive writer", "resource tracker")


def _sample_processes(result: Run, pid: int, elapsed: float) -> None:
    known = {p.pid: p for p in result.processes}
    for each in [pid, *descendants(pid)]:
        memory, cpu = _status_mb(each), _cpu_s(each)
        if memory is None or cpu is None:
            continue
        process = known.get(each)
        if process is None:
            process = Process(each, "crawl" if each == pid else _role(each))
            result.processes.append(process)
        elif process.role not in _NAMED:  # a worker names itself once it has started
            process.role = _role(each)
        process.samples.append((elapsed, memory[0]))
        process.peak_rss_mb, process.cpu_s = memory[1], cpu


def run(
    command: list[str],
    logs: Path,
    sample_every: float = 0.0,
    env: dict | None = None,
    every_process: bool = False,
) -> Run:
    """Run `command` from the repository root, output to files under `logs`; with
    `sample_every`, its RSS sampled that often, and with `every_process`, each of its
    processes (`Run.processes`)."""
    logs.mkdir(parents=True, exist_ok=True)
    out_path, err_path = logs / "stdout.txt", logs / "stderr.txt"
    result = Run(command)
    with out_path.open("w") as out, err_path.open("w") as err:
        start, result.started_at = time.perf_counter(), time.time()
        process = subprocess.Popen(
            command, stdout=out, stderr=err, cwd=ROOT, env={**os.environ, **(env or {})}
        )
        stop = threading.Event()
        sampler = None
        if sample_every:

            def sample() -> None:
                while not stop.is_set():
                    elapsed = time.perf_counter() - start
                    if every_process:
                        _sample_processes(result, process.pid, elapsed)
                    rss = _rss_mb(process.pid)
                    if rss is not None:
                        result.samples.append((elapsed, rss))
                    stop.wait(sample_every)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        result.wall_s = time.perf_counter() - start
        stop.set()
        if sampler is not None:
            sampler.join()
        process.returncode = result.returncode = os.waitstatus_to_exitcode(status)
    result.cpu_s = usage.ru_utime + usage.ru_stime
    result.peak_rss_mb = usage.ru_maxrss / 1024
    workers = sum(p.cpu_s for p in result.processes if p.role == "text worker")
    result.own_cpu_s = result.cpu_s - workers
    result.stdout, result.stderr = out_path.read_text(), err_path.read_text()
    return result


def govcrawler_crawl(
    site: Path,
    database: Path,
    *extra: str,
    settings: dict[str, object] | None = None,
    probe: bool = False,
) -> list[str]:
    """The command line of a real `govcrawler crawl --replay` run of the English spider (the
    synthetic sites are of English news). `settings`: values of govcrawler.settings changed
    before the crawl reads them (those the command line and environment do not reach, such as
    GOVCRAWLER_TEXT_WORKERS), as an operator would edit settings.py. `probe`: with
    benchmarks.probe's extension (it writes where its environment variable says)."""
    settings = dict(settings or {})
    if probe:
        import govcrawler.settings as defaults

        settings["EXTENSIONS"] = {**defaults.EXTENSIONS, "benchmarks.probe.SchedulerProbe": 0}
    # a dotted name is a module's constant (a diagnostic run, such as a changed priority)
    targets = [
        (f"importlib.import_module({name.rsplit('.', 1)[0]!r})", name.rsplit(".", 1)[1])
        if "." in name
        else ("govcrawler.settings", name)
        for name in settings
    ]
    changes = "".join(
        f"{module}.{attribute} = {value!r}; "
        for (module, attribute), value in zip(targets, settings.values(), strict=True)
    )
    return [
        PYTHON,
        "-c",
        f"import importlib, govcrawler.settings; {changes}from govcrawler.cli import main; main()",
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
