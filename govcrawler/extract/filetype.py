"""What an attachment file is: its kind read from its bytes (magic numbers), the kinds its
Content-Type and its URL's extension name, and where they disagree (`govcrawler.extract.files`
reads the text by what the bytes are)."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Final
from urllib.parse import urlsplit

# HTML is recognised within the first bytes, after a BOM and whitespace.
_HTML_START = re.compile(
    rb"\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title|script|div|p\b|h1)",
    re.IGNORECASE | re.DOTALL,
)

MEDIA_TYPES: Final = {
    "application/pdf": "pdf",
    "application/x-pdf": "pdf",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.ms-powerpoint": "ppt",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/kswps": "wps",
    "application/vnd.ms-works": "wps",
    "application/wps-office.wps": "wps",
    "application/ofd": "ofd",
    "application/zip": "zip",
    "application/x-zip-compressed": "zip",
    "application/x-rar-compressed": "rar",
    "application/vnd.rar": "rar",
    "application/x-7z-compressed": "7z",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/plain": "text",
}
EXTENSIONS: Final = {
    "pdf": "pdf",
    "doc": "doc",
    "docx": "docx",
    "xls": "xls",
    "xlsx": "xlsx",
    "et": "xls",
    "ppt": "ppt",
    "pptx": "pptx",
    "wps": "wps",
    "ofd": "ofd",
    "zip": "zip",
    "rar": "rar",
    "7z": "7z",
    "html": "html",
    "htm": "html",
    "shtml": "html",
    "txt": "text",
    "jpg": "image",
    "jpeg": "image",
    "png": "image",
    "gif": "image",
    "bmp": "image",
}
# What a claim may name for each kind of bytes without disagreeing (containers, old names).
_AGREES: Final = {
    "docx": {"docx", "zip"},
    "xlsx": {"xlsx", "zip"},
    "pptx": {"pptx", "zip"},
    "ofd": {"ofd", "zip"},
    "doc": {"doc", "wps"},
    "xls": {"xls"},
    "ole2": {"doc", "xls", "ppt", "wps", "docx", "xlsx", "pptx"},  # encrypted OOXML is OLE2
}
DOCUMENT_KINDS: Final = frozenset(
    {"pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "wps", "ofd"}
)


def declared_kind(content_type: str | None) -> str | None:
    """The kind a Content-Type names (None for a missing or generic one: octet-stream)."""
    if not content_type:
        return None
    media = content_type.split(";", 1)[0].strip().lower()
    if media.startswith("image/"):
        return "image"
    return MEDIA_TYPES.get(media)


def url_kind(url: str | None) -> str | None:
    """The kind the extension of the URL's path names (None without a known one)."""
    if not url:
        return None
    try:
        name = urlsplit(url).path.rsplit("/", 1)[-1]
    except ValueError:
        return None
    return EXTENSIONS.get(name.rsplit(".", 1)[-1].lower()) if "." in name else None


def _ole2_kind(data: bytes) -> str:
    """doc, xls, ppt or ole2 (encrypted OOXML, others) from an OLE2 file's stream names."""

    def has(name: str) -> bool:
        return name.encode("utf-16-le") in data

    if has("EncryptedPackage"):
        return "ole2"
    if has("WordDocument"):
        return "doc"
    if has("Workbook") or has("Book"):
        return "xls"
    if has("PowerPoint Document"):
        return "ppt"
    return "ole2"


def _local_names(data: bytes) -> list[str]:
    """The member names in a zip's local file headers (name length at +26, name at +30)."""
    names, at = [], data.find(b"PK\x03\x04")
    while at != -1 and at + 30 <= len(data):
        length = int.from_bytes(data[at + 26 : at + 28], "little")
        names.append(data[at + 30 : at + 30 + length].decode("latin-1"))
        at = data.find(b"PK\x03\x04", at + 4)
    return names


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except Exception:  # a cut or broken zip: the local headers' names, as far as they go
        names = set(_local_names(data[: 1 << 20]))
    if any(n.startswith("word/") for n in names):
        return "docx"
    if any(n.startswith("xl/") for n in names):
        return "xlsx"
    if any(n.startswith("ppt/") for n in names):
        return "pptx"
    if any(n.lower() == "ofd.xml" for n in names):
        return "ofd"
    return "zip"


def sniff(data: bytes) -> str:
    """The kind of file the bytes are, from their magic numbers."""
    head = data[:1024]
    if not data:
        return "empty"
    if b"%PDF-" in head:
        return "pdf"
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(data)
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _ole2_kind(data)
    if data.startswith(b"Rar!\x1a\x07"):
        return "rar"
    if data.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    if data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")):
        return "image"
    text = head.removeprefix(b"\xef\xbb\xbf")
    if _HTML_START.match(text):
        return "html"
    if text.lstrip().startswith(b"<?xml") and b"<html" in data[:4096].lower():
        return "html"
    if b"\x00" not in head:
        return "text"
    return "unknown"


# The MIME type of each kind of bytes (`sniff`); an image by its own magic number.
_KIND_MEDIA: Final = {kind: media for media, kind in reversed(MEDIA_TYPES.items())} | {
    "ole2": "application/x-ole-storage",
    "text": "text/plain",
    "empty": "application/octet-stream",
    "unknown": "application/octet-stream",
}
_IMAGE_MEDIA: Final = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"BM", "image/bmp"),
)


def media_type(kind: str, head: bytes) -> str:
    """The MIME type of bytes of `kind` (`sniff`) that begin with `head`."""
    if kind == "image":
        return next((m for magic, m in _IMAGE_MEDIA if head.startswith(magic)), "image/unknown")
    return _KIND_MEDIA.get(kind, "application/octet-stream")


def disagreements(
    kind: str, declared: str | None, extension: str | None, content_type: str | None
) -> tuple[str, ...]:
    out = []
    agrees = _AGREES.get(kind, {kind})
    if declared is not None and declared not in agrees:
        media = (content_type or "").split(";", 1)[0].strip()
        out.append(f"Content-Type {media}: {declared}, bytes: {kind}")
    if extension is not None and extension not in agrees:
        out.append(f"URL extension: {extension}, bytes: {kind}")
    return tuple(out)
