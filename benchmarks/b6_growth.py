"""B6, archive growth per stored file: what a crawl with files adds to the SQLite archive
beyond the same crawl without them, per stored file, against the goal (issue 14)
"≤ its compressed size + its text + 1 KB".

Two archives of one site, fresh: `with_files` (GOVCRAWLER_FETCH_FILES on, the default) and
`without` (off). Growth = the difference of their sizes on disk (the database file and any
WAL left, after the crawl closed it), over N = the blobs stored. Where it goes: SQLite's
`dbstat` per table and index (pages × page size), grouped, each group's difference over N;
the file chunks' and blobs' own payload (zlib bytes, text bytes) are the goal's allowance,
so what is left of their groups is their overhead (row headers, overflow-page pointers, the
unfilled end of each chunk's last page).
"""

from __future__ import annotations

import sqlite3
import zlib
from pathlib import Path

from benchmarks.report import Goal, Section

GOAL_SLACK = 1024  # bytes per stored file beyond compressed + text

# dbstat names (tables and their indexes) by what they hold; the rest are the pages' own.
GROUPS = {
    "file_chunk (zlib chunks)": ("file_chunk",),
    "file_blob (one row per sha256, with the text)": ("file_blob",),
    "files_fts (the text's search index)": ("files_fts",),
    "capture (one per file response)": ("capture", "ix_capture"),
    "site_file (one per file URL)": ("site_file", "ix_site_file"),
    "file_link (page → file)": ("file_link", "ix_file_link"),
}


LINKS = ("site_file (one per file URL)", "file_link (page → file)")
FTS = "files_fts (the text's search index)"


def _group(name: str) -> str:
    bare = name.removeprefix("sqlite_autoindex_")
    for group, prefixes in GROUPS.items():
        if any(bare == p or bare.startswith(p + "_") for p in prefixes):
            return group
    return "everything else (pages, lists, articles, their index)"


def archive_size(database: Path) -> int:
    """Bytes on disk: the database and what is left of its WAL."""
    return sum(p.stat().st_size for p in (database, Path(f"{database}-wal")) if p.exists())


def measure_archive(database: Path) -> dict[str, float]:
    """Bytes per group (dbstat), the free pages, the file totals and the size on disk."""
    with sqlite3.connect(database) as db:
        out: dict[str, float] = {group: 0 for group in [*GROUPS, _group("article")]}
        for name, size in db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
            out[_group(name)] += size
        page = db.execute("PRAGMA page_size").fetchone()[0]
        out["free pages"] = db.execute("PRAGMA freelist_count").fetchone()[0] * page
        blobs, raw, kept, text = db.execute(
            "SELECT count(*), coalesce(sum(length), 0), coalesce(sum(stored_length), 0), "
            "coalesce(sum(length(CAST(text AS BLOB))), 0) FROM file_blob"
        ).fetchone()
        texts, zipped = 0, 0  # what the texts would take as zlib (level 6, as page bodies)
        for (content,) in db.execute("SELECT text FROM file_blob WHERE length(text) > 0"):
            texts, zipped = texts + 1, zipped + len(zlib.compress(content.encode(), 6))
    out |= {"blobs": blobs, "raw": raw, "compressed": kept, "text": text, "with_text": texts}
    out["text_zlib"] = zipped
    out["page_size"] = page
    out["disk"] = archive_size(database)
    return out


def section(with_files: Path, without: Path, note: str) -> Section:
    a, b = measure_archive(with_files), measure_archive(without)
    n = max(a["blobs"], 1)
    growth = (a["disk"] - b["disk"]) / n
    allowance = (a["compressed"] + a["text"]) / n
    overhead = growth - allowance
    rows = []
    for group in [*GROUPS, _group("article"), "free pages"]:
        delta = (a[group] - b[group]) / n
        payload = {
            "file_chunk (zlib chunks)": a["compressed"] / n,
            "file_blob (one row per sha256, with the text)": a["text"] / n,
        }.get(group, 0.0)
        rows.append([group, f"{delta:,.0f}", f"{payload:,.0f}", f"{delta - payload:+,.0f}"])
    pages = sum(a[g] - b[g] for g in [*GROUPS, _group("article"), "free pages"]) / n
    rows.append(["(file size beyond the pages dbstat counts)", f"{growth - pages:,.0f}", "0",
                 f"{growth - pages:+,.0f}"])  # fmt: skip
    rows.append(["total growth per stored file", f"{growth:,.0f}", f"{allowance:,.0f}",
                 f"{overhead:+,.0f}"])  # fmt: skip
    # The pages record their file links (site_file, file_link) whether files are fetched or
    # not: in both archives, so outside the difference; counted here so the goal sees them.
    linked = (b[LINKS[0]] + b[LINKS[1]]) / n
    rows.append([f"+ {LINKS[0]} and {LINKS[1]} rows the pages write anyway", f"{linked:,.0f}",
                 "0", f"{linked:+,.0f}"])  # fmt: skip
    overhead += linked
    growth += linked
    rows.append(["total per stored file, links included", f"{growth:,.0f}", f"{allowance:,.0f}",
                 f"{overhead:+,.0f}"])  # fmt: skip
    worst = max(rows[:-4], key=lambda row: float(row[3].replace(",", "")))
    fts = a[FTS] - b[FTS]  # bytes, all files
    return Section(
        key="b6g",
        title=f"B6 archive growth per stored file ({a['blobs']:,} files)",
        columns=["where (dbstat, bytes per stored file)", "growth", "its allowance", "overhead"],
        rows=rows,
        notes=[
            note,
            f"Stored: {a['blobs']:,} blobs ({a['with_text']:,} with text), "
            f"{a['raw'] / n:,.0f} bytes raw, {a['compressed'] / n:,.0f} compressed, "
            f"{a['text'] / n:,.0f} bytes of text (UTF-8) per file on average; page size "
            f"{a['page_size']:.0f}.",
            f"Archive on disk: {a['disk'] / 1e6:,.1f} MB with files, {b['disk'] / 1e6:,.1f} MB "
            "without (same site, fresh archives); growth = their difference / stored files.",
            f"The search index of file texts (files_fts) takes {fts / max(a['text'], 1):.2f} bytes "
            f"per byte of text: {fts / max(a['with_text'], 1):,.0f} bytes per file with text. "
            f"The texts are stored as they are (file_blob.text); as zlib they would take "
            f"{a['text_zlib'] / max(a['text'], 1):.2f} of that, saving "
            f"{(a['text'] - a['text_zlib']) / n:,.0f} bytes per stored file.",
            "Allowance = the goal's compressed size + text; overhead = growth − allowance "
            f"(goal: ≤ {GOAL_SLACK} bytes). The pages record the URL and link of every file they "
            "link even when files are not fetched: those rows are in both archives, added back "
            f"for the goal. Largest overhead: {worst[0]} ({worst[3]} bytes).",
        ],
        goals=[
            Goal(
                "B6 archive growth per stored file ≤ compressed + text + 1 KB",
                "met" if overhead <= GOAL_SLACK else "missed",
                f"{growth:,.0f} bytes per file against {allowance:,.0f} + {GOAL_SLACK}: overhead "
                f"{overhead:+,.0f} bytes, most of it {worst[0]} ({worst[3]})",
            )
        ],
        data={
            "with_files": a,
            "without": b,
            "growth": growth,
            "allowance": allowance,
            "overhead": overhead,
        },
    )
