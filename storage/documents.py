"""What the archive keeps of a 政务公开 document beside its article content (SITE-ZH §3).

A document is an article with metadata: the same identity, versions, captures and aliases, plus
one `document_version` row per version holding these values. `cited_numbers` and
`quoted_titles` are what its body refers to, kept as `document_reference` rows with its 解读 and
related links (the `document_citations` and `document_interpretations` views resolve them
against the archive). The write path (`storage.archive`) calls the functions below inside its
transaction.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, insert, select

from storage.models import DocumentReference, DocumentVersion, table_of
from storage.search.index import document_title


@dataclass(frozen=True)
class DocumentRecord:
    """A document's metadata as the archive stores it (the crawler's extraction, flattened)."""

    doc_number_raw: str | None = None  # 文号 as published
    doc_number: str | None = None  # normalised (`川府发〔2024〕3号`); None when it does not parse
    doc_series: str | None = None  # the prefix (`川府发`, `四川省人民政府令`)
    doc_year: int | None = None
    doc_seq: int | None = None
    doc_number_guessed: bool = False  # a bracket-less number whose year was guessed
    index_number: str | None = None  # 索引号
    doc_type: str | None = None  # 公文种类
    issuer: str | None = None  # 发布机构 / 发文机关
    written_on: date | None = None  # 成文日期
    published_on: date | None = None  # 发布日期
    validity: str | None = None  # 有效性, normalised (有效, 失效, 尚未施行)
    validity_raw: str | None = None
    validity_source: str | None = None  # static, script, red_notice
    abolished_on: date | None = None  # 废止日期
    subject: str | None = None  # 主题分类
    source: str | None = None  # 来源
    layout: str = "none"  # a, b, c (SITE-ZH §3.1) or none
    column_path: list[str] = field(default_factory=list)
    interpretations: list[dict[str, str]] = field(default_factory=list)  # {"title", "url"}
    related: list[dict[str, str]] = field(default_factory=list)  # {"title", "url"}
    meta: dict[str, str] = field(default_factory=dict)
    # The metadata block's values as published, by field: a date, 文号 or validity that does
    # not parse is kept here.
    raw_fields: dict[str, str] = field(default_factory=dict)
    is_interpretation: bool = False  # a 政策解读 page (its column or its title says so)
    cited_numbers: list[tuple[str, str]] = field(default_factory=list)  # (raw, normalised)
    quoted_titles: list[str] = field(default_factory=list)  # 《…》 in its body

    def as_row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


# What a version is, beyond what an English article's digest covers: a change of any of these
# is a new version even when the body is the same.
VERSIONED = (
    "doc_number_raw",
    "validity",
    "abolished_on",
    "issuer",
    "written_on",
    "published_on",
    "index_number",
)


def document_digest(
    content: list[Any], document: DocumentRecord, attachments: list[dict[str, Any]]
) -> str:
    """SHA-256 of a document version: `content` (what an article's digest covers: title, date,
    body, captions), the versioned metadata, the attachments' names and URLs, and its 解读 and
    related links (a 解读 published later adds its link to the page: a new version)."""
    metadata = {name: _text(getattr(document, name)) for name in VERSIONED}
    files = [[a.get("text") or a.get("name"), a.get("url")] for a in attachments]
    links = [[[k.get("title"), k.get("url")] for k in document.interpretations + document.related]]
    payload = json.dumps([*content, metadata, files, *links], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _text(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


_document = table_of(DocumentVersion)
_reference = table_of(DocumentReference)
_COLUMNS = [c.name for c in _document.columns if c.name not in ("version_id", "article_id")]
_INSERT_DOCUMENT = insert(_document)
_INSERT_REFERENCES = insert(_reference)
_DOCUMENT_OF = select(_document).where(_document.c.version_id == bindparam("version_id"))
_DELETE_REFERENCES = delete(_reference).where(_reference.c.version_id == bindparam("version_id"))
_DELETE_DOCUMENT = delete(_document).where(_document.c.version_id == bindparam("version_id"))


def write_document(
    db: Connection, article_id: int, version_id: int, document: DocumentRecord, title: str
) -> None:
    """The `document_version` row of a new version, what it refers to and its names."""
    row = document.as_row()
    db.execute(
        _INSERT_DOCUMENT,
        {"version_id": version_id, "article_id": article_id, **{c: row[c] for c in _COLUMNS}},
    )
    references = [
        {"version_id": version_id, "article_id": article_id, **reference}
        for reference in references_of(document, title)
    ]
    if references:
        db.execute(_INSERT_REFERENCES, references)


def rewrite_document(
    db: Connection,
    article_id: int,
    version_id: int,
    document: DocumentRecord | None,
    title: str,
) -> None:
    """A version's content replaced in place (an earlier original found after its copy)."""
    db.execute(_DELETE_REFERENCES, {"version_id": version_id})
    db.execute(_DELETE_DOCUMENT, {"version_id": version_id})
    if document is not None:
        write_document(db, article_id, version_id, document, title)


def document_of(db: Connection, version_id: int) -> Row[Any] | None:
    """The `document_version` row of a version (None for an article's version)."""
    return db.execute(_DOCUMENT_OF, {"version_id": version_id}).first()


def same_number(db: Connection, version_id: int, document: DocumentRecord | None) -> bool:
    """Whether a document page may be the archived version's article by its body: not when
    both have a 文号 and they differ (the same text re-issued under a new number)."""
    if document is None:
        return True
    archived = document_of(db, version_id)
    if archived is None:
        return True
    theirs = archived.doc_number or archived.doc_number_raw
    mine = document.doc_number or document.doc_number_raw
    return theirs is None or mine is None or theirs == mine


def references_of(document: DocumentRecord, title: str) -> list[dict[str, Any]]:
    """The document's references, each (kind, role, value) once, in order; and its names (its
    title and the 《titles》 its title quotes: `关于印发《办法》的通知` is also 办法), which a
    解读 quoting one of them is matched with by an index lookup."""
    found: dict[tuple[str, str, str], str | None] = {}
    for raw, normalised in document.cited_numbers:
        if normalised and normalised != document.doc_number:
            found.setdefault(("number", "body", normalised), raw)
    for quoted in document.quoted_titles:
        if quoted.strip():
            found.setdefault(("title", "body", quoted.strip()), None)
    links = [("interpretation", document.interpretations), ("related", document.related)]
    for role, linked in links:
        for link in linked:
            if link.get("url"):
                found.setdefault(("link", role, link["url"]), link.get("title"))
    for name in [title.strip(), *quoted_in(title)]:
        if name:
            found.setdefault(("name", "title", name), None)
    return [
        {"kind": kind, "role": role, "value": value, "raw": raw}
        for (kind, role, value), raw in found.items()
    ]


_QUOTED = re.compile(r"《([^《》]+)》")
_INNER_QUOTES = str.maketrans("〈〉", "《》")


def quoted_in(text: str) -> list[str]:
    """The 《…》 titles `text` quotes, each once (〈〉 inside read as 《》, spaces folded)."""
    found: dict[str, None] = {}
    for match in _QUOTED.finditer(text):
        quoted = " ".join(match.group(1).translate(_INNER_QUOTES).split())
        if quoted:
            found.setdefault(quoted)
    return list(found)


def index_title(title: str, document: DocumentRecord | Row[Any] | None) -> str:
    """The title as the search index holds it: a document's with its 文号, raw and normalised."""
    if document is None:
        return title
    return document_title(title, document.doc_number_raw, document.doc_number)
