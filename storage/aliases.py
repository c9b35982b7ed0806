"""An article found under another URL: the URL kept as its alias, or, when the new page is the
earlier publication, the two swapping places (`_add_alias`, called by `storage.archive`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert

from storage.article_records import ArticleRecord
from storage.documents import document_of, index_title, rewrite_document
from storage.indexing import SearchIndex
from storage.models import Article, ArticleAlias, ArticleVersion, table_of
from storage.neardup_links import _refresh_fingerprints
from storage.write_rows import (
    _VERSION_FIELDS,
    _by_id,
    _content_of,
    _current,
    _dated,
    _Known,
    _set,
)

_article = table_of(Article)
_version = table_of(ArticleVersion)
_alias = table_of(ArticleAlias)

_INSERT_ALIAS = insert(_alias)
_SEEN_MOVED = _by_id(
    _article,
    "last_seen_at",
    "url",
    "canonical_id",
    "column_id",
    "published_on",
    "published_year",
)
_VERSION_REWRITTEN = _by_id(_version, "content_digest", *_VERSION_FIELDS)


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
    _refresh_fingerprints(db, article.id, record, seen_at)
