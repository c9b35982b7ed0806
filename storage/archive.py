"""Writing the archive. Functions take a `Session` first and never commit.

`record_article` is the one write path for article content: it decides whether a fetched page is
a new article, the same article seen again (by URL, by id, or by the same body under another
URL, which becomes an alias), or a new version of a known article. `record_capture` keeps the
raw response; `record_gone` marks an article withdrawn. Each keeps the search index and the
near-duplicate index in step, inside the caller's transaction.
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from storage import fulltext, neardup
from storage.models import (
    Article,
    ArticleAlias,
    ArticleVersion,
    NearDuplicate,
    NearDuplicateBand,
    SiteColumn,
)


@dataclass(frozen=True)
class ArticleRecord:
    """An article page as the archive stores it (the crawler's extraction, flattened)."""

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
    NEW_VERSION = "new_version"
    NEW_ALIAS = "new_alias"
    ALIAS_SEEN = "alias_seen"
    WITHDRAWN = "withdrawn"
    STILL_GONE = "still_gone"
    NOT_ARCHIVED = "not_archived"


@dataclass(frozen=True)
class Result:
    """What a page was to the archive, and the near-duplicate it was linked to, if any."""

    outcome: Outcome
    article_id: int | None = None
    near_duplicate_of: int | None = None  # the article it was linked with (either direction)


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
)


def content_digest(title: str, published_on: date | None, body: str, captions: list[str]) -> str:
    """SHA-256 of what a reader sees: a change here, and only here, is a new version."""
    payload = json.dumps(
        [title, published_on.isoformat() if published_on else None, body, captions],
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record_article(
    session: Session, record: ArticleRecord, seen_at: datetime, capture_id: int | None = None
) -> Result:
    """Archive one fetched article page; returns what it was to the archive."""
    alias = session.get(ArticleAlias, record.url)
    if alias is not None:
        alias.last_seen_at = seen_at
        return Result(Outcome.ALIAS_SEEN, alias.article_id)
    article = _find_article(session, record)
    if article is None:
        return _new_article(session, record, seen_at, capture_id)
    if article.url == record.url:
        return _refresh(session, article, record, seen_at, capture_id)
    _add_alias(session, article, record, seen_at)
    return Result(Outcome.NEW_ALIAS, article.id)


def record_gone(session: Session, url: str, seen_at: datetime) -> Result:
    """A 404/410 for `url`: its article is marked withdrawn (never deleted)."""
    article = session.scalar(select(Article).where(Article.url == url))
    if article is None:
        return Result(Outcome.NOT_ARCHIVED)
    if article.withdrawn_at is not None:
        return Result(Outcome.STILL_GONE, article.id)
    article.withdrawn_at = seen_at
    return Result(Outcome.WITHDRAWN, article.id)


def record_not_modified(session: Session, url: str, seen_at: datetime) -> Result:
    """A 304 for `url`: its article (or alias) was seen again, unchanged."""
    alias = session.get(ArticleAlias, url)
    if alias is not None:
        alias.last_seen_at = seen_at
        return Result(Outcome.ALIAS_SEEN, alias.article_id)
    article = session.scalar(select(Article).where(Article.url == url))
    if article is None:
        return Result(Outcome.NOT_ARCHIVED)
    article.last_seen_at, article.withdrawn_at = seen_at, None
    current = session.get(ArticleVersion, article.current_version_id)
    if current is not None:
        current.last_seen_at = seen_at
    return Result(Outcome.UNCHANGED, article.id)


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
    for key in ("url", "canonical_id", "body_digest"):
        found = next((a for a in candidates if getattr(a, key) == getattr(record, key)), None)
        if found is not None:
            return found
    by_alias_id = session.scalar(
        select(ArticleAlias).where(ArticleAlias.canonical_id == record.canonical_id).limit(1)
    )
    return session.get(Article, by_alias_id.article_id) if by_alias_id else None


def _new_article(
    session: Session, record: ArticleRecord, seen_at: datetime, capture_id: int | None
) -> Result:
    fingerprint = neardup.fingerprint(record.body)
    article = Article(
        url=record.url,
        canonical_id=record.canonical_id,
        column_id=record.column_id,
        body_digest=record.body_digest,
        simhash=fingerprint,
        first_seen_at=seen_at,
        last_seen_at=seen_at,
    )
    session.add(article)
    session.flush()
    _add_version(session, article, record, seen_at, capture_id, version_no=1)
    fulltext.index_article(session, article.id, record.title, record.body)
    keys = neardup.lsh_keys(record.body)
    original = _link_near_duplicate(session, article, record, keys, seen_at)
    _index_bands(session, article, keys)
    return Result(Outcome.NEW, article.id, original)


def _add_version(
    session: Session,
    article: Article,
    record: ArticleRecord,
    seen_at: datetime,
    capture_id: int | None,
    version_no: int,
) -> None:
    version = ArticleVersion(
        article_id=article.id,
        version_no=version_no,
        content_digest=content_digest(
            record.title, record.published_on, record.body, record.captions
        ),
        capture_id=capture_id,
        first_seen_at=seen_at,
        last_seen_at=seen_at,
        **{name: getattr(record, name) for name in _VERSION_FIELDS},
    )
    session.add(version)
    session.flush()
    article.current_version_id = version.id


def _refresh(
    session: Session,
    article: Article,
    record: ArticleRecord,
    seen_at: datetime,
    capture_id: int | None,
) -> Result:
    """The same URL again: unchanged content moves `last_seen_at`, changed content is a new
    version (and a page seen again is no longer withdrawn)."""
    article.last_seen_at = seen_at
    article.withdrawn_at = None
    current = session.get(ArticleVersion, article.current_version_id)
    assert current is not None, f"article {article.id} has no current version"
    digest = content_digest(record.title, record.published_on, record.body, record.captions)
    if digest == current.content_digest:
        current.last_seen_at = seen_at
        return Result(Outcome.UNCHANGED, article.id)
    fulltext.unindex_article(session, article.id, current.title, current.body)
    _add_version(session, article, record, seen_at, capture_id, current.version_no + 1)
    fulltext.index_article(session, article.id, record.title, record.body)
    article.column_id = record.column_id
    _refresh_fingerprints(session, article, record)
    return Result(Outcome.NEW_VERSION, article.id)


def _add_alias(
    session: Session, article: Article, record: ArticleRecord, seen_at: datetime
) -> None:
    """Keep `record.url` as another URL of `article`.

    The article's primary URL is its earliest publication: when the new page is dated before
    the archived one (the original found after its republication), the two swap places and the
    current version takes the original page's title and date (the republication's date stays
    on its alias row).
    """
    current = session.get(ArticleVersion, article.current_version_id)
    assert current is not None, f"article {article.id} has no current version"
    earlier = (
        record.published_on is not None
        and current.published_on is not None
        and record.published_on < current.published_on
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
            published_on=current.published_on,
            first_seen_at=article.first_seen_at,
            last_seen_at=article.last_seen_at,
        )
    )
    session.flush()  # the old primary URL and id are free once they are an alias
    article.url, article.canonical_id, article.column_id = (
        record.url,
        record.canonical_id,
        record.column_id,
    )
    fulltext.unindex_article(session, article.id, current.title, current.body)
    for name in _VERSION_FIELDS:
        setattr(current, name, getattr(record, name))
    current.content_digest = content_digest(
        record.title, record.published_on, record.body, record.captions
    )
    fulltext.index_article(session, article.id, record.title, record.body)
    _refresh_fingerprints(session, article, record)
    article.last_seen_at = seen_at


def _refresh_fingerprints(session: Session, article: Article, record: ArticleRecord) -> None:
    """The body digest, SimHash and band keys of the article's new current body."""
    article.body_digest = record.body_digest
    article.simhash = neardup.fingerprint(record.body)
    session.execute(delete(NearDuplicateBand).where(NearDuplicateBand.article_id == article.id))
    _index_bands(session, article, neardup.lsh_keys(record.body))


def _link_near_duplicate(
    session: Session, article: Article, record: ArticleRecord, keys: list[int], seen_at: datetime
) -> int | None:
    """Link `article` and the closest other article within the SimHash threshold, if any.

    Candidates come from the MinHash-LSH band index (one indexed lookup), never a scan. The
    earlier publication is the original, whichever of the two was crawled first.
    """
    if not article.simhash or not keys:
        return None
    rows = session.execute(
        select(Article.id, Article.simhash, ArticleVersion.published_on)
        .join(NearDuplicateBand, NearDuplicateBand.article_id == Article.id)
        .join(ArticleVersion, ArticleVersion.id == Article.current_version_id)
        .where(NearDuplicateBand.band_key.in_(keys), Article.id != article.id)
        .distinct()
    ).all()
    scored = sorted(
        (neardup.hamming(article.simhash, other), other_id, published)
        for other_id, other, published in rows
        if other and neardup.is_near_duplicate(article.simhash, other)
    )
    if not scored:
        return None
    distance, other_id, other_published = scored[0]
    newer_is_this = not (
        record.published_on and other_published and record.published_on < other_published
    )
    copy_id, original_id = (article.id, other_id) if newer_is_this else (other_id, article.id)
    session.add(
        NearDuplicate(
            article_id=copy_id, original_id=original_id, distance=distance, found_at=seen_at
        )
    )
    return other_id


def _index_bands(session: Session, article: Article, keys: list[int]) -> None:
    session.add_all(NearDuplicateBand(band_key=key, article_id=article.id) for key in set(keys))


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
