"""Price attachment text extraction per MB and per page, library by library (a script, not a test).

    .venv/bin/pip install pypdf pdfminer.six python-docx   # the candidates govcrawler does not use
    .venv/bin/python -m benchmarks.bench_file_text [--repeat 7]

PDF candidates: pypdfium2 (PDFium; what `govcrawler.extract.files` uses), pypdf and
pdfminer.six; PyMuPDF is left out (AGPL). A candidate that is not installed is skipped. Each
reads the Chinese PDFs of tests/fixtures/files (made by `make_files.py` with reportlab's CID font
STSong-Light, fpdf2 with Noto Sans CJK and with WenQuanYi Micro Hei) and `long.pdf` (50 pages,
2,000 lines, 88,000 Chinese characters, 165 KB). Correctness: the lines the generator wrote
(expected.json) found in the text, and in the order written. Speed: the median over `--repeat`
rounds of one whole extraction of each file (open, every page, close), rounds interleaved across
the candidates, as ms per page and s per MB, and as a ratio to pypdfium2 in the same round (our
machines drift up to 2x within minutes: compare ratios). DOCX: the stdlib zipfile + lxml reader
of files.py against python-docx (paragraphs, then tables), per file.

Results, 2026-12-07, 2-core machine shared with two other jobs, --repeat 7 (Python 3.11.7).
Lines missing of those written (embedded 7, glyphs 10; cid, truetype, multipage: none missing
for any library):

    pypdfium2 5.15.2        embedded 0   glyphs 0
    pypdf 7.1.1             embedded 7   glyphs 10  (NUL between characters; with NULs removed,
                                                    4 of glyphs' 10 still wrong: codes past 255)
    pdfminer.six 20260107   embedded 7   glyphs 10  (no text at all from that font)

Speed (× = time over pypdfium2's in the same round):

    library                  file               KB pages  ms/page    s/MB      ×
    pypdfium2 5.15.2         cid.pdf           2.7     1     2.29    0.86    1.0
    pypdfium2 5.15.2         embedded.pdf     21.3     1     1.07    0.05    1.0
    pypdfium2 5.15.2         glyphs.pdf      103.6     1     3.99    0.04    1.0
    pypdfium2 5.15.2         truetype.pdf     18.6     1     0.78    0.04    1.0
    pypdfium2 5.15.2         multipage.pdf     3.7     3     0.70    0.58    1.0
    pypdfium2 5.15.2         long.pdf        164.8    50     0.78    0.24    1.0
    pypdf 7.1.1              cid.pdf           2.7     1     3.52    1.32    1.9
    pypdf 7.1.1              embedded.pdf     21.3     1     3.10    0.15    3.0
    pypdf 7.1.1              glyphs.pdf      103.6     1     7.66    0.08    1.9
    pypdf 7.1.1              truetype.pdf     18.6     1     2.15    0.12    2.8
    pypdf 7.1.1              multipage.pdf     3.7     3     1.41    1.17    2.1
    pypdf 7.1.1              long.pdf        164.8    50     3.49    1.08    4.6
    pdfminer.six 20260107    cid.pdf           2.7     1     5.07    1.90    2.2
    pdfminer.six 20260107    embedded.pdf     21.3     1     4.03    0.19    3.9
    pdfminer.six 20260107    glyphs.pdf      103.6     1    11.19    0.11    2.8
    pdfminer.six 20260107    truetype.pdf     18.6     1     4.96    0.27    6.4
    pdfminer.six 20260107    multipage.pdf     3.7     3     2.04    1.69    3.0
    pdfminer.six 20260107    long.pdf        164.8    50    28.06    8.72   36.0

DOCX annex.docx (36 KB): zipfile+lxml 0.38 ms per file, python-docx 9.41 ms (×24.5); an
earlier run 0.24 / 7.56 ms (×31.3).

`python -m benchmarks.run b6 --b6-parts text` runs this and writes its numbers as a section of
benchmarks/RESULTS.md (B6, benchmarks/b6_text.py): the latest figures are there.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from govcrawler.extract import files

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "files"
CHINESE_PDFS = ("cid.pdf", "embedded.pdf", "glyphs.pdf", "truetype.pdf", "multipage.pdf")
LONG_PDF = "long.pdf"

Reader = Callable[[bytes], list[str]]  # the text of each page


def pdfium_pages(data: bytes) -> list[str]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        pages = []
        for page in document:
            textpage = page.get_textpage()
            pages.append(textpage.get_text_range())
            textpage.close()
            page.close()
        return pages
    finally:
        document.close()


def pypdf_pages(data: bytes) -> list[str]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return [page.extract_text() for page in reader.pages]


def pdfminer_pages(data: bytes) -> list[str]:
    from pdfminer.high_level import extract_text

    pages = extract_text(io.BytesIO(data)).split("\f")
    return pages[:-1] if len(pages) > 1 and not pages[-1].strip() else pages


CANDIDATES: dict[str, tuple[str, Reader]] = {
    "pypdfium2": ("pypdfium2", pdfium_pages),
    "pypdf": ("pypdf", pypdf_pages),
    "pdfminer.six": ("pdfminer", pdfminer_pages),
}


def installed() -> dict[str, Reader]:
    import importlib
    import importlib.metadata

    out = {}
    for name, (module, reader) in CANDIDATES.items():
        try:
            importlib.import_module(module)
        except ImportError:
            print(f"{name}: not installed, skipped")
            continue
        out[f"{name} {importlib.metadata.version(name)}"] = reader
    return out


def correctness(text: str, lines: list[str]) -> tuple[int, bool]:
    """(lines missing, the found ones in the order written), in the text as the library gave it
    (line ends aside: a NUL between characters is a character missing)."""
    text = text.replace("\r\n", "\n")
    positions = [text.find(line) for line in lines]
    found = [p for p in positions if p >= 0]
    return positions.count(-1), found == sorted(found)


def timed(reader: Reader, data: bytes) -> tuple[float, int]:
    start = time.perf_counter()
    try:
        pages = len(reader(data))
    except Exception:
        pages = 0
    return time.perf_counter() - start, pages


def bench_pdfs(readers: dict[str, Reader], names: list[str], repeat: int) -> dict[str, object]:
    expected = json.loads((FIXTURES / "expected.json").read_text("utf-8"))
    blobs = {name: (FIXTURES / name).read_bytes() for name in names}
    print("\nCJK text (lines missing of those written; order kept):")
    quality: dict[str, dict[str, str]] = {}
    for label, reader in readers.items():
        row = {}
        for name in names:
            if not expected.get(name):
                continue
            try:
                text = "\n".join(reader(blobs[name]))
                missing, ordered = correctness(text, expected[name])
                row[name] = f"{missing} missing" + ("" if ordered else ", order wrong")
            except Exception as error:
                row[name] = f"error {type(error).__name__}"
        quality[label] = row
        print(f"  {label:<24} " + "  ".join(f"{n}: {v}" for n, v in row.items()))
    seconds: dict[str, dict[str, list[float]]] = {r: {n: [] for n in names} for r in readers}
    pages: dict[str, int] = {}
    first = next(iter(readers))
    for _ in range(repeat):
        for name in names:
            for label, reader in readers.items():  # interleaved, same minute for every candidate
                spent, count = timed(reader, blobs[name])
                seconds[label][name].append(spent)
                if count and label == first:
                    pages[name] = count
    print(f"\nspeed, median of {repeat} (× = time / {first}'s in the same round):")
    print(
        f"  {'library':<24} {'file':<14} {'KB':>6} {'pages':>5} {'ms/page':>8} {'s/MB':>7} {'×':>6}"
    )
    table = []
    for label in readers:
        for name in names:
            kb = len(blobs[name]) / 1024
            median = statistics.median(seconds[label][name])
            ratio = statistics.median(
                a / b for a, b in zip(seconds[label][name], seconds[first][name], strict=True)
            )
            per_page = median / max(pages.get(name, 1), 1) * 1e3
            per_mb = median / (kb / 1024)
            table.append([label, name, round(kb, 1), pages.get(name, 0), per_page, per_mb, ratio])
            print(
                f"  {label:<24} {name:<14} {kb:6.1f} {pages.get(name, 0):5d}"
                f" {per_page:8.2f} {per_mb:7.2f} {ratio:6.1f}"
            )
    return {"quality": quality, "speed": table}


def python_docx_text(data: bytes) -> str:
    import docx

    document = docx.Document(io.BytesIO(data))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        lines.extend("\t".join(cell.text for cell in row.cells) for row in table.rows)
    return "\n".join(lines)


def bench_docx(repeat: int, calls: int) -> dict[str, float]:
    """ms per file of annex.docx, median, by reader."""
    data = (FIXTURES / "annex.docx").read_bytes()
    readers: dict[str, Callable[[bytes], object]] = {"zipfile+lxml": files.file_text}
    try:
        import docx  # noqa: F401

        readers["python-docx"] = python_docx_text
    except ImportError:
        print("python-docx: not installed, skipped")
    results: dict[str, list[float]] = {label: [] for label in readers}
    for _ in range(repeat):
        for label, reader in readers.items():
            start = time.perf_counter()
            for _ in range(calls):
                reader(data)
            results[label].append((time.perf_counter() - start) / calls * 1e3)
    print(f"\nDOCX annex.docx ({len(data) / 1024:.1f} KB), median of {repeat} x {calls} calls:")
    base = statistics.median(results["zipfile+lxml"])
    for label, values in results.items():
        median = statistics.median(values)
        print(f"  {label:<14} {median:6.2f} ms per file  ×{median / base:.1f}")
    return {label: statistics.median(values) for label, values in results.items()}


def run(repeat: int = 7, long: bool = True, docx_calls: int = 50) -> dict[str, object]:
    readers = installed()
    names = [*CHINESE_PDFS, *([LONG_PDF] if long else [])]
    print(f"python {sys.version.split()[0]}, repeat {repeat}")
    result = bench_pdfs(readers, names, repeat)
    result["docx"] = bench_docx(repeat, docx_calls)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="rounds per measurement")
    parser.add_argument("--no-long", action="store_true", help="leave out the 50-page PDF")
    args = parser.parse_args()
    run(args.repeat, long=not args.no_long)


if __name__ == "__main__":
    main()
