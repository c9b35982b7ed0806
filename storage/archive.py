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

from sqlalchemy import Table, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from storage import fulltext, neardup
from storage.models import (
    Article,
    ArticleAlias,
    ArticleVersion,
    Capture,
    NearDuplicate,
    NearDuplicateBand,
    SiteColumn,
    table_of,
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


# The tables, for Core statements: the write path runs a few indexed statements per article
# and never loads ORM objects (a unit-of-work flush per article cost ~10 ms; see
# benchmarks/RESULTS.md, B1). Column types (UTC datetimes, JSON) apply all the same.
_article = table_of(Article)
_version = table_of(ArticleVersion)
_alias = table_of(ArticleAlias)
_band = table_of(NearDuplicateBand)
_near = table_of(NearDuplicate)
_column = table_of(SiteColumn)
_capture = table_of(Capture)


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


_KNOWN_COLUMNS = (
    _article.c.id,
    _article.c.url,
    _article.c.canonical_id,
    _article.c.column_id,
    _article.c.current_version_id,
    _article.c.first_seen_at,
    _article.c.last_seen_at,
)


def record_article(
    session: Session, record: ArticleRecord, seen_at: datetime, capture_id: int | None = None
) -> Result:
    """Archive one fetched article page; returns what it was to the archive. The capture the
    page came from (`capture_id`) is linked to the article."""
    result = _record_article(session, record, seen_at, capture_id)
    _link_capture(session, capture_id, result.article_id)
    return result


def _record_article(
    session: Session, record: ArticleRecord, seen_at: datetime, capture_id: int | None
) -> Result:
    alias_of = _seen_alias(session, record.url, seen_at)
    if alias_of is not None:
        return Result(Outcome.ALIAS_SEEN, alias_of)
    article = _find_article(session, record)
    if article is None:
        return _new_article(session, record, seen_at, capture_id)
    if article.url == record.url:
        return _refresh(session, article, record, seen_at, capture_id)
    _add_alias(session, article, record, seen_at)
    return Result(Outcome.NEW_ALIAS, article.id)


def record_gone(
    session: Session, url: str, seen_at: datetime, capture_id: int | None = None
) -> Result:
    """A 404/410 for `url`: its article is marked withdrawn (never deleted)."""
    row = session.execute(
        select(_article.c.id, _article.c.withdrawn_at).where(_article.c.url == url)
    ).first()
    if row is None:
        result = Result(Outcome.NOT_ARCHIVED)
    elif row.withdrawn_at is not None:
        result = Result(Outcome.STILL_GONE, row.id)
    else:
        _update(session, _article, row.id, withdrawn_at=seen_at)
        result = Result(Outcome.WITHDRAWN, row.id)
    _link_capture(session, capture_id, result.article_id)
    return result


def record_not_modified(
    session: Session, url: str, seen_at: datetime, capture_id: int | None = None
) -> Result:
    """A 304 for `url`: its article (or alias) was seen again, unchanged."""
    result = _not_modified(session, url, seen_at)
    _link_capture(session, capture_id, result.article_id)
    return result


def _not_modified(session: Session, url: str, seen_at: datetime) -> Result:
    alias_of = _seen_alias(session, url, seen_at)
    if alias_of is not None:
        return Result(Outcome.ALIAS_SEEN, alias_of)
    row = session.execute(
        select(_article.c.id, _article.c.current_version_id).where(_article.c.url == url)
    ).first()
    if row is None:
        return Result(Outcome.NOT_ARCHIVED)
    _update(session, _article, row.id, last_seen_at=seen_at, withdrawn_at=None)
    if row.current_version_id is not None:
        _update(session, _version, row.current_version_id, last_seen_at=seen_at)
    return Result(Outcome.UNCHANGED, row.id)


def _seen_alias(session: Session, url: str, seen_at: datetime) -> int | None:
    """The article `url` is an alias of (its sighting recorded), or None."""
    article_id = session.scalar(select(_alias.c.article_id).where(_alias.c.url == url))
    if article_id is not None:
        session.execute(update(_alias).where(_alias.c.url == url).values(last_seen_at=seen_at))
    return article_id


def _update(session: Session, table: Table, row_id: int, **values: Any) -> None:
    session.execute(update(table).where(table.c.id == row_id).values(**values))


def _link_capture(session: Session, capture_id: int | None, article_id: int | None) -> None:
    if capture_id is not None and article_id is not None:
        _update(session, _capture, capture_id, article_id=article_id)


def _find_article(session: Session, record: ArticleRecord) -> _Known | None:
    """The archived article this page is: same URL, same id, or same body elsewhere."""
    rows = session.execute(
        select(*_KNOWN_COLUMNS, _article.c.body_digest).where(
            or_(
                _article.c.url == record.url,
                _article.c.canonical_id == record.canonical_id,
                _article.c.body_digest == record.body_digest,
            )
        )
    ).all()
    for key in ("url", "canonical_id", "body_digest"):
        found = next((row for row in rows if getattr(row, key) == getattr(record, key)), None)
        if found is not None:
            return _Known(*found[:-1])
    by_alias = session.execute(
        select(*_KNOWN_COLUMNS)
        .join(_alias, _alias.c.article_id == _article.c.id)
        .where(_alias.c.canonical_id == record.canonical_id)
        .limit(1)
    ).first()
    return _Known(*by_alias) if by_alias is not None else None


def _new_article(
    session: Session, record: ArticleRecord, seen_at: datetime, capture_id: int | None
) -> Result:
    simhash, keys = neardup.signature(record.body)
    article_id: int = session.execute(
        insert(_article)
        .values(
            url=record.url,
            canonical_id=record.canonical_id,
            column_id=record.column_id,
            body_digest=record.body_digest,
            simhash=simhash,
            first_seen_at=seen_at,
            last_seen_at=seen_at,
        )
        .returning(_article.c.id)
    ).scalar_one()
    _add_version(session, article_id, record, seen_at, capture_id, version_no=1)
    fulltext.index_article(session, article_id, record.title, record.body)
    original = _link_near_duplicate(session, article_id, simhash, keys, record, seen_at)
    _index_bands(session, article_id, keys)
    return Result(Outcome.NEW, article_id, original)


def _add_version(
    session: Session,
    article_id: int,
    record: ArticleRecord,
    seen_at: datetime,
    capture_id: int | None,
    version_no: int,
) -> None:
    version_id = session.execute(
        insert(_version)
        .values(
            article_id=article_id,
            version_no=version_no,
            content_digest=_digest_of(record),
            capture_id=capture_id,
            first_seen_at=seen_at,
            last_seen_at=seen_at,
            **_content_of(record),
        )
        .returning(_version.c.id)
    ).scalar_one()
    _update(session, _article, article_id, current_version_id=version_id)


def _content_of(record: ArticleRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in _VERSION_FIELDS}


def _digest_of(record: ArticleRecord) -> str:
    return content_digest(record.title, record.published_on, record.body, record.captions)


def _current(session: Session, article: _Known) -> Any:
    """The article's current version row (what a reader sees now)."""
    row = session.execute(
        select(
            _version.c.id,
            _version.c.version_no,
            _version.c.content_digest,
            _version.c.title,
            _version.c.body,
            _version.c.published_on,
        ).where(_version.c.id == article.current_version_id)
    ).first()
    assert row is not None, f"article {article.id} has no current version"
    return row


def _refresh(
    session: Session,
    article: _Known,
    record: ArticleRecord,
    seen_at: datetime,
    capture_id: int | None,
) -> Result:
    """The same URL again: unchanged content moves `last_seen_at`, changed content is a new
    version (and a page seen again is no longer withdrawn)."""
    current = _current(session, article)
    if _digest_of(record) == current.content_digest:
        _update(session, _article, article.id, last_seen_at=seen_at, withdrawn_at=None)
        _update(session, _version, current.id, last_seen_at=seen_at)
        return Result(Outcome.UNCHANGED, article.id)
    fulltext.unindex_article(session, article.id, current.title, current.body)
    _add_version(session, article.id, record, seen_at, capture_id, current.version_no + 1)
    fulltext.index_article(session, article.id, record.title, record.body)
    _update(
        session,
        _article,
        article.id,
        last_seen_at=seen_at,
        withdrawn_at=None,
        column_id=record.column_id,
    )
    _refresh_fingerprints(session, article.id, record)
    return Result(Outcome.NEW_VERSION, article.id)


def _add_alias(session: Session, article: _Known, record: ArticleRecord, seen_at: datetime) -> None:
    """Keep `record.url` as another URL of `article`.

    The article's primary URL is its earliest publication: when the new page is dated before
    the archived one (the original found after its republication), the two swap places and the
    current version takes the original page's title and date (the republication's date stays
    on its alias row).
    """
    current = _current(session, article)
    earlier = (
        record.published_on is not None
        and current.published_on is not None
        and record.published_on < current.published_on
    )
    if not earlier:
        session.execute(
            insert(_alias).values(
                url=record.url,
                article_id=article.id,
                canonical_id=record.canonical_id,
                published_on=record.published_on,
                first_seen_at=seen_at,
                last_seen_at=seen_at,
            )
        )
        return
    # the old primary URL and id become an alias first: they are free for the article then
    session.execute(
        insert(_alias).values(
            url=article.url,
            article_id=article.id,
            canonical_id=article.canonical_id,
            published_on=current.published_on,
            first_seen_at=article.first_seen_at,
            last_seen_at=article.last_seen_at,
        )
    )
    fulltext.unindex_article(session, article.id, current.title, current.body)
    _update(session, _version, current.id, content_digest=_digest_of(record), **_content_of(record))
    fulltext.index_article(session, article.id, record.title, record.body)
    _update(
        session,
        _article,
        article.id,
        url=record.url,
        canonical_id=record.canonical_id,
        column_id=record.column_id,
        last_seen_at=seen_at,
    )
    _refresh_fingerprints(session, article.id, record)


def _refresh_fingerprints(session: Session, article_id: int, record: ArticleRecord) -> None:
    """The body digest, SimHash and band keys of the article's new current body."""
    simhash, keys = neardup.signature(record.body)
    _update(session, _article, article_id, body_digest=record.body_digest, simhash=simhash)
    session.execute(delete(_band).where(_band.c.article_id == article_id))
    _index_bands(session, article_id, keys)


def _link_near_duplicate(
    session: Session,
    article_id: int,
    simhash: int,
    keys: list[int],
    record: ArticleRecord,
    seen_at: datetime,
) -> int | None:
    """Link the article and the closest other article within the SimHash threshold, if any.

    Candidates come from the MinHash-LSH band index (one indexed lookup), never a scan. The
    earlier publication is the original, whichever of the two was crawled first.
    """
    if not simhash or not keys:
        return None
    rows = session.execute(
        select(_article.c.id, _article.c.simhash, _version.c.published_on)
        .join(_band, _band.c.article_id == _article.c.id)
        .join(_version, _version.c.id == _article.c.current_version_id)
        .where(_band.c.band_key.in_(keys), _article.c.id != article_id)
        .distinct()
    ).all()
    scored = sorted(
        (neardup.hamming(simhash, other), other_id, published)
        for other_id, other, published in rows
        if other and neardup.is_near_duplicate(simhash, other)
    )
    if not scored:
        return None
    distance, other_id, other_published = scored[0]
    newer_is_this = not (
        record.published_on and other_published and record.published_on < other_published
    )
    copy_id, original_id = (article_id, other_id) if newer_is_this else (other_id, article_id)
    session.execute(
        insert(_near).values(
            article_id=copy_id, original_id=original_id, distance=distance, found_at=seen_at
        )
    )
    return int(other_id)


def _index_bands(session: Session, article_id: int, keys: list[int]) -> None:
    if keys:
        session.execute(
            insert(_band), [{"band_key": key, "article_id": article_id} for key in set(keys)]
        )


def record_column(
    session: Session, column_id: str, name: str, list_url: str, seen_at: datetime
) -> None:
    """Remember a column's name as the navigation shows it (the latest name wins)."""
    known = session.execute(
        update(_column)
        .where(_column.c.column_id == column_id)
        .values(name=name, list_url=list_url, last_seen_at=seen_at)
    )
    if not known.rowcount:  # type: ignore[attr-defined]
        session.execute(
            insert(_column).values(
                column_id=column_id,
                name=name,
                list_url=list_url,
                first_seen_at=seen_at,
                last_seen_at=seen_at,
            )
        )


def count_articles(session: Session) -> int:
    """How many articles the archive holds."""
    return session.scalar(select(func.count()).select_from(Article)) or 0


def count_aliases(session: Session) -> int:
    """How many extra URLs the archive's articles have."""
    return session.scalar(select(func.count()).select_from(ArticleAlias)) or 0
