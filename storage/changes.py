"""What changed in the archive: `article_change` rows, written by the write path, read by
`govcrawler changes` (through the `field_changes` view).

A row is a new article (`new`), one changed field of a new version (`changed`, old and new
value as text), a withdrawal (`withdrawn`) or a page back online (`returned`), with the crawl
run that saw it when known, and its origin: `crawl`, or `reextract` when a newer extraction
of an archived capture changed the field (`govcrawler reextract`), not the site. A body is
shown by its length and digest, never the whole text: the versions hold it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Integer, Row, Text, bindparam, insert, text
from sqlalchemy.orm import Session

from storage.models import ArticleChange, table_of
from storage.types import UTCDateTime

if TYPE_CHECKING:
    from storage.article_records import ArticleRecord

NEW, CHANGED, WITHDRAWN, RETURNED = "new", "changed", "withdrawn", "returned"
# The document fields compared between versions, beside title, date, body, captions, files.
DOCUMENT_FIELDS = (
    "doc_number",
    "validity",
    "abolished_on",
    "issuer",
    "written_on",
    "published_on",
    "index_number",
    "doc_type",
    "subject",
    "source",
)

_change = table_of(ArticleChange)
_INSERT = insert(_change)


def body_marker(body: str) -> str:
    """A body in a change row: its length and digest (as revision 0008's backfill words it)."""
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    return f"{len(body)} characters, sha256 {digest[:16]}"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _files(attachments: list[dict[str, Any]]) -> str:
    """Attachments by what a reader sees of them: name and URL."""
    return json.dumps(
        [[a.get("text") or a.get("name"), a.get("url")] for a in attachments], ensure_ascii=False
    )


def _links(links: list[dict[str, str]]) -> str:
    return json.dumps([[k.get("title"), k.get("url")] for k in links], ensure_ascii=False)


def _number(row: Any) -> str | None:
    return (row.doc_number or row.doc_number_raw) if row is not None else None


def changed_fields(
    old: Row[Any], old_document: Any, record: ArticleRecord
) -> list[tuple[str, str | None, str | None]]:
    """(field, old value, new value) for each field a new version changed. `old` is the
    previous version's row (title, published_on, body, captions, attachments), `old_document`
    its `document_version` row (None for an article)."""
    pairs: dict[str, tuple[str | None, str | None]] = {
        "title": (old.title, record.title),
        "published_on": (_text(old.published_on), _text(record.published_on)),
        "body": (body_marker(old.body), body_marker(record.body)),
        "captions": (_text(list(old.captions)), _text(list(record.captions))),
        "attachments": (_files(old.attachments), _files(record.attachments)),
    }
    new_document = record.document
    if old_document is not None and new_document is not None:
        for name in DOCUMENT_FIELDS:
            if name == "doc_number":
                before, after = _number(old_document), _number(new_document)
                if before == after and old_document.doc_number_raw != new_document.doc_number_raw:
                    name, before, after = (  # the same number, written otherwise
                        "doc_number_raw",
                        old_document.doc_number_raw,
                        new_document.doc_number_raw,
                    )
            else:
                before = _text(getattr(old_document, name))
                after = _text(getattr(new_document, name))
            pairs.setdefault(name, (before, after))
        for name in ("interpretations", "related"):
            before, after = _links(getattr(old_document, name)), _links(getattr(new_document, name))
            pairs[name] = (before, after)
    return [(name, before, after) for name, (before, after) in pairs.items() if before != after]


def record_changes(
    db: Connection,
    article_id: int,
    version_id: int | None,
    change: str,
    detected_at: datetime,
    run_id: int | None,
    fields: list[tuple[str, str | None, str | None]] | None = None,
    origin: str = "crawl",
) -> None:
    """One row for `change`, or one per changed field; `origin` says who saw it: a crawl of
    the site, or a re-extraction of an archived capture (`reextract`)."""
    base = {
        "origin": origin,
        "article_id": article_id,
        "version_id": version_id,
        "change": change,
        "detected_at": detected_at,
        "run_id": run_id,
    }
    rows = [
        {**base, "field": name, "old_value": old, "new_value": new}
        for name, old, new in fields or [(None, None, None)]  # type: ignore[list-item]
    ]
    db.execute(_INSERT, rows)


@dataclass(frozen=True)
class Change:
    """A row of `field_changes`, as `govcrawler changes` lists it."""

    change_id: int
    article_id: int
    url: str
    title: str
    kind: str  # article, document
    doc_number: str | None
    change: str
    field: str | None
    old_value: str | None
    new_value: str | None
    detected_at: datetime
    run_id: int | None
    spider: str | None
    origin: str = "crawl"  # reextract: our extraction changed, not the site


def list_changes(
    session: Session,
    since: datetime | None = None,
    field: str | None = None,
    spider: str | None = None,
    limit: int | None = None,
    origin: str | None = None,
) -> list[Change]:
    """Changes detected at or after `since`, of `field`, seen by `spider`'s runs, of `origin`
    (crawl: the site's; reextract: our extraction's); newest first."""
    where: list[str] = []
    params: dict[str, Any] = {}
    if since is not None:
        where.append("detected_at >= :since")
        params["since"] = since
    if field is not None:
        where.append("field = :field")
        params["field"] = field
    if spider is not None:
        where.append("spider = :spider")
        params["spider"] = spider
    if origin is not None:
        where.append("origin = :origin")
        params["origin"] = origin
    names = ", ".join(Change.__dataclass_fields__)
    query = text(
        f"SELECT {names} FROM field_changes"
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + " ORDER BY detected_at DESC, change_id DESC"
        + (" LIMIT :limit" if limit else "")
    ).columns(detected_at=UTCDateTime, change_id=Integer, old_value=Text, new_value=Text)
    if since is not None:
        query = query.bindparams(bindparam("since", type_=UTCDateTime))
    if limit:
        params["limit"] = limit
    return [Change(*row) for row in session.execute(query, params)]
