"""Writing and reading the archive. Functions take a `Session` first and never commit.

`record_article` is the one write path for articles: it decides whether a fetched page is a new
article, the same article seen again (by URL, by id or by the same body under another URL, which
becomes an alias), or new content for a known article.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from storage.models import Article, ArticleAlias, SiteColumn


@dataclass(frozen=True)
class ArticleRecord:
    """An article as the archive stores it (the crawler's extraction, flattened)."""

    url: str
    canonical_id: str
    title: str
    body: str
    body_digest: str
    published_on: date | None
    column_id: str | None
    language: str
    template: str
    extraction_path: str
    page_column_name: str | None = None
    captions: list[str] = field(default_factory=list)
    images: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)


class Outcome(enum.StrEnum):
    NEW = "new"
    UNCHANGED = "unchanged"
    UPDATED = "updated"
    NEW_ALIAS = "new_alias"
    ALIAS_SEEN = "alias_seen"


_CONTENT_FIELDS = (
    "title",
    "body",
    "body_digest",
    "published_on",
    "column_id",
    "page_column_name",
    "captions",
    "images",
    "attachments",
    "language",
    "template",
    "extraction_path",
)


def record_article(session: Session, record: ArticleRecord, seen_at: datetime) -> Outcome:
    """Archive one fetched article page; returns what it was to the archive."""
    alias = session.get(ArticleAlias, record.url)
    if alias is not None:
        alias.last_seen_at = seen_at
        return Outcome.ALIAS_SEEN
    article = _find_article(session, record)
    if article is None:
        session.add(
            Article(
                **_content(record),
                url=record.url,
                canonical_id=record.canonical_id,
                first_seen_at=seen_at,
                last_seen_at=seen_at,
            )
        )
        return Outcome.NEW
    if article.url == record.url:
        return _refresh(article, record, seen_at)
    _add_alias(session, article, record, seen_at)
    return Outcome.NEW_ALIAS


def _find_article(session: Session, record: ArticleRecord) -> Article | None:
    """The archived article this page is: same URL, same id, or same body elsewhere."""
    candidates = session.scalars(
        select(Article).where(
            or_(
                Article.url == record.url,
                Article.canonical_id == record.canonical_id,
                Article.body_digest == record.body_digest,
            )
        )
    ).all()
    for matches in (
        lambda a: a.url == record.url,
        lambda a: a.canonical_id == record.canonical_id,
        lambda a: a.body_digest == record.body_digest,
    ):
        found = next((a for a in candidates if matches(a)), None)
        if found is not None:
            return found
    by_alias_id = session.scalar(
        select(ArticleAlias).where(ArticleAlias.canonical_id == record.canonical_id).limit(1)
    )
    return session.get(Article, by_alias_id.article_id) if by_alias_id else None


def _refresh(article: Article, record: ArticleRecord, seen_at: datetime) -> Outcome:
    article.last_seen_at = seen_at
    content = _content(record)
    if all(getattr(article, name) == value for name, value in content.items()):
        return Outcome.UNCHANGED
    for name, value in content.items():
        setattr(article, name, value)
    return Outcome.UPDATED


def _add_alias(
    session: Session, article: Article, record: ArticleRecord, seen_at: datetime
) -> None:
    """Keep `record.url` as another URL of `article`.

    The article's primary URL is its earliest publication: when the new page is dated before
    the archived one (the original found after its republication), the two swap places.
    """
    earlier = (
        record.published_on is not None
        and article.published_on is not None
        and record.published_on < article.published_on
    )
    if not earlier:
        session.add(
            ArticleAlias(
                url=record.url,
                article_id=article.id,
                canonical_id=record.canonical_id,
                published_on=record.published_on,
                first_seen_at=seen_at,
                last_seen_at=seen_at,
            )
        )
        return
    session.add(
        ArticleAlias(
            url=article.url,
            article_id=article.id,
            canonical_id=article.canonical_id,
            published_on=article.published_on,
            first_seen_at=article.first_seen_at,
            last_seen_at=article.last_seen_at,
        )
    )
    session.flush()  # the old primary URL and id are free once they are an alias
    article.url, article.canonical_id = record.url, record.canonical_id
    for name, value in _content(record).items():
        setattr(article, name, value)
    article.last_seen_at = seen_at


def _content(record: ArticleRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in _CONTENT_FIELDS}


def record_column(
    session: Session, column_id: str, name: str, list_url: str, seen_at: datetime
) -> None:
    """Remember a column's name as the navigation shows it (the latest name wins)."""
    column = session.get(SiteColumn, column_id)
    if column is None:
        session.add(
            SiteColumn(
                column_id=column_id,
                name=name,
                list_url=list_url,
                first_seen_at=seen_at,
                last_seen_at=seen_at,
            )
        )
        return
    column.name, column.list_url, column.last_seen_at = name, list_url, seen_at


def count_articles(session: Session) -> int:
    """How many articles the archive holds."""
    return session.scalar(select(func.count()).select_from(Article)) or 0


def count_aliases(session: Session) -> int:
    """How many extra URLs the archive's articles have."""
    return session.scalar(select(func.count()).select_from(ArticleAlias)) or 0
