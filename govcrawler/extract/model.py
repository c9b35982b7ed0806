"""What extraction returns: frozen values, complete or not at all."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


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
