"""What extraction returns: frozen values, complete or not at all."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from govcrawler.extract.docnumber import DocNumber


@dataclass(frozen=True)
class Image:
    url: str
    caption: str | None = None


@dataclass(frozen=True)
class Attachment:
    url: str
    text: str


@dataclass(frozen=True)
class Article:
    """One article page as published, boilerplate removed."""

    url: str
    canonical_id: str
    column_id: str | None
    title: str
    published_on: date | None
    body: tuple[str, ...]
    language: str
    template: str
    extraction_path: str
    column_name: str | None = None
    captions: tuple[str, ...] = ()
    images: tuple[Image, ...] = field(default=())
    attachments: tuple[Attachment, ...] = field(default=())
    date_source: str | None = None

    def as_json(self) -> dict[str, object]:
        """The JSON shape of the fixtures' expected outputs (and of exports)."""
        return {
            "url": self.url,
            "canonical_id": self.canonical_id,
            "column_id": self.column_id,
            "title": self.title,
            "published_on": self.published_on.isoformat() if self.published_on else None,
            "language": self.language,
            "body": list(self.body),
            "captions": list(self.captions),
            "images": [{"url": i.url, "caption": i.caption} for i in self.images],
            "attachments": [{"url": a.url, "text": a.text} for a in self.attachments],
            "template": self.template,
            "extraction_path": self.extraction_path,
        }


@dataclass(frozen=True)
class DocumentAttachment:
    name: str
    url: str
    extension: str | None


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class Document:
    """One 政务公开 document page as published: metadata, body without red-head lines."""

    url: str
    canonical_id: str
    column_id: str | None
    title: str
    doc_number: DocNumber | None
    fields: DocumentFields
    body: tuple[str, ...]
    column_path: tuple[str, ...]
    attachments: tuple[DocumentAttachment, ...]
    interpretations: tuple[Link, ...]
    related: tuple[Link, ...]
    meta: tuple[tuple[str, str], ...]
    template: str
    layout: str  # "a", "b", "c" (SITE-ZH §3.1) or "none"
    # The metadata block's values as published, by field name: what a value that does not
    # parse (a date, a 文号, a validity word) was.
    raw_fields: tuple[tuple[str, str], ...] = ()

    @property
    def extraction_path(self) -> str:
        """ "container" for a body from a known container, "generic" from the main-text method
        (as `Article.extraction_path`)."""
        return "generic" if self.template == "unknown" else "container"

    def as_json(self) -> dict[str, object]:
        """The JSON shape of the document fixtures' expected outputs."""
        number = self.doc_number
        return {
            "page_type": "document",
            "url": self.url,
            "canonical_id": self.canonical_id,
            "column_id": self.column_id,
            "title": self.title,
            "doc_number": None if number is None else _number_json(number),
            **self.fields.as_json(),
            "body": list(self.body),
            "column_path": list(self.column_path),
            "attachments": [
                {"name": a.name, "url": a.url, "extension": a.extension} for a in self.attachments
            ],
            "interpretations": [{"title": k.title, "url": k.url} for k in self.interpretations],
            "related": [{"title": k.title, "url": k.url} for k in self.related],
            "meta": dict(self.meta),
            "template": self.template,
            "layout": self.layout,
            "raw_fields": dict(self.raw_fields),
        }


@dataclass(frozen=True)
class DocumentFields:
    """The metadata values of a document page, each None when the page gives none."""

    index_number: str | None = None
    doc_type: str | None = None
    issuer: str | None = None
    written_on: date | None = None
    published_on: date | None = None
    validity: str | None = None  # normalised (有效, 失效, 尚未施行, …)
    validity_raw: str | None = None  # as published
    validity_source: str | None = None  # "static", "script", "red_notice"
    abolished_on: date | None = None
    subject: str | None = None
    source: str | None = None

    def as_json(self) -> dict[str, object]:
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


def _number_json(number: DocNumber) -> dict[str, object]:
    return {
        "raw": number.raw,
        "normalised": number.normalised,
        "prefix": number.prefix,
        "year": number.year,
        "number": number.number,
        "guessed_year": number.guessed_year,
    }
