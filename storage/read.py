"""Reading the archive for people: one article, its versions, rows to export (the counts:
`storage.stats`, re-exported here).

Functions take a `Session` first and never commit (nor write). Lookups take canonical URLs:
canonicalising what a user typed is the caller's job (`govcrawler.extract.urls`).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Date, bindparam, select, text
from sqlalchemy.orm import Session, aliased

from storage.models import (
    Article,
    ArticleAlias,
    ArticleVersion,
    NearDuplicate,
    SiteColumn,
)

# The counts live in `storage.stats`; `read.archive_stats` is where callers have found them.
from storage.stats import ArchiveStats as ArchiveStats
from storage.stats import archive_stats as archive_stats

# The current version's lists that `articles` (a flat view) leaves out.
CONTENT_LISTS = ("captions", "images", "attachments")
# A document's metadata in exports (`document_version` of the current version).
DOCUMENT_LISTS = ("column_path", "interpretations", "related", "raw_fields")
DOCUMENT_EXPORT = (
    *("doc_number", "doc_number_raw", "doc_series", "doc_year", "doc_seq", "index_number"),
    *("doc_type", "issuer", "written_on", "validity", "validity_raw", "validity_source"),
    *("abolished_on", "subject", "source", "layout", *DOCUMENT_LISTS),
)


@dataclass(frozen=True)
class Alias:
    """Another URL of an article and the date that page showed."""

    url: str
    published_on: date | None


@dataclass(frozen=True)
class LinkedArticle:
    """An article at the other end of a near-duplicate link, and the SimHash distance."""

    id: int
    url: str
    title: str
    distance: int


@dataclass(frozen=True)
class ArticleDetail:
    """An article as `govcrawler show` presents it: its current version and its links."""

    id: int
    url: str
    canonical_id: str
    title: str
    published_on: date | None
    column_id: str | None
    column_name: str | None
    language: str
    body: str
    version_count: int
    first_seen_at: datetime
    last_seen_at: datetime
    withdrawn_at: datetime | None
    aliases: list[Alias] = field(default_factory=list)
    copies: list[LinkedArticle] = field(default_factory=list)  # the articles this one copies
    copied_by: list[LinkedArticle] = field(default_factory=list)  # the copies of this one
    captions: list[str] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class VersionDiff:
    """The two latest versions of an article and a unified diff of their paragraphs."""

    older: ArticleVersion
    newer: ArticleVersion
    lines: list[str]


def find_article(session: Session, key: int | str) -> Article | None:
    """The article with archive id `key` (an int), or at the canonical URL `key`, primary or
    alias."""
    if isinstance(key, int):
        return session.get(Article, key)
    article = session.scalar(select(Article).where(Article.url == key))
    if article is not None:
        return article
    alias = session.get(ArticleAlias, key)
    return session.get(Article, alias.article_id) if alias is not None else None


# A document's articles by 文号: numbered so now (an original before its 解读), then formerly.
_NUMBERED = text(
    "SELECT d.article_id, min(CASE WHEN r.current_version_id = d.version_id THEN 0 ELSE 1 END)"
    " AS former, max(CASE WHEN d.is_interpretation THEN 1 ELSE 0 END) AS interpretation"
    " FROM document_version AS d "
    "JOIN article AS r ON r.id = d.article_id WHERE d.doc_number = :number "
    "GROUP BY d.article_id ORDER BY former, interpretation, d.article_id"
)
_DOCUMENT_JSON = ("column_path", "interpretations", "related", "meta", "raw_fields")


def find_documents(session: Session, doc_number: str) -> list[Article]:
    """The articles with the normalised 文号 `doc_number`: those numbered so now (an original
    before its 解读, oldest first), then those that were in an earlier version."""
    ids = [row.article_id for row in session.execute(_NUMBERED, {"number": doc_number})]
    return [article for id_ in ids if (article := session.get(Article, id_)) is not None]


def document_fields(session: Session, article: Article) -> dict[str, Any] | None:
    """The current version's document metadata (`document_version` less its keys), values as
    SQLite gives them and JSON decoded; None for an article that is no document."""
    row = session.execute(
        text("SELECT * FROM document_version WHERE version_id = :id"),
        {"id": article.current_version_id},
    ).first()
    if row is None:
        return None
    fields = {}
    for name, value in row._mapping.items():
        if name in ("version_id", "article_id"):
            continue
        if name in _DOCUMENT_JSON and isinstance(value, str):
            value = json.loads(value)
        fields[name] = as_sqlite_text(value)
    return fields


def article_detail(session: Session, article: Article) -> ArticleDetail:
    """Everything `show` prints about an article."""
    current = session.get(ArticleVersion, article.current_version_id)
    assert current is not None, f"article {article.id} has no current version"
    column = session.get(SiteColumn, article.column_id) if article.column_id else None
    aliases = session.scalars(
        select(ArticleAlias)
        .where(ArticleAlias.article_id == article.id)
        .order_by(ArticleAlias.published_on, ArticleAlias.url)
    )
    return ArticleDetail(
        id=article.id,
        url=article.url,
        canonical_id=article.canonical_id,
        title=current.title,
        published_on=current.published_on,
        column_id=article.column_id,
        column_name=column.name if column else current.page_column_name,
        language=current.language,
        body=current.body,
        version_count=current.version_no,
        first_seen_at=article.first_seen_at,
        last_seen_at=article.last_seen_at,
        withdrawn_at=article.withdrawn_at,
        aliases=[Alias(alias.url, alias.published_on) for alias in aliases],
        copies=_linked(session, article.id, copies=True),
        copied_by=_linked(session, article.id, copies=False),
        captions=list(current.captions),
        images=list(current.images),
        attachments=list(current.attachments),
    )


def _linked(session: Session, article_id: int, *, copies: bool) -> list[LinkedArticle]:
    """The originals `article_id` copies (copies=True) or the copies of it (copies=False)."""
    mine, theirs = (
        (NearDuplicate.article_id, NearDuplicate.original_id)
        if copies
        else (NearDuplicate.original_id, NearDuplicate.article_id)
    )
    other = aliased(Article)
    rows = session.execute(
        select(other.id, other.url, ArticleVersion.title, NearDuplicate.distance)
        .join(other, other.id == theirs)
        .join(ArticleVersion, ArticleVersion.id == other.current_version_id)
        .where(mine == article_id)
        .order_by(NearDuplicate.distance, other.id)
    )
    return [LinkedArticle(*row) for row in rows]


def article_versions(session: Session, article_id: int) -> list[ArticleVersion]:
    """Every version of an article, oldest first."""
    return list(
        session.scalars(
            select(ArticleVersion)
            .where(ArticleVersion.article_id == article_id)
            .order_by(ArticleVersion.version_no)
        )
    )


def version_diff(session: Session, article_id: int, context: int = 1) -> VersionDiff | None:
    """A paragraph-by-paragraph unified diff of the two latest versions (None if only one)."""
    latest = session.scalars(
        select(ArticleVersion)
        .where(ArticleVersion.article_id == article_id)
        .order_by(ArticleVersion.version_no.desc())
        .limit(2)
    ).all()
    if len(latest) < 2:
        return None
    newer, older = latest
    lines = difflib.unified_diff(
        _paragraphs(older),
        _paragraphs(newer),
        fromfile=_version_label(older),
        tofile=_version_label(newer),
        n=context,
        lineterm="",
    )
    return VersionDiff(older, newer, list(lines))


def _paragraphs(version: ArticleVersion) -> list[str]:
    """What a version's digest covers, one line each: title, date, body paragraphs."""
    day = version.published_on.isoformat() if version.published_on else "(no date)"
    paragraphs = [p for p in version.body.split("\n\n") if p.strip()]
    return [f"title: {version.title}", f"date: {day}", *paragraphs]


def _version_label(version: ArticleVersion) -> str:
    return (
        f"version {version.version_no} (first seen {version.first_seen_at:%Y-%m-%d %H:%M:%S} UTC)"
    )


def article_rows(session: Session, since: date | None = None) -> Iterator[dict[str, Any]]:
    """One dict per article: the `articles` view's columns, then the current version's
    captions, images and attachments (decoded), then a document's metadata (`DOCUMENT_EXPORT`,
    empty for an article that is no document). `since` keeps articles published that day or
    later. Values are the same on every database: dates as `YYYY-MM-DD`, times in ISO 8601
    with their zone (`utc_text`), flags as 0/1."""
    query = text(
        "SELECT a.*, v.captions, v.images, v.attachments, "
        + ", ".join(f"d.{name}" for name in DOCUMENT_EXPORT)
        + " FROM articles AS a "
        "JOIN article AS r ON r.id = a.id "
        "JOIN article_version AS v ON v.id = r.current_version_id "
        "LEFT JOIN document_version AS d ON d.version_id = r.current_version_id "
        + ("WHERE a.published_on >= :since " if since else "")
        + "ORDER BY a.id"
    ).columns(**dict.fromkeys((*CONTENT_LISTS, *DOCUMENT_LISTS), JSON))
    if since:
        query = query.bindparams(bindparam("since", since, type_=Date))
    for row in session.execute(query):
        yield {
            name: utc_text(value) if name in _TIMES else as_sqlite_text(value)
            for name, value in row._mapping.items()
        }


# The times of an exported row (the `articles` view's): ISO 8601 with their zone, UTC.
_TIMES = ("withdrawn_at", "first_seen_at", "last_seen_at")


def utc_text(value: Any) -> Any:
    """A stored time as ISO 8601 in UTC with its offset (`2026-12-07T03:00:00.123456+00:00`),
    as the `--json` outputs show it: SQLite's views give text without a zone, PostgreSQL an
    aware datetime; None stays None."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return value
    moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return moment.isoformat()


def as_sqlite_text(value: Any) -> Any:
    """A view's value as SQLite gives it (PostgreSQL gives dates, times and booleans)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def article_columns(session: Session) -> list[str]:
    """The columns `article_rows` yields, in order (also when there are no rows)."""
    columns = session.execute(text("SELECT * FROM articles LIMIT 0")).keys()
    return [*columns, *CONTENT_LISTS, *DOCUMENT_EXPORT]
