"""The archive's tables, as typed SQLAlchemy 2.x models.

`article` holds one row per article (its primary URL and current content), `article_alias` the
other URLs the same article was published under, `site_column` the columns' names as the site's
navigation shows them. Researchers read the `articles` view (see docs/schema.md).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

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
    """An article: its primary URL and its content as last archived."""

    __tablename__ = "article"

    id: Mapped[int] = mapped_column(primary_key=True)
    canonical_id: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    title: Mapped[str] = mapped_column(Text)
    published_on: Mapped[date | None] = mapped_column(Date)
    column_id: Mapped[str | None] = mapped_column(String(64), index=True)
    page_column_name: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    captions: Mapped[list[str]] = mapped_column(JSON, default=list)
    images: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(16))
    template: Mapped[str] = mapped_column(String(64))
    extraction_path: Mapped[str] = mapped_column(String(16))
    body_digest: Mapped[str] = mapped_column(String(64), index=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


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
