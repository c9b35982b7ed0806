"""Writing the archive. Functions take a `Session` first and never commit.

`record_article` is the one write path for article content: it decides whether a fetched page is
a new article, the same article seen again (by URL, by id, or by the same body under another
URL, which becomes an alias), or a new version of a known article. `record_capture` keeps the
raw response; `record_gone` marks an article withdrawn. Each keeps the search index and the
near-duplicate index in step, inside the caller's transaction, and records what changed
(`storage.changes`). A document's metadata and references go with each of its versions
(`storage.documents`).
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any

from sqlalchemy import (
    Connection,
    Table,
    Update,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from storage import neardup
from storage.changes import CHANGED, NEW, RETURNED, WITHDRAWN, changed_fields, record_changes
from storage.documents import (
    DocumentRecord,
    document_digest,
    document_of,
    index_title,
    rewrite_document,
    same_number,
    write_document,
)
from storage.indexing import SearchIndex, search_index
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
from storage.writing import writer


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
    document: DocumentRecord | None = None  # a 政务公开 document's metadata (storage.documents)

    # What the write path derives from the record, computed once, wherever it is first asked
    # for: a process that prepares records (the crawler's pool, B3's generator) can compute
    # them off the writer's thread, and they travel with the pickled record.
    @cached_property
    def signature(self) -> tuple[int, list[int]]:
        """The body's SimHash and LSH band keys (`storage.neardup.signature`)."""
        return neardup.signature(self.body)

    @cached_property
    def digest(self) -> str:
        """`content_digest` of what a reader sees: a change here is a new version. A document's
        covers its versioned metadata too (`storage.documents.document_digest`)."""
        if self.document is None:
            return content_digest(self.title, self.published_on, self.body, self.captions)
        day = self.published_on.isoformat() if self.published_on else None
        content = [self.title, day, self.body, self.captions]
        return document_digest(content, self.document, self.attachments)

    def derive(self) -> ArticleRecord:
        """The record with its derived values computed now (in a preparing process)."""
        _computed = (self.signature, self.digest)  # a cached_property keeps what it computes
        return self


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


# The write path runs a few prepared Core statements per article on the session's connection
# and never loads ORM objects: a unit-of-work flush per article cost ~10 ms, building a Core
# statement per call ~0.35 ms, executing a prepared one ~0.08 ms (benchmarks/RESULTS.md, B1).
# Column types (UTC datetimes, JSON) apply all the same.
_article = table_of(Article)
_version = table_of(ArticleVersion)
_alias = table_of(ArticleAlias)
_band = table_of(NearDuplicateBand)
_near = table_of(NearDuplicate)
_column = table_of(SiteColumn)
_capture = table_of(Capture)


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
_ALIAS_OF = select(_alias.c.article_id).where(_alias.c.url == bindparam("url"))
_ALIAS_SEEN = (
    update(_alias)
    .where(_alias.c.url == bindparam("alias_url"))
    .values(last_seen_at=bindparam("seen"))
)
_ARTICLE_AT = select(_article.c.id, _article.c.withdrawn_at, _article.c.current_version_id).where(
    _article.c.url == bindparam("url")
)
_FIND = select(*_KNOWN_COLUMNS, _article.c.body_digest).where(
    or_(
        _article.c.url == bindparam("url"),
        _article.c.canonical_id == bindparam("canonical_id"),
        _article.c.body_digest == bindparam("body_digest"),
    )
)
_FIND_BY_ALIAS = (
    select(*_KNOWN_COLUMNS)
    .join(_alias, _alias.c.article_id == _article.c.id)
    .where(_alias.c.canonical_id == bindparam("canonical_id"))
    .limit(1)
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
).where(_version.c.id == bindparam("version_id"))
_INSERT_ARTICLE = insert(_article).returning(_article.c.id)
_INSERT_VERSION = insert(_version).returning(_version.c.id)
_INSERT_ALIAS = insert(_alias)
_INSERT_BANDS = insert(_band)
_INSERT_NEAR = insert(_near)
#: Near-duplicate candidates read per new article: those sharing the most LSH bands with it,
#: among the newest `PER_BAND` articles under each of its band keys. A lightly edited copy
#: shares most of its 16 bands; formulaic texts can share one band with thousands of articles
#: (B3's synthetic notices: up to 2,065 per key at 43,000 articles), and reading all of them
#: made each insert slower as the archive grew. Both bounds keep a lookup constant.
MAX_CANDIDATES = 64
PER_BAND = 256
_BAND_MEMBERS = union_all(
    *(
        select(_band.c.article_id)
        .where(_band.c.band_key == bindparam(f"key{band}"))
        .order_by(_band.c.article_id.desc())
        .limit(bindparam("per_band"))
        .subquery()
        .select()
        for band in range(neardup.BANDS)
    )
).subquery()
_CANDIDATE_IDS = (
    select(_BAND_MEMBERS.c.article_id)
    .where(_BAND_MEMBERS.c.article_id != bindparam("article_id"))
    .group_by(_BAND_MEMBERS.c.article_id)
    .order_by(func.count().desc(), _BAND_MEMBERS.c.article_id)
    .limit(bindparam("most"))
)
_CANDIDATES = (
    select(_article.c.id, _article.c.simhash, _version.c.published_on)
    .join(_version, _version.c.id == _article.c.current_version_id)
    .where(_article.c.id.in_(_CANDIDATE_IDS.scalar_subquery()))
)
_DELETE_BANDS = delete(_band).where(_band.c.article_id == bindparam("article_id"))
_WITHDRAW = _by_id(_article, "withdrawn_at")
_SEEN = _by_id(_article, "last_seen_at", "withdrawn_at")
_SEEN_CHANGED = _by_id(
    _article, "last_seen_at", "withdrawn_at", "column_id", "published_on", "published_year"
)
_SEEN_MOVED = _by_id(
    _article,
    "last_seen_at",
    "url",
    "canonical_id",
    "column_id",
    "published_on",
    "published_year",
)
_MAKE_CURRENT = _by_id(_article, "current_version_id")
_FINGERPRINTS = _by_id(_article, "body_digest", "simhash")
_VERSION_SEEN = _by_id(_version, "last_seen_at")
_VERSION_REWRITTEN = _by_id(_version, "content_digest", *_VERSION_FIELDS)
_CAPTURE_OF = _by_id(_capture, "article_id")
_COLUMN_SEEN = (
    update(_column)
    .where(_column.c.column_id == bindparam("key"))
    .values(
        name=bindparam("new_name"), list_url=bindparam("new_url"), last_seen_at=bindparam("seen")
    )
)
_INSERT_COLUMN = insert(_column)


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
    with the crawl run (`run_id`, when known)."""
    db = writer(session)
    visit = _Visit(seen_at, capture_id, run_id)
    result = _record_article(db, search_index(session), record, visit)
    _link_capture(db, capture_id, result.article_id)
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
    simhash, keys = record.signature
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
    original = _link_near_duplicate(db, article_id, simhash, keys, record, seen_at)
    _index_bands(db, article_id, keys)
    return Result(Outcome.NEW, article_id, original)


def _add_version(
    db: Connection, article_id: int, record: ArticleRecord, visit: _Visit, version_no: int
) -> int:
    """A new current version of the article (with its document row); its id."""
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
    _refresh_fingerprints(db, article.id, record)
    return Result(Outcome.NEW_VERSION, article.id)


def _add_alias(
    db: Connection, search: SearchIndex, article: _Known, record: ArticleRecord, seen_at: datetime
) -> None:
    """Keep `record.url` as another URL of `article`.

    The article's primary URL is its earliest publication: when the new page is dated before
    the archived one (the original found after its republication), the two swap places and the
    current version takes the original page's title and date (the republication's date stays
    on its alias row).
    """
    current = _current(db, article)
    earlier = (
        record.published_on is not None
        and current.published_on is not None
        and record.published_on < current.published_on
    )
    if not earlier:
        db.execute(
            _INSERT_ALIAS,
            {
                "url": record.url,
                "article_id": article.id,
                "canonical_id": record.canonical_id,
                "published_on": record.published_on,
                "first_seen_at": seen_at,
                "last_seen_at": seen_at,
            },
        )
        return
    # the old primary URL and id become an alias first: they are free for the article then
    db.execute(
        _INSERT_ALIAS,
        {
            "url": article.url,
            "article_id": article.id,
            "canonical_id": article.canonical_id,
            "published_on": current.published_on,
            "first_seen_at": article.first_seen_at,
            "last_seen_at": article.last_seen_at,
        },
    )
    search.remove(article.id, index_title(current.title, document_of(db, current.id)), current.body)
    db.execute(
        _VERSION_REWRITTEN,
        _set(current.id, content_digest=record.digest, **_content_of(record)),
    )
    rewrite_document(db, article.id, current.id, record.document, record.title)
    search.add(article.id, index_title(record.title, record.document), record.body)
    db.execute(
        _SEEN_MOVED,
        _set(
            article.id,
            last_seen_at=seen_at,
            url=record.url,
            canonical_id=record.canonical_id,
            column_id=record.column_id,
            **_dated(record),
        ),
    )
    _refresh_fingerprints(db, article.id, record)


def _refresh_fingerprints(db: Connection, article_id: int, record: ArticleRecord) -> None:
    """The body digest, SimHash and band keys of the article's new current body."""
    simhash, keys = record.signature
    db.execute(_FINGERPRINTS, _set(article_id, body_digest=record.body_digest, simhash=simhash))
    db.execute(_DELETE_BANDS, {"article_id": article_id})
    _index_bands(db, article_id, keys)


def _link_near_duplicate(
    db: Connection,
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
    rows = db.execute(
        _CANDIDATES,
        {
            **{f"key{band}": key for band, key in enumerate(keys)},
            "article_id": article_id,
            "per_band": PER_BAND,
            "most": MAX_CANDIDATES,
        },
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
    db.execute(
        _INSERT_NEAR,
        {
            "article_id": copy_id,
            "original_id": original_id,
            "distance": distance,
            "found_at": seen_at,
        },
    )
    return int(other_id)


def _index_bands(db: Connection, article_id: int, keys: list[int]) -> None:
    if keys:
        db.execute(
            _INSERT_BANDS, [{"band_key": key, "article_id": article_id} for key in set(keys)]
        )


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
