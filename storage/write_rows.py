"""The rows the article write path reads and updates, shared by its modules (`storage.archive`,
`storage.aliases`, `storage.neardup_links`, `storage.sightings`): the UPDATE-by-id statements,
the archived article a page matched (`_Known`) and its current version, and a record's values
for the version and article columns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, Update, bindparam, select, update

from storage.article_records import ArticleRecord
from storage.models import Article, ArticleVersion, table_of

# The write path runs a few prepared Core statements per article on the session's connection
# and never loads ORM objects: a unit-of-work flush per article cost ~10 ms, building a Core
# statement per call ~0.35 ms, executing a prepared one ~0.08 ms (benchmarks/RESULTS.md, B1).
# Column types (UTC datetimes, JSON) apply all the same.
_article = table_of(Article)
_version = table_of(ArticleVersion)


def _by_id(table: Table, *columns: str) -> Update:
    """UPDATE `table` SET each of `columns` = :set_<column> WHERE id = :row_id (an UPDATE
    reserves the column names as parameter names); see `_set`."""
    return (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values({name: bindparam(f"set_{name}") for name in columns})
    )


def _set(row_id: int, **values: Any) -> dict[str, Any]:
    """The parameters of a `_by_id` statement."""
    return {"row_id": row_id, **{f"set_{name}": value for name, value in values.items()}}


_VERSION_FIELDS = (
    "title",
    "published_on",
    "page_column_name",
    "body",
    "captions",
    "images",
    "attachments",
    "language",
    "template",
    "extraction_path",
    "origin",
    "extractor_revision",
)
_KNOWN_COLUMNS = (
    _article.c.id,
    _article.c.url,
    _article.c.canonical_id,
    _article.c.column_id,
    _article.c.current_version_id,
    _article.c.first_seen_at,
    _article.c.last_seen_at,
    _article.c.withdrawn_at,
)
_CURRENT = select(
    _version.c.id,
    _version.c.version_no,
    _version.c.content_digest,
    _version.c.title,
    _version.c.body,
    _version.c.published_on,
    _version.c.captions,
    _version.c.attachments,
    _version.c.first_seen_at,
    _version.c.last_seen_at,
).where(_version.c.id == bindparam("version_id"))


@dataclass(frozen=True)
class _Known:
    """The archived article a page matched: what the write path needs of its row."""

    id: int
    url: str
    canonical_id: str
    column_id: str | None
    current_version_id: int
    first_seen_at: datetime
    last_seen_at: datetime
    withdrawn_at: datetime | None


def _dated(record: ArticleRecord) -> dict[str, Any]:
    """The article row's copy of the current version's date (for its column-and-year index)."""
    published = record.published_on
    return {"published_on": published, "published_year": published.year if published else None}


def _content_of(record: ArticleRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in _VERSION_FIELDS}


def _current(db: Connection, article: _Known) -> Any:
    """The article's current version row (what a reader sees now)."""
    row = db.execute(_CURRENT, {"version_id": article.current_version_id}).first()
    assert row is not None, f"article {article.id} has no current version"
    return row
