"""The text of an attachment file: bytes in, a frozen `FileText` out, never an exception.

    file_text(data, declared_type, url) -> FileText(kind, text, pages, status, ...)

The kind is read from the bytes (magic numbers: `%PDF-`, a zip with `word/` or `xl/` parts,
OLE2 `D0CF11E0` with a `WordDocument` or `Workbook` stream, HTML, ...) and compared with the
kind the Content-Type names and the kind the URL's extension names; a disagreement is reported
(`disagreements`), never fatal, and the text is always read by what the bytes are.

Status, one of:
- `ok`: the text was read (it may be empty for an empty document).
- `no_text_layer`: a PDF whose pages carry (almost) no characters: a scan (OCR is not done here).
- `encrypted`: a PDF, XLS or Office file that needs a password to open (a PDF with an owner
  password only opens without one and is `ok`).
- `corrupt`: the bytes are not a whole file of their kind (a download cut mid-body, a "DOCX"
  that is not a zip), or they are HTML or text served as a document format (an error page
  where a PDF was linked: its text is kept, `reason` says what it is).
- `unsupported`: a kind read by no library here (DOC, WPS, OFD, PPT, RAR, 7z, images, ...).

Libraries, chosen by measurement (`benchmarks/bench_file_text.py`, 2-core machine shared with
two other jobs, medians of 7 rounds interleaved, 2026-12-07; its docstring has the whole run).
PDFs: tests/fixtures/files (make_files.py): reportlab's CID font STSong-Light (cid, multipage),
fpdf2 with Noto Sans CJK, an embedded CMap (embedded; glyphs: 400 distinct characters) and with
WenQuanYi TrueType (truetype), and long.pdf (50 pages, 88,000 CJK characters, 165 KB).

| library | lines missing: cid emb. glyphs tt multi | long.pdf ms/page, s/MB | × | licence |
|---|---|---|---|---|
| pypdfium2 5.15.2 | 0 0 0 0 0 | 0.78, 0.24 | 1 | Apache-2.0/BSD-3 |
| pypdf 7.1.1 | 0 7/7 10/10 0 0 | 3.49, 1.08 | 4.6 | BSD-3 |
| pdfminer.six 20260107 | 0 7/7 10/10 0 0 | 28.1, 8.72 | 36 | MIT |

(× is the time over pypdfium2's in the same round, on long.pdf; on the one-page files pypdf is
×1.9-3.0 and pdfminer.six ×2.2-6.4.) pypdf gives the embedded-CMap font's text as single
bytes with NULs between them (with the NULs removed, 4 of glyphs.pdf's 10 lines are still wrong:
its codes past 255), pdfminer.six nothing. pypdfium2 is the only one that reads every fixture
exactly, in the order written, and the fastest (×1.9-36): it is the one used. PDFium is C: it is
not thread-safe (calls here hold a lock), and a crash in it would end the process, so the crawl
runs extraction in a worker process, off its thread (`govcrawler.pipelines.filetext`).

DOCX: the stdlib zipfile + lxml reading `word/document.xml` in document order (paragraphs; a
table row is one line, cells separated by tabs): 0.24-0.38 ms for annex.docx against 7.6-9.4 ms
(×25-31) for python-docx (MIT), which would add a dependency and gives the tables apart from
the paragraphs, out of document order. XLSX: openpyxl (MIT) in read-only mode; XLS: xlrd
(BSD-3) 2.x (which reads only .xls). DOC and WPS (OLE2 Word binaries): no well-kept Python
library (`unsupported`). OFD: PyPI's list here has only little-used packages (easyofd,
ofdparser 0.0.8 of 2023, pyofd 0.1.6 of 2018; none among the 15,000 most downloaded), so
`unsupported` too (an OFD is a zip of XML, `TextCode` elements, should one be needed).
"""

from __future__ import annotations

import io
import re
import threading
import warnings
import zipfile
from dataclasses import dataclass
from typing import Any, Final, Literal

from govcrawler.extract.filetype import DOCUMENT_KINDS, declared_kind, sniff, url_kind
from govcrawler.extract.filetype import disagreements as kinds_disagree

Status = Literal["ok", "no_text_layer", "encrypted", "corrupt", "unsupported"]

# A zip member larger than this once decompressed is not read (a zip bomb).
MAX_UNZIPPED: Final = 256 * 1024 * 1024
# A PDF with fewer visible characters than this per page has no text layer.
MIN_CHARS_PER_PAGE: Final = 3
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffe\uffff]")
_PDF_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class FileText:
    """What a file is and the text read from it."""

    kind: str  # read from the bytes: pdf docx xlsx doc xls ole2 ofd zip rar 7z html text image ...
    text: str  # pages (PDF) and sheets (XLS, XLSX) separated by form feeds
    pages: int | None  # PDF pages, or sheets of a workbook; None where not known
    status: Status
    declared: str | None = None  # the kind the Content-Type names (None: it names none)
    extension: str | None = None  # the kind the URL's extension names
    disagreements: tuple[str, ...] = ()  # e.g. "Content-Type application/pdf: pdf, bytes: html"
    reason: str = ""  # why the status is not ok, in a few words
    library: str = ""  # what read the text


# --- reading the text ------------------------------------------------------------------------


def clean(text: str) -> str:
    """Line ends as \\n, no control characters (tabs, form feeds kept), no trailing spaces."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


Read = tuple[str, int | None, Status, str]  # text, pages, status, reason


def _pdf(data: bytes) -> Read:
    import pypdfium2 as pdfium

    with _PDF_LOCK:
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as error:
            code = getattr(error, "err_code", None)
            if code in (pdfium.raw.FPDF_ERR_PASSWORD, pdfium.raw.FPDF_ERR_SECURITY):
                return "", None, "encrypted", "needs a password"
            return "", None, "corrupt", str(error)
        try:
            pages = len(document)
            texts, failed = [], ""
            for number in range(pages):
                try:
                    page = document[number]
                    textpage = page.get_textpage()
                    texts.append(clean(textpage.get_text_range()))
                    textpage.close()
                    page.close()
                except Exception as error:  # one bad page: keep the others
                    failed = failed or f"page {number + 1}: {error}"
        finally:
            document.close()
    text = "\f".join(texts)
    if failed:
        return text, pages, "corrupt", failed
    visible = sum(1 for c in text if not c.isspace())
    if pages and visible < MIN_CHARS_PER_PAGE * pages:
        return text, pages, "no_text_layer", f"{visible} characters on {pages} pages"
    return text, pages, "ok", ""


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _read_member(archive: zipfile.ZipFile, name: str) -> bytes:
    info = archive.getinfo(name)
    if info.file_size > MAX_UNZIPPED:
        raise ValueError(f"{name} is {info.file_size:,} bytes unzipped")
    with archive.open(info) as member:
        data = member.read(MAX_UNZIPPED + 1)
    if len(data) > MAX_UNZIPPED:
        raise ValueError(f"{name} is over {MAX_UNZIPPED:,} bytes unzipped")
    return data


def _paragraph(p: Any) -> str:
    parts = []
    for node in p.iter(f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}cr"):
        tag = node.tag
        if tag == f"{_W}t":
            parts.append(node.text or "")
        elif tag == f"{_W}tab":
            parts.append("\t")
        else:
            parts.append("\n")
    return "".join(parts)


def _blocks(parent: Any, lines: list[str]) -> None:
    for child in parent:
        tag = child.tag
        if tag == f"{_W}p":
            lines.append(_paragraph(child))
        elif tag == f"{_W}tbl":
            for row in child.iter(f"{_W}tr"):
                cells = [
                    " ".join(_paragraph(p) for p in cell.iter(f"{_W}p"))
                    for cell in row.iter(f"{_W}tc")
                ]
                lines.append("\t".join(cells))
        elif tag in (f"{_W}sdt", f"{_W}sdtContent", f"{_W}customXml", f"{_W}body"):
            _blocks(child, lines)


def _docx(data: bytes) -> Read:
    from lxml import etree

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = _read_member(archive, "word/document.xml")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    root = etree.fromstring(xml, parser)
    lines: list[str] = []
    body = root.find(f"{_W}body")
    if body is not None:
        _blocks(body, lines)
    return clean("\n".join(lines)), None, "ok", ""


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _rows_text(rows: list[list[str]]) -> str:
    lines = ["\t".join(row).rstrip("\t") for row in rows]
    return "\n".join(line for line in lines if line)


def _xlsx(data: bytes) -> Read:
    import openpyxl

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for info in archive.infolist():
            if info.file_size > MAX_UNZIPPED:
                raise ValueError(f"{info.filename} is {info.file_size:,} bytes unzipped")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns of styles and extensions it skips
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheets = []
            for sheet in book.worksheets:
                rows = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
                sheets.append(clean(sheet.title + "\n" + _rows_text(rows)))
        finally:
            book.close()
    return "\f".join(sheets), len(sheets), "ok", ""


def _xls(data: bytes) -> Read:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True, logfile=io.StringIO())
    except xlrd.XLRDError as error:
        if "encrypted" in str(error).lower():
            return "", None, "encrypted", str(error)
        raise
    try:
        sheets = []
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            rows = [
                [_cell(sheet.cell_value(r, c)) for c in range(sheet.ncols)]
                for r in range(sheet.nrows)
            ]
            sheets.append(clean(sheet.name + "\n" + _rows_text(rows)))
            book.unload_sheet(index)
    finally:
        book.release_resources()
    return "\f".join(sheets), len(sheets), "ok", ""


def _decoded(data: bytes) -> str:
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def _html(data: bytes) -> Read:
    import lxml.html
    from lxml import etree

    root = lxml.html.document_fromstring(data)
    for node in list(root.iter("script", "style", "noscript", etree.Comment)):
        node.drop_tree()
    lines = [" ".join(s.split()) for s in root.itertext()]
    return clean("\n".join(line for line in lines if line)), None, "ok", ""


def _container(data: bytes) -> Read:
    """A zip whose contents no library here reads (OFD, PPTX, a plain zip): a broken one is
    corrupt, a whole one unsupported."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        broken = archive.testzip() if len(data) <= MAX_UNZIPPED else None
    if broken is not None:
        raise zipfile.BadZipFile(f"bad CRC in {broken}")
    return "", None, "unsupported", "no reader for this kind"


def _ole2(data: bytes) -> Read:
    """An OLE2 file that is neither DOC nor XLS: an encrypted DOCX or XLSX (its package is a
    stream `EncryptedPackage`) needs a password; anything else has no reader here."""
    if "EncryptedPackage".encode("utf-16-le") in data:
        return "", None, "encrypted", "an encrypted Office Open XML package"
    return "", None, "unsupported", "no reader for this kind"


def _text(data: bytes) -> Read:
    return clean(_decoded(data)), None, "ok", ""


READERS: Final = {
    "pdf": (_pdf, "pypdfium2"),
    "docx": (_docx, "zipfile+lxml"),
    "xlsx": (_xlsx, "openpyxl"),
    "xls": (_xls, "xlrd"),
    "html": (_html, "lxml.html"),
    "zip": (_container, ""),
    "ole2": (_ole2, ""),
    "ofd": (_container, ""),
    "pptx": (_container, ""),
    "text": (_text, ""),
}


def file_text(data: bytes, declared_type: str | None = None, url: str | None = None) -> FileText:
    """What `data` is and its text; `declared_type` is the Content-Type it was served with."""
    try:
        kind = sniff(data)
        declared, extension = declared_kind(declared_type), url_kind(url)
        disagreements = kinds_disagree(kind, declared, extension, declared_type)
    except Exception as error:  # not expected: sniffing reads bytes only
        return FileText("unknown", "", None, "corrupt", reason=f"sniff: {error!r}")
    reader = READERS.get(kind)
    if reader is None:
        why = "empty file" if kind == "empty" else f"no reader for {kind}"
        status: Status = "corrupt" if kind == "empty" else "unsupported"
        return FileText(kind, "", None, status, declared, extension, disagreements, why)
    read, library = reader
    try:
        text, pages, status, reason = read(data)
    except Exception as error:
        text, pages, status, reason = "", None, "corrupt", f"{type(error).__name__}: {error}"
    if kind in ("html", "text") and status == "ok":
        claimed = {k for k in (declared, extension) if k in DOCUMENT_KINDS}
        if claimed:
            status, reason = "corrupt", f"{kind} served as {'/'.join(sorted(claimed))}"
    return FileText(kind, text, pages, status, declared, extension, disagreements, reason, library)


def file_text_at(path: str, declared_type: str | None = None, url: str | None = None) -> FileText:
    """`file_text` of the file at `path` (what a worker process is given: a name, not bytes)."""
    with open(path, "rb") as handle:
        return file_text(handle.read(), declared_type, url)
