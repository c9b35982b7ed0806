"""Pages seen again without new content, and columns: a 404/410 marks an article withdrawn
(`record_gone`), a 304 is a sighting of an unchanged article or alias (`record_not_modified`),
a column's name is remembered as the navigation shows it (`record_column`); the capture a page
came from is linked to its article. Functions take a `Session` first and never commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from storage.article_records import Outcome, Result
from storage.changes import RETURNED, WITHDRAWN, record_changes
from storage.models import Article, ArticleAlias, ArticleVersion, Capture, SiteColumn, table_of
from storage.write_rows import _by_id, _set
from storage.writing import writer

_article = table_of(Article)
_version = table_of(ArticleVersion)
_alias = table_of(ArticleAlias)
_column = table_of(SiteColumn)
_capture = table_of(Capture)

_ALIAS_OF = select(_alias.c.article_id).where(_alias.c.url == bindparam("url"))
_ALIAS_SEEN = (
    update(_alias)
    .where(_alias.c.url == bindparam("alias_url"))
    .values(last_seen_at=bindparam("seen"))
)
_ARTICLE_AT = select(_article.c.id, _article.c.withdrawn_at, _article.c.current_version_id).where(
    _article.c.url == bindparam("url")
)
_WITHDRAW = _by_id(_article, "withdrawn_at")
_SEEN = _by_id(_article, "last_seen_at", "withdrawn_at")
_VERSION_SEEN = _by_id(_version, "last_seen_at")
_CAPTURE_OF = _by_id(_capture, "article_id")
_COLUMN_SEEN = (
    update(_column)
    .where(_column.c.column_id == bindparam("key"))
    .values(
        name=bindparam("new_name"), list_url=bindparam("new_url"), last_seen_at=bindparam("seen")
    )
)
_INSERT_COLUMN = insert(_column)


def record_gone(
    session: Session,
    url: str,
    seen_at: datetime,
    capture_id: int | None = None,
    run_id: int | None = None,
) -> Result:
    """A 404/410 for `url`: its article is marked withdrawn (never deleted)."""
    db = writer(session)
    row = db.execute(_ARTICLE_AT, {"url": url}).first()
    if row is None:
        result = Result(Outcome.NOT_ARCHIVED)
    elif row.withdrawn_at is not None:
        result = Result(Outcome.STILL_GONE, row.id)
    else:
        db.execute(_WITHDRAW, _set(row.id, withdrawn_at=seen_at))
        record_changes(db, row.id, row.current_version_id, WITHDRAWN, seen_at, run_id)
        result = Result(Outcome.WITHDRAWN, row.id)
    _link_capture(db, capture_id, result.article_id)
    return result


def record_not_modified(
    session: Session,
    url: str,
    seen_at: datetime,
    capture_id: int | None = None,
    run_id: int | None = None,
) -> Result:
    """A 304 for `url`: its article (or alias) was seen again, unchanged."""
    db = writer(session)
    result = _not_modified(db, url, seen_at, run_id)
    _link_capture(db, capture_id, result.article_id)
    return result


def _not_modified(db: Connection, url: str, seen_at: datetime, run_id: int | None) -> Result:
    alias_of = _seen_alias(db, url, seen_at)
    if alias_of is not None:
        return Result(Outcome.ALIAS_SEEN, alias_of)
    row = db.execute(_ARTICLE_AT, {"url": url}).first()
    if row is None:
        return Result(Outcome.NOT_ARCHIVED)
    db.execute(_SEEN, _set(row.id, last_seen_at=seen_at, withdrawn_at=None))
    if row.current_version_id is not None:
        db.execute(_VERSION_SEEN, _set(row.current_version_id, last_seen_at=seen_at))
    if row.withdrawn_at is not None:
        record_changes(db, row.id, row.current_version_id, RETURNED, seen_at, run_id)
    return Result(Outcome.UNCHANGED, row.id)


def _seen_alias(db: Connection, url: str, seen_at: datetime) -> int | None:
    """The article `url` is an alias of (its sighting recorded), or None."""
    article_id: int | None = db.execute(_ALIAS_OF, {"url": url}).scalar()
    if article_id is not None:
        db.execute(_ALIAS_SEEN, {"alias_url": url, "seen": seen_at})
    return article_id


def _link_capture(db: Connection, capture_id: int | None, article_id: int | None) -> None:
    if capture_id is not None and article_id is not None:
        db.execute(_CAPTURE_OF, _set(capture_id, article_id=article_id))


def record_column(
    session: Session, column_id: str, name: str, list_url: str, seen_at: datetime
) -> None:
    """Remember a column's name as the navigation shows it (the latest name wins)."""
    db = writer(session)
    known = db.execute(
        _COLUMN_SEEN, {"key": column_id, "new_name": name, "new_url": list_url, "seen": seen_at}
    )
    if not known.rowcount:
        db.execute(
            _INSERT_COLUMN,
            {
                "column_id": column_id,
                "name": name,
                "list_url": list_url,
                "first_seen_at": seen_at,
                "last_seen_at": seen_at,
            },
        )


def count_articles(session: Session) -> int:
    """How many articles the archive holds."""
    return session.scalar(select(func.count()).select_from(Article)) or 0


def count_aliases(session: Session) -> int:
    """How many extra URLs the archive's articles have."""
    return session.scalar(select(func.count()).select_from(ArticleAlias)) or 0
