"""Writing the archive. Functions take a `Session` first and never commit.

`record_article` is the one write path for article content: it decides whether a fetched page is
a new article, the same article seen again (by URL, by id, or by the same body under another
URL, which becomes an alias: `storage.aliases`), or a new version of a known article. It keeps
the search index and the near-duplicate index (`storage.neardup_links`) in step, inside the
caller's transaction, and records what changed (`storage.changes`). A document's metadata and
references go with each of its versions (`storage.documents`). `record_capture` keeps the raw
response (`storage.captures`); `record_gone`, `record_not_modified` and `record_column` are in
`storage.sightings`, the records and results in `storage.article_records`; all are importable
from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, insert, or_, select
from sqlalchemy.orm import Session

from storage.aliases import _add_alias
from storage.article_records import REEXTRACT, ArticleRecord, Outcome, Result, content_digest
from storage.changes import CHANGED, NEW, RETURNED, changed_fields, record_changes
from storage.documents import document_of, index_title, same_number, write_document
from storage.file_links import links_of, record_file_links
from storage.indexing import SearchIndex, search_index
from storage.models import Article, ArticleAlias, ArticleVersion, Capture, table_of
from storage.neardup_links import _follow_body
from storage.sightings import (
    _SEEN,
    _VERSION_SEEN,
    _link_capture,
    _seen_alias,
    count_aliases,
    count_articles,
    record_column,
    record_gone,
    record_not_modified,
)
from storage.write_rows import (
    _KNOWN_COLUMNS,
    _by_id,
    _content_of,
    _current,
    _dated,
    _Known,
    _set,
)
from storage.writing import writer

__all__ = [
    "ArticleRecord",
    "Outcome",
    "Result",
    "content_digest",
    "count_aliases",
    "count_articles",
    "record_article",
    "record_column",
    "record_gone",
    "record_not_modified",
]

_article = table_of(Article)
_version = table_of(ArticleVersion)
_alias = table_of(ArticleAlias)

_FIND = select(*_KNOWN_COLUMNS, _article.c.body_digest).where(
    or_(
        _article.c.url == bindparam("url"),
        _article.c.canonical_id == bindparam("canonical_id"),
        _article.c.body_digest == bindparam("body_digest"),
    )
)
# A re-extraction is of one archived article: its own URL and id, never another's.
_FIND_SAME = select(*_KNOWN_COLUMNS).where(
    _article.c.url == bindparam("url"), _article.c.canonical_id == bindparam("canonical_id")
)
_FIND_BY_ALIAS = (
    select(*_KNOWN_COLUMNS)
    .join(_alias, _alias.c.article_id == _article.c.id)
    .where(_alias.c.canonical_id == bindparam("canonical_id"))
    .limit(1)
)
_INSERT_ARTICLE = insert(_article).returning(_article.c.id)
_INSERT_VERSION = insert(_version).returning(_version.c.id)
_SEEN_CHANGED = _by_id(
    _article, "last_seen_at", "withdrawn_at", "column_id", "published_on", "published_year"
)
_MAKE_CURRENT = _by_id(_article, "current_version_id")
_FETCHED_AT = select(table_of(Capture).c.fetched_at).where(
    table_of(Capture).c.id == bindparam("id")
)
_REEXTRACTED = _by_id(_article, "column_id", "published_on", "published_year")


@dataclass(frozen=True)
class _Visit:
    """One page's write: when it was fetched, from which capture, in which crawl run."""

    seen_at: datetime
    capture_id: int | None
    run_id: int | None


def record_article(
    session: Session,
    record: ArticleRecord,
    seen_at: datetime,
    capture_id: int | None = None,
    run_id: int | None = None,
) -> Result:
    """Archive one fetched article page; returns what it was to the archive. The capture the
    page came from (`capture_id`) is linked to the article; the changes it brings are recorded
    with the crawl run (`run_id`, when known); the files it links (images, attachments) are
    remembered (`storage.file_links`), to be fetched.

    A record whose origin is `REEXTRACT` (an archived capture read again) is the archived
    article's at the same URL and id: a changed result is its new version, made at `seen_at`
    by re-extraction; an unchanged one writes nothing (`_reextracted`)."""
    db = writer(session)
    visit = _Visit(seen_at, capture_id, run_id)
    if record.origin == REEXTRACT:
        result = _reextracted(db, search_index(session), record, visit)
        if result.outcome != Outcome.NEW_VERSION:
            return result
        # The files are linked as of the capture read, not of the re-extraction.
        seen_at = db.execute(_FETCHED_AT, {"id": capture_id}).scalar() or seen_at
    else:
        result = _record_article(db, search_index(session), record, visit)
        _link_capture(db, capture_id, result.article_id)
    if result.article_id is not None:  # an alias's links are its article's
        links = links_of(record.images, record.attachments)
        record_file_links(session, result.article_id, links, seen_at)
    return result


def _record_article(
    db: Connection, search: SearchIndex, record: ArticleRecord, visit: _Visit
) -> Result:
    seen_at = visit.seen_at
    alias_of = _seen_alias(db, record.url, seen_at)
    if alias_of is not None:
        return Result(Outcome.ALIAS_SEEN, alias_of)
    article = _find_article(db, record)
    if article is None:
        return _new_article(db, search, record, visit)
    if article.url == record.url:
        return _refresh(db, search, article, record, visit)
    _add_alias(db, search, article, record, seen_at)
    return Result(Outcome.NEW_ALIAS, article.id)


def _find_article(db: Connection, record: ArticleRecord) -> _Known | None:
    """The archived article this page is: same URL, same id, or same body elsewhere (and, for
    a document, the same 文号)."""
    rows = db.execute(
        _FIND,
        {
            "url": record.url,
            "canonical_id": record.canonical_id,
            "body_digest": record.body_digest,
        },
    ).all()
    for key in ("url", "canonical_id", "body_digest"):
        same = (row for row in rows if getattr(row, key) == getattr(record, key))
        if key == "body_digest":  # a document re-issued under a new number is another one
            same = (row for row in same if same_number(db, row.current_version_id, record.document))
        found = next(same, None)
        if found is not None:
            return _Known(*found[:-1])
    by_alias = db.execute(_FIND_BY_ALIAS, {"canonical_id": record.canonical_id}).first()
    return _Known(*by_alias) if by_alias is not None else None


def _new_article(
    db: Connection, search: SearchIndex, record: ArticleRecord, visit: _Visit
) -> Result:
    seen_at = visit.seen_at
    simhash = record.signature[0]
    article_id: int = db.execute(
        _INSERT_ARTICLE,
        {
            "url": record.url,
            "canonical_id": record.canonical_id,
            "column_id": record.column_id,
            "body_digest": record.body_digest,
            "simhash": simhash,
            "first_seen_at": seen_at,
            "last_seen_at": seen_at,
            **_dated(record),
        },
    ).scalar_one()
    version_id = _add_version(db, article_id, record, visit, version_no=1)
    record_changes(db, article_id, version_id, NEW, seen_at, visit.run_id)
    search.add(article_id, index_title(record.title, record.document), record.body)
    original = _follow_body(db, article_id, record, seen_at, new=True)
    return Result(Outcome.NEW, article_id, original)


def _add_version(
    db: Connection, article_id: int, record: ArticleRecord, visit: _Visit, version_no: int
) -> int:
    """A new current version of the article (with its document row), first and last seen at
    the visit; its id."""
    version_id: int = db.execute(
        _INSERT_VERSION,
        {
            "article_id": article_id,
            "version_no": version_no,
            "content_digest": record.digest,
            "capture_id": visit.capture_id,
            "first_seen_at": visit.seen_at,
            "last_seen_at": visit.seen_at,
            **_content_of(record),
        },
    ).scalar_one()
    if record.document is not None:
        write_document(db, article_id, version_id, record.document, record.title)
    db.execute(_MAKE_CURRENT, _set(article_id, current_version_id=version_id))
    return version_id


def _refresh(
    db: Connection, search: SearchIndex, article: _Known, record: ArticleRecord, visit: _Visit
) -> Result:
    """The same URL again: unchanged content moves `last_seen_at`, changed content is a new
    version, each changed field recorded (and a page seen again is no longer withdrawn)."""
    seen_at, run_id = visit.seen_at, visit.run_id
    current = _current(db, article)
    if article.withdrawn_at is not None:
        record_changes(db, article.id, current.id, RETURNED, seen_at, run_id)
    if record.digest == current.content_digest:
        db.execute(_SEEN, _set(article.id, last_seen_at=seen_at, withdrawn_at=None))
        db.execute(_VERSION_SEEN, _set(current.id, last_seen_at=seen_at))
        return Result(Outcome.UNCHANGED, article.id)
    old_document = document_of(db, current.id)
    search.remove(article.id, index_title(current.title, old_document), current.body)
    version_id = _add_version(db, article.id, record, visit, current.version_no + 1)
    fields = changed_fields(current, old_document, record)
    record_changes(db, article.id, version_id, CHANGED, seen_at, run_id, fields or None)
    search.add(article.id, index_title(record.title, record.document), record.body)
    db.execute(
        _SEEN_CHANGED,
        _set(
            article.id,
            last_seen_at=seen_at,
            withdrawn_at=None,
            column_id=record.column_id,
            **_dated(record),
        ),
    )
    _follow_body(db, article.id, record, seen_at, new=False)
    return Result(Outcome.NEW_VERSION, article.id)


def _reextracted(
    db: Connection, search: SearchIndex, record: ArticleRecord, visit: _Visit
) -> Result:
    """A re-extraction's record: a new version only when what a reader sees changed. The site
    was not fetched: the article's sightings and withdrawal stay as they are, the new version
    spans the sightings of the one it corrects (the same capture, read better), each changed
    field is recorded as the re-extraction's, not the site's, and the near-duplicate links
    follow the corrected body (`_follow_body`, as for a crawl's new version)."""
    found = db.execute(_FIND_SAME, {"url": record.url, "canonical_id": record.canonical_id})
    row = found.first()
    if row is None:
        return Result(Outcome.NOT_ARCHIVED)
    article = _Known(*row)
    current = _current(db, article)
    old_document = document_of(db, current.id)
    # A fix of a field outside the digest (a document's 来源, 主题分类) is a fix all the same.
    fields = changed_fields(current, old_document, record) or None
    if record.digest == current.content_digest and fields is None:
        return Result(Outcome.UNCHANGED, article.id)
    search.remove(article.id, index_title(current.title, old_document), current.body)
    span = _Visit(current.first_seen_at, visit.capture_id, None)
    version_id = _add_version(db, article.id, record, span, current.version_no + 1)
    db.execute(_VERSION_SEEN, _set(version_id, last_seen_at=current.last_seen_at))
    record_changes(db, article.id, version_id, CHANGED, visit.seen_at, None, fields, REEXTRACT)
    search.add(article.id, index_title(record.title, record.document), record.body)
    db.execute(_REEXTRACTED, _set(article.id, column_id=record.column_id, **_dated(record)))
    # A caption or a 来源 fixed: the links, a function of bodies and dates, stand as they are.
    if record.body != current.body or record.published_on != current.published_on:
        _follow_body(db, article.id, record, visit.seen_at, new=False)
    return Result(Outcome.NEW_VERSION, article.id)
