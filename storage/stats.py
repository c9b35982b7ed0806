"""What the archive holds, in counts and bytes (`govcrawler stats`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import case, func, select, text
from sqlalchemy.orm import Session

from storage.models import (
    Article,
    ArticleAlias,
    ArticleVersion,
    Capture,
    FileBlob,
    NearDuplicate,
    SiteFile,
)
from storage.urls import sqlite_file


@dataclass(frozen=True)
class ArchiveStats:
    """What the archive holds, in counts and bytes."""

    articles: int
    versions: int
    articles_with_versions: int  # articles with more than one version
    aliases: int
    near_duplicates: int
    withdrawn: int
    captures: int
    stored_bodies: int
    revisits: int
    raw_bytes: int  # the bytes of every page and list capture as fetched
    stored_bytes: int  # the compressed bodies actually stored
    file_captures: int  # of `captures`, those of files (their bodies: `stored_files`)
    per_column: list[tuple[str | None, str | None, int]]
    per_year: list[tuple[int | None, int]]
    files: int  # file URLs linked by archived pages (images, attachments)
    stored_files: int  # distinct file bodies stored (each once, however many URLs serve it)
    file_raw_bytes: int  # those bodies' bytes as fetched
    file_stored_bytes: int  # the same, compressed, as stored
    file_bytes: int | None  # the SQLite file (None for other databases)
    schema_revision: str | None
    first_fetch: datetime | None
    last_fetch: datetime | None

    @property
    def stored_ratio(self) -> float | None:
        """Stored bytes over raw bytes (revisits and compression together)."""
        return self.stored_bytes / self.raw_bytes if self.raw_bytes else None


# A page's or list's capture holds its body; a file's is in `file_blob`, and one too large to
# keep stands for its declared size, which would swamp the pages' bytes.
_PAGES = Capture.kind.in_(("page", "list"))


def archive_stats(session: Session) -> ArchiveStats:
    """Counts of articles, versions, links, captures and files; where and since when."""
    captures = session.execute(
        select(
            func.count(Capture.id),
            func.count(Capture.revisit_of),
            func.count(Capture.body),
            func.coalesce(func.sum(case((_PAGES, Capture.body_length))), 0),
            func.coalesce(func.sum(func.length(Capture.body)), 0),
            func.count(case((~_PAGES, Capture.id))),
        )
    ).one()
    blobs = session.execute(
        select(
            func.count(FileBlob.id),
            func.coalesce(func.sum(FileBlob.length), 0),
            func.coalesce(func.sum(FileBlob.stored_length), 0),
        )
    ).one()
    return ArchiveStats(
        articles=_count(session, Article),
        versions=_count(session, ArticleVersion),
        articles_with_versions=session.scalar(
            select(func.count(ArticleVersion.article_id.distinct())).where(
                ArticleVersion.version_no > 1
            )
        )
        or 0,
        aliases=_count(session, ArticleAlias),
        near_duplicates=_count(session, NearDuplicate),
        withdrawn=_count(session, Article, Article.withdrawn_at.is_not(None)),
        captures=captures[0],
        stored_bodies=captures[2],  # a file capture's body is in `file_blob`, counted apart
        revisits=captures[1],
        raw_bytes=captures[3],
        stored_bytes=captures[4],
        file_captures=captures[5],
        per_column=[
            (column_id, name, n)
            for column_id, name, n in session.execute(
                text(
                    "SELECT column_id, column_name, COUNT(*) FROM articles "
                    "GROUP BY column_id, column_name ORDER BY COUNT(*) DESC, column_id"
                )
            )
        ],
        per_year=[
            (year, n)
            for year, n in session.execute(
                text("SELECT year, COUNT(*) FROM articles GROUP BY year ORDER BY year")
            )
        ],
        files=_count(session, SiteFile),
        stored_files=blobs[0],
        file_raw_bytes=blobs[1],
        file_stored_bytes=blobs[2],
        file_bytes=_file_bytes(session),
        schema_revision=MigrationContext.configure(session.connection()).get_current_revision(),
        first_fetch=_extreme(session, True, Capture.fetched_at, Article.first_seen_at),
        last_fetch=_extreme(session, False, Capture.fetched_at, Article.last_seen_at),
    )


def _count(session: Session, source: Any, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(source).where(*where)) or 0


def _extreme(session: Session, earliest: bool, *columns: Any) -> datetime | None:
    """The earliest (or latest) time in several columns of different tables, None if empty."""
    pick = func.min if earliest else func.max
    found = [value for c in columns if (value := session.scalar(select(pick(c)))) is not None]
    if not found:
        return None
    return min(found) if earliest else max(found)


def _file_bytes(session: Session) -> int | None:
    """The size of the SQLite file with its write-ahead log (None for other databases)."""
    path = sqlite_file(session.connection().engine.url)
    if path is None:
        return None
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.is_file())
