"""B6, attachment text priced per MB and per page for each library tried: the numbers of
benchmarks/bench_file_text.py (its docstring says how they are measured) as a RESULTS.md
section. A candidate that is not installed is named as skipped: install pypdf, pdfminer.six
and python-docx into the venv to price them too (govcrawler itself needs none of them).
"""

from __future__ import annotations

import statistics

from benchmarks import bench_file_text
from benchmarks.report import Goal, Section

CHOSEN = "pypdfium2"  # what govcrawler.extract.files reads PDFs with


def run(repeat: int = 7, long: bool = True, docx_calls: int = 50) -> Section:
    result = bench_file_text.run(repeat, long=long, docx_calls=docx_calls)
    quality: dict[str, dict[str, str]] = result["quality"]  # type: ignore[assignment]
    speed: list[list] = result["speed"]  # type: ignore[assignment]
    docx: dict[str, float] = result["docx"]  # type: ignore[assignment]
    tried = {label.split()[0] for label in quality}
    skipped = [name for name in bench_file_text.CANDIDATES if name not in tried]
    rows = [
        [label, name, f"{kb:.1f}", str(pages), f"{per_page:.2f}", f"{per_mb:.2f}", f"{ratio:.1f}"]
        for label, name, kb, pages, per_page, per_mb, ratio in speed
    ]
    chosen = next((label for label in quality if label.split()[0] == CHOSEN), None)
    complete = chosen is not None and set(quality[chosen].values()) == {"0 missing"}
    others = [row for row in speed if row[0] != chosen]
    fastest = all(row[6] >= 1.0 for row in others)
    summary = []
    for label in quality:
        mine = [row for row in speed if row[0] == label]
        summary.append(
            f"{label}: median {statistics.median(r[4] for r in mine):.2f} ms/page over the files, "
            f"×{statistics.median(r[6] for r in mine):.1f} of {CHOSEN}; lines missing: "
            + ", ".join(f"{name} {value.split()[0]}" for name, value in quality[label].items())
        )
    base = docx.get("zipfile+lxml", float("nan"))
    docx_text = ", ".join(f"{label} {ms:.2f} ms (×{ms / base:.1f})" for label, ms in docx.items())
    return Section(
        key="b6t",
        title=f"B6 attachment text per MB and per page (median of {repeat} interleaved rounds)",
        columns=["library", "file", "KB", "pages", "ms/page", "s/MB", f"× {CHOSEN}"],
        rows=rows,
        notes=[
            "The Chinese PDFs of tests/fixtures/files (reportlab CID font, fpdf2 with Noto Sans "
            "CJK and WenQuanYi; long.pdf: 50 pages, 88,000 characters); one whole extraction per "
            "file and round; × = time over the chosen library's in the same round, median.",
            *summary,
            f"Not installed, so not priced: {', '.join(skipped)}."
            if skipped
            else "Every candidate was installed; PyMuPDF is not a candidate (AGPL).",
            f"DOCX annex.docx, ms per file: {docx_text}.",
        ],
        goals=[
            Goal(
                f"B6 the PDF library used ({CHOSEN}) is the measured choice",
                "met" if complete and fastest and not skipped else "missed",
                ("every line of the Chinese PDFs read" if complete else "lines missing")
                + (
                    f"; fastest on every file of {len(tried)} libraries"
                    if fastest
                    else "; not the fastest on every file"
                )
                + (f"; {', '.join(skipped)} not measured" if skipped else ""),
            )
        ],
        data=result,
    )
