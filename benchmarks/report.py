"""Results: each benchmark's table, notes and goals; the machine; RESULTS.md.

Each benchmark returns a `Section`, saved as JSON under the work directory, so benchmarks run
one at a time still add up to one RESULTS.md. Whatever follows the `FINDINGS` marker in an
existing RESULTS.md (hand-written findings and profiles) is kept when it is written again, and
so is a section of it that has no JSON in the work directory (measured on another machine or
in an earlier session: its text and its goals as they were), rather than dropped.
"""

from __future__ import annotations

import json
import os
import platform
import re
import sqlite3
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
FINDINGS = "<!-- findings: written by hand, kept when the runner rewrites this file -->"
ORDER = ("b1", "b2", "b3", "b4", "b5", "b6t", "b6w", "b6g", "b6m")


@dataclass
class Goal:
    text: str
    status: str  # "met", "missed", "not measured"
    detail: str


@dataclass
class Section:
    key: str
    title: str
    columns: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    data: dict = field(default_factory=dict)  # raw measurements, for the record
    extra: str = ""  # more Markdown after the notes (a second table)
    raw: str = ""  # a section kept from an earlier RESULTS.md: its Markdown as it was

    def save(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.key}.json"
        path.write_text(json.dumps(asdict(self), indent=1, default=str))
        return path

    @classmethod
    def load(cls, path: Path) -> Section:
        raw = json.loads(path.read_text())
        raw["goals"] = [Goal(**goal) for goal in raw.get("goals", [])]
        return cls(**raw)


def table(columns: list[str], rows: list[list[str]]) -> str:
    """A Markdown table, columns padded so it reads as text too."""
    cells = [columns, *rows]
    widths = [max(len(str(row[i])) for row in cells) for i in range(len(columns))]

    def line(row: list[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(columns), rule, *(line(row) for row in rows)])


def section_text(section: Section) -> str:
    if section.raw:
        return section.raw
    marker = f"<!-- section: {section.key} -->"  # how a later run finds it again (kept_sections)
    parts = [f"## {section.title}", marker, "", table(section.columns, section.rows), ""]
    parts += [f"- {note}" for note in section.notes]
    if "measured_at" in section.data:
        parts.append(
            f"- Measured {section.data['measured_at']} in {section.data['seconds']:.0f} s, "
            f"code at {section.data.get('code', 'unknown')}."
        )
    if section.extra:
        parts += ["", section.extra]
    if section.goals:
        parts += ["", "Goals:", ""]
        parts += [f"- **{g.status}** — {g.text}: {g.detail}" for g in section.goals]
    return "\n".join(parts) + "\n"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float:
    try:
        first = Path("/proc/meminfo").read_text().splitlines()[0]
        return int(first.split()[1]) / 1024 / 1024
    except (OSError, IndexError, ValueError):
        return float("nan")


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    import scrapy
    import sqlalchemy

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "govcrawler", "storage"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.splitlines()
    if dirty:
        commit += f" + uncommitted changes in {len(dirty)} files under govcrawler/ and storage/"
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), "
        f"{_cpu_model()}, {_ram_gib():.1f} GiB RAM",
        "versions": f"Python {platform.python_version()}, Scrapy {scrapy.__version__}, "
        f"SQLAlchemy {sqlalchemy.__version__}, SQLite {sqlite3.sqlite_version}",
        "code": commit or "unknown",
    }


def render(sections: list[Section], info: dict[str, str], findings: str) -> str:
    goals = [(s.key.upper(), g) for s in sections for g in s.goals]
    head = [
        "# govcrawler benchmarks",
        "",
        "Written by `benchmarks/run.py` (see `benchmarks/__init__.py`); each section says when "
        "it was measured and on which code. Written on:",
        "",
        *(f"- {key}: {value}" for key, value in info.items()),
        "",
        "Timings on these shared 2-core machines drift up to 2x within minutes: compare ratios "
        "measured in one run, interleaved and repeated (medians), not absolute figures.",
        "",
        "## Goals at a glance",
        "",
        table(["bench", "status", "goal"], [[k, g.status, g.text] for k, g in goals]),
        "",
    ]
    body = [section_text(s) for s in sections]
    return "\n".join(head) + "\n" + "\n".join(body) + "\n" + FINDINGS + "\n" + findings


def kept_findings(path: Path) -> str:
    """The hand-written part of an existing RESULTS.md (after the marker)."""
    if not path.is_file():
        return ""
    text = path.read_text(encoding="utf-8")
    return text.split(FINDINGS, 1)[1].lstrip("\n") if FINDINGS in text else ""


_GLANCE_ROW = re.compile(r"^\| (B\w+)\s*\| ([^|]+?)\s*\| (.+?)\s*\|$")


def kept_sections(path: Path) -> dict[str, Section]:
    """The sections of an existing RESULTS.md by key (`## B1 …` is b1), with their goals from
    its "Goals at a glance" table."""
    if not path.is_file():
        return {}
    text = path.read_text(encoding="utf-8").split(FINDINGS, 1)[0]
    goals: dict[str, list[Goal]] = {}
    for line in text.splitlines():
        found = _GLANCE_ROW.match(line)
        if found and found[1] != "bench":
            goals.setdefault(found[1].lower(), []).append(Goal(found[3], found[2], "as measured"))
    kept = {}
    for part in re.split(r"^(?=## )", text, flags=re.MULTILINE)[1:]:
        title = part.splitlines()[0].removeprefix("## ")
        marked = re.search(r"^<!-- section: (\w+) -->$", part, re.MULTILINE)
        key = marked[1] if marked else title.split()[0].lower()
        if key in ORDER:
            raw = part.rstrip("\n") + "\n"
            kept[key] = Section(key, title, [], [], goals=goals.get(key, []), raw=raw)
    return kept


def write_results(results_dir: Path, path: Path = RESULTS) -> str:
    """RESULTS.md from every section saved under `results_dir` (and those of the existing
    file that have none); returns its text."""
    earlier = kept_sections(path)
    sections = [
        Section.load(results_dir / f"{key}.json")
        if (results_dir / f"{key}.json").is_file()
        else earlier[key]
        for key in ORDER
        if (results_dir / f"{key}.json").is_file() or key in earlier
    ]
    text = render(sections, machine(), kept_findings(path))
    path.write_text(text, encoding="utf-8")
    return text
