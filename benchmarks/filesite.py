"""The files of a synthetic site (`SiteSpec(files=True)`): each article links one image and one
attachment, beside it in the replay copy, as the site keeps `W…`/`P…` files next to a page.

- The attachment is a real PDF with Chinese text, made at generation time by reportlab (its CID
  font STSong-Light, as many Chinese office tools write them) when it is installed, else the
  committed fixture PDFs (tests/fixtures/files, made by reportlab and fpdf2). A pool of
  `POOL` PDFs of 1-6 pages (fewer on a smaller site) is made once; article i's is
  pool[i % POOL] with a comment naming i after `%%EOF` (PDF readers ignore it), so every
  attachment is its own blob in the archive (one sha256 each) while generation stays cheap: a
  PDF costs ~4 ms to make, the site has tens of thousands. Texts repeat every `POOL` articles;
  bytes never do.
- The image is a PNG of random pixels, written by hand (zlib, struct: no library needed),
  14-90 KB: incompressible like the site's JPEG photos.
- `SiteSpec.big_files` ("20,60,99,150": MiB) replaces the attachments of articles spread evenly
  over the site with PDFs of those sizes: the article's PDF plus an incremental update holding
  one unreferenced stream of the missing bytes, so it still opens with its text. Random bytes
  (streamed a MiB at a time: never whole in memory here) for sizes the crawl keeps; a sparse
  hole for those over `max_bytes` (100 MiB): never read, they take no disk.
"""

from __future__ import annotations

import io
import os
import random
import re
import struct
import zlib
from collections.abc import Callable
from functools import cache
from pathlib import Path

from benchmarks.corpus import chinese_article

POOL = 500
MIB = 1 << 20
DEFAULT_MAX_BYTES = 100 * MIB  # GOVCRAWLER_FILE_MAX_BYTES's default
FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "files"
FIXTURE_PDFS = (
    "cid.pdf",
    "embedded.pdf",
    "truetype.pdf",
    "multipage.pdf",
    "glyphs.pdf",
    "long.pdf",
)
LINE_CHARS, PAGE_LINES = 38, 40


def file_urls(article_url: str, doc_id: str) -> tuple[str, str]:
    """(image URL, attachment URL) of an article: in its own directory."""
    folder = article_url.rsplit("/", 1)[0]
    return f"{folder}/W{doc_id}.png", f"{folder}/P{doc_id}.pdf"


def media_html(article_url: str, doc_id: str) -> str:
    """The body's image and attachment link, as the site's editors write them."""
    image, attachment = file_urls(article_url, doc_id)
    return (
        f'\n<p style="text-align: center;"><img src="{image}" alt=""></p>\n'
        f'<p>Attachment: <a href="{attachment}" target="_blank">{doc_id}.pdf</a></p>'
    )


def _reportlab_pdf(pages: list[list[str]]) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4, invariant=True)
    for lines in pages:
        y = A4[1] - 60
        for line in lines:
            c.setFont("STSong-Light", 11)
            c.drawString(56, y, line)
            y -= 18
        c.showPage()
    c.save()
    return out.getvalue()


def library() -> str:
    """What makes the PDFs: reportlab (version), or the committed fixtures."""
    try:
        import reportlab
    except ImportError:
        return "fixture PDFs of tests/fixtures/files (reportlab not installed)"
    return f"reportlab {reportlab.Version}, CID font STSong-Light"


@cache
def pdf_pool(seed: int, size: int = POOL) -> tuple[bytes, ...]:
    """`size` distinct Chinese PDFs of 1-6 pages (the fixtures when reportlab is missing)."""
    try:
        import reportlab  # noqa: F401
    except ImportError:
        return tuple((FIXTURES / name).read_bytes() for name in FIXTURE_PDFS)
    pdfs = []
    for k in range(size):
        rng = random.Random(f"{seed}:pdf:{k}")
        pages = rng.randint(1, 6)
        text = chinese_article(rng, pages * LINE_CHARS * PAGE_LINES * 9 // 10)
        lines = [text.title]
        for paragraph in text.paragraphs:
            lines += [paragraph[i : i + LINE_CHARS] for i in range(0, len(paragraph), LINE_CHARS)]
        pdfs.append(
            _reportlab_pdf([lines[i : i + PAGE_LINES] for i in range(0, len(lines), PAGE_LINES)])
        )
    return tuple(pdfs)


def attachment(seed: int, i: int, pool_size: int = POOL) -> bytes:
    """Article i's PDF: a pool PDF made its own by a trailing comment."""
    pool = pdf_pool(seed, pool_size)
    return pool[i % len(pool)] + b"%% govcrawler benchmark attachment %d\n" % i


def png(seed: int, i: int) -> bytes:
    """Article i's image: a PNG of random RGB pixels."""
    rng = random.Random(f"{seed}:png:{i}")
    width, height = rng.randint(80, 200), rng.randint(60, 150)
    raw = b"".join(b"\x00" + rng.randbytes(width * 3) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 1))
        + chunk(b"IEND", b"")
    )


def big_sizes(spec: str) -> list[float]:
    """The MiB of `SiteSpec.big_files` ("20,60,99,150")."""
    return [float(part) for part in spec.split(",") if part.strip()]


def big_positions(articles: int, spec: str) -> dict[int, int]:
    """Article index -> bytes: the big files, spread evenly over the site."""
    sizes = big_sizes(spec)
    return {
        min(articles - 1, articles * (k + 1) // (len(sizes) + 1)): int(mib * MIB)
        for k, mib in enumerate(sizes)
    }


def write_padded(path: Path, pdf: bytes, size: int, fill: Callable[[int], bytes] | None) -> None:
    """`pdf` grown to `size` bytes by an incremental update: one new, unreferenced stream object
    (its bytes from `fill(n)`, a MiB at a time, or a sparse hole when `fill` is None), a new
    xref section for it and a trailer chaining to the old one. Readers open it as `pdf`."""
    previous = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    root = re.findall(rb"/Root\s+(\d+ \d+ R)", pdf)[-1]
    number = int(re.findall(rb"/Size\s+(\d+)", pdf)[-1])
    head = pdf + b"\n"
    length = max(0, size - len(head) - 200)  # ~200 bytes of object syntax and trailer
    opening = b"%d 0 obj\n<< /Length %d >>\nstream\n" % (number, length)
    closing = b"\nendstream\nendobj\n"
    xref_at = len(head) + len(opening) + length + len(closing)
    tail = (
        b"xref\n%d 1\n%010d 00000 n \ntrailer\n"
        b"<< /Size %d /Root %s /Prev %d >>\nstartxref\n%d\n%%%%EOF\n"
        % (number, len(head), number + 1, root, previous, xref_at)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        out.write(head + opening)
        if fill is None:
            out.seek(length, os.SEEK_CUR)  # a hole: no disk used, reads as zeros
        else:
            left = length
            while left:
                out.write(fill(min(left, MIB)))
                left -= min(left, MIB)
        out.write(closing + tail)


def write_files(
    url_path: Callable[[str], Path], article_url: str, doc_id: str, seed: int, i: int,
    big: int | None, pool_size: int = POOL,
) -> None:  # fmt: skip
    """Write article i's image and attachment (`url_path`: a URL's file in the copy); `big`,
    bytes: its attachment is that big (random bytes, or a hole when over the default limit)."""
    image_url, attachment_url = file_urls(article_url, doc_id)
    for url, data in ((image_url, png(seed, i)), (attachment_url, attachment(seed, i, pool_size))):
        path = url_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            path.unlink()  # a hard-linked copy's original is never written through
        if url == attachment_url and big is not None:
            rng = random.Random(f"{seed}:big:{i}")
            write_padded(path, data, big, None if big > DEFAULT_MAX_BYTES else rng.randbytes)
        else:
            path.write_bytes(data)
