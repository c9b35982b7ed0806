"""The archive's tables, as typed SQLAlchemy 2.x models.

`article` holds one row per article (identity, primary URL, current version), `article_version`
every version of its content, `capture` every raw response, `article_alias` the other URLs the
same article was published under, `near_duplicate` lightly edited copies, `site_column` the
columns' names as the site's navigation shows them; `document_version` a 政务公开 document's
metadata in each version, `document_reference` what each version cites, `article_change` every
change seen (new, changed field, withdrawn, returned). The full-text index `articles_fts` is an
FTS5 table made by the migrations (not a model). Researchers read the `articles`,
`article_versions`, `captures`, `documents`, `field_changes`, `document_citations` and
`document_interpretations` views (see docs/schema.md).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Article(Base):
    """An article: its identity, its primary URL, and which version is current."""

    __tablename__ = "article"

    id: Mapped[int] = mapped_column(primary_key=True)
    canonical_id: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    column_id: Mapped[str | None] = mapped_column(String(64), index=True)
    current_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("article_version.id", use_alter=True, name="fk_article_current_version_id")
    )
    body_digest: Mapped[str] = mapped_column(String(64), index=True)
    simhash: Mapped[int | None] = mapped_column(BigInteger)
    # The current version's date, repeated here for the (column, year) index (revision 0004).
    published_on: Mapped[date | None] = mapped_column(Date)
    published_year: Mapped[int | None] = mapped_column(Integer)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    current: Mapped[ArticleVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )

    __table_args__ = (
        Index("ix_article_column_id_published_year", "column_id", "published_year", "published_on"),
        Index("ix_article_published_on", "published_on"),
    )


class ArticleVersion(Base):
    """One version of an article's content, and the span of time it was seen."""

    __tablename__ = "article_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"))
    version_no: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    published_on: Mapped[date | None] = mapped_column(Date)
    page_column_name: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    captions: Mapped[list[str]] = mapped_column(JSON, default=list)
    images: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(16))
    template: Mapped[str] = mapped_column(String(64))
    extraction_path: Mapped[str] = mapped_column(String(16))
    content_digest: Mapped[str] = mapped_column(String(64))
    capture_id: Mapped[int | None] = mapped_column(ForeignKey("capture.id"))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # crawl (the site showed it) or reextract (an archived capture read again by a newer
    # extraction), and which extraction made it (null: before revision 0012, unknown).
    origin: Mapped[str] = mapped_column(String(16), default="crawl", server_default="crawl")
    extractor_revision: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("article_id", "version_no"),)


class Capture(Base):
    """One fetched response of an article, document or list URL, raw, for provenance and WARC
    export.

    `body` is the zlib-compressed raw bytes; a capture whose bytes equal those of the previous
    capture of the same request (URL, method, request body) stores no body and points at it
    (`revisit_of`), as web archives record revisits.
    """

    __tablename__ = "capture"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(Text, index=True)
    final_url: Mapped[str] = mapped_column(Text)
    status: Mapped[int] = mapped_column(Integer)
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    body_sha256: Mapped[str] = mapped_column(String(64))
    body_length: Mapped[int] = mapped_column(Integer)
    revisit_of: Mapped[int | None] = mapped_column(ForeignKey("capture.id"))
    article_id: Mapped[int | None] = mapped_column(
        ForeignKey("article.id", ondelete="SET NULL"), index=True
    )
    # "page" (an article's or a document's URL), "list" (a home, channel or list page),
    # "attachment" or "image" (a file: its bytes are in file_blob, body is NULL).
    kind: Mapped[str] = mapped_column(String(16), default="page")
    # Why a response kept no body: "too_large" (over the limit, not read) or "cut" (data loss).
    omitted: Mapped[str | None] = mapped_column(String(16))
    # How it was asked for: the list API answers a POST whose JSON body is the query, so two
    # captures of one URL may be answers to different requests (revision 0011).
    method: Mapped[str] = mapped_column(String(8), default="GET")
    request_body: Mapped[bytes | None] = mapped_column(LargeBinary)  # None for a GET


class NearDuplicate(Base):
    """An article that is a lightly edited copy of another (SimHash within the threshold)."""

    __tablename__ = "near_duplicate"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("article.id", ondelete="CASCADE"), primary_key=True
    )
    original_id: Mapped[int] = mapped_column(
        ForeignKey("article.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    distance: Mapped[int] = mapped_column(Integer)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NearDuplicateBand(Base):
    """The MinHash-LSH band keys of each article's current body: near-duplicate candidates
    found by an indexed lookup (storage/neardup.py)."""

    __tablename__ = "near_duplicate_band"

    band_key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("article.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ArticleAlias(Base):
    """Another URL under which an article was published (a republication or a moved page)."""

    __tablename__ = "article_alias"

    url: Mapped[str] = mapped_column(Text, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"))
    canonical_id: Mapped[str] = mapped_column(String(64), index=True)
    published_on: Mapped[date | None] = mapped_column(Date)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index(None, "article_id"),)


class SiteColumn(Base):
    """A column of the site and the name its navigation gives it."""

    __tablename__ = "site_column"

    column_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    list_url: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CrawlRun(Base):
    """One run of one spider: when, how it ended, what it did, what was wrong."""

    __tablename__ = "crawl_run"
    # Recovery and the health baselines read the latest runs of one spider.
    __table_args__ = (Index("ix_crawl_run_spider_started_at", "spider", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    spider: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str] = mapped_column(String(32))
    exit_status: Mapped[int | None] = mapped_column(Integer)
    pid: Mapped[int] = mapped_column(Integer)
    host: Mapped[str] = mapped_column(Text)
    full: Mapped[bool] = mapped_column(Boolean, default=False)
    recovery: Mapped[bool] = mapped_column(Boolean, default=False)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    responses_by_status: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    new_articles: Mapped[int] = mapped_column(Integer, default=0)
    new_versions: Mapped[int] = mapped_column(Integer, default=0)
    withdrawn: Mapped[int] = mapped_column(Integer, default=0)
    dropped: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    extraction_fallbacks: Mapped[int] = mapped_column(Integer, default=0)
    blocked: Mapped[int] = mapped_column(Integer, default=0)
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    problems: Mapped[list[str]] = mapped_column(JSON, default=list)


def _article_id() -> Mapped[int]:
    """The article a row belongs to (and goes with), indexed."""
    return mapped_column(ForeignKey("article.id", ondelete="CASCADE"), index=True)


class DocumentVersion(Base):
    """A document's metadata in one version of its article (`storage.DocumentRecord`)."""

    __tablename__ = "document_version"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("article_version.id", ondelete="CASCADE"), primary_key=True
    )
    article_id: Mapped[int] = _article_id()
    doc_number_raw: Mapped[str | None] = mapped_column(Text)
    doc_number: Mapped[str | None] = mapped_column(Text, index=True)
    doc_series: Mapped[str | None] = mapped_column(Text)
    doc_year: Mapped[int | None] = mapped_column(Integer)
    doc_seq: Mapped[int | None] = mapped_column(Integer)
    doc_number_guessed: Mapped[bool] = mapped_column(Boolean, default=False)
    index_number: Mapped[str | None] = mapped_column(Text)
    doc_type: Mapped[str | None] = mapped_column(Text)
    issuer: Mapped[str | None] = mapped_column(Text)
    written_on: Mapped[date | None] = mapped_column(Date)
    published_on: Mapped[date | None] = mapped_column(Date)
    validity: Mapped[str | None] = mapped_column(Text)
    validity_raw: Mapped[str | None] = mapped_column(Text)
    validity_source: Mapped[str | None] = mapped_column(String(16))
    abolished_on: Mapped[date | None] = mapped_column(Date)
    subject: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    layout: Mapped[str] = mapped_column(String(16))
    column_path: Mapped[list[str]] = mapped_column(JSON, default=list)
    interpretations: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    related: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    meta: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    raw_fields: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    is_interpretation: Mapped[bool] = mapped_column(Boolean, default=False)


class DocumentReference(Base):
    """What a document version refers to: a 文号 or a 《title》 in its body, or a link."""

    __tablename__ = "document_reference"
    # Resolving a reference is a lookup by what it names.
    __table_args__ = (Index("ix_document_reference_kind_value", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("document_version.version_id", ondelete="CASCADE"), index=True
    )
    article_id: Mapped[int] = _article_id()
    kind: Mapped[str] = mapped_column(String(16))  # number, title, link
    role: Mapped[str] = mapped_column(String(16))  # body, interpretation, related
    value: Mapped[str] = mapped_column(Text)  # normalised 文号, title, canonical URL
    raw: Mapped[str | None] = mapped_column(Text)  # as published (a link: its text)


class ArticleChange(Base):
    """A change the archive saw: a new article, a changed field, a withdrawal, a return."""

    __tablename__ = "article_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = _article_id()
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("article_version.id", ondelete="CASCADE")
    )
    change: Mapped[str] = mapped_column(String(16))  # new, changed, withdrawn, returned
    field: Mapped[str | None] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_run.id", ondelete="SET NULL"))
    origin: Mapped[str] = mapped_column(  # crawl | reextract
        String(16), default="crawl", server_default="crawl"
    )


class FileBlob(Base):
    """A file's bytes, once per sha256 however many URLs serve them, and the text read from
    them. The bytes are in `file_chunk` (zlib, ≤ 1 MiB raw per chunk): a 100 MiB PDF is never
    one value in memory, written or read."""

    __tablename__ = "file_blob"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    length: Mapped[int] = mapped_column(BigInteger)  # raw bytes
    stored_length: Mapped[int] = mapped_column(BigInteger)  # compressed, the chunks' sum
    kind: Mapped[str | None] = mapped_column(String(16))  # from the bytes: pdf, docx, png …
    media_type: Mapped[str | None] = mapped_column(Text)  # MIME type from the bytes
    first_stored_at: Mapped[datetime] = mapped_column(UTCDateTime)
    text: Mapped[str | None] = mapped_column(Text)
    # ok, no_text_layer, encrypted, corrupt, unsupported, not_read
    text_status: Mapped[str | None] = mapped_column(String(16))
    text_pages: Mapped[int | None] = mapped_column(Integer)
    text_library: Mapped[str | None] = mapped_column(Text)
    text_reason: Mapped[str | None] = mapped_column(Text)


class FileChunk(Base):
    """One piece of a blob: zlib (level 6) of at most 1 MiB of its raw bytes, in order."""

    __tablename__ = "file_chunk"

    blob_id: Mapped[int] = mapped_column(
        ForeignKey("file_blob.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class SiteFile(Base):
    """A file URL (an attachment or an image) pages link: its state and its current bytes.

    state: pending (linked, not fetched), stored, gone (404/410: the last blob is kept),
    too_large, cut, failed, offsite (another host: never fetched)."""

    __tablename__ = "site_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # attachment | image
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)  # linked or fetched
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[int | None] = mapped_column(Integer)  # the last HTTP status
    state: Mapped[str] = mapped_column(String(16))
    gone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # indexed: the search follows a matching blob to its files (storage.search.file_hits)
    current_blob_id: Mapped[int | None] = mapped_column(ForeignKey("file_blob.id"), index=True)
    last_capture_id: Mapped[int | None] = mapped_column(ForeignKey("capture.id"))
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    declared_type: Mapped[str | None] = mapped_column(Text)
    declared_length: Mapped[int | None] = mapped_column(BigInteger)


class ArticleFile(Base):
    """A page links a file: as an image (name: its caption) or an attachment (its link text)."""

    __tablename__ = "file_link"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("article.id", ondelete="CASCADE"), primary_key=True
    )
    file_id: Mapped[int] = mapped_column(
        ForeignKey("site_file.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16))  # image | attachment
    name: Mapped[str | None] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


def table_of(model: type[Base]) -> Table:
    """The Core `Table` of a model, for the write path's Core statements."""
    table = model.__table__
    assert isinstance(table, Table)
    return table
