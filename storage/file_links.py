"""Which page links which file: `file_link` rows and the `site_file` each names, kept as pages
are archived (`storage.record_article` calls `record_file_links` with the page's images and
attachments). A link seen again moves its `last_seen_at`; a link gone from the page stays, with
the last time it was seen: the archive keeps history, it does not mirror the page."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.orm import Session

from storage.models import ArticleFile, SiteFile, table_of
from storage.writing import writer

# Files are fetched from the archived site only; a link elsewhere is remembered, never fetched.
SITE_HOSTS = frozenset({"www.sc.gov.cn"})
ROLES = ("image", "attachment")

_file = table_of(SiteFile)
_link = table_of(ArticleFile)

_FILES_AT = select(_file.c.id, _file.c.url, _file.c.last_seen_at).where(
    _file.c.url.in_(bindparam("urls", expanding=True))
)
_INSERT_FILE = insert(_file).returning(_file.c.id)
_FILE_SEEN = (
    update(_file).where(_file.c.id == bindparam("row_id")).values(last_seen_at=bindparam("seen"))
)
_LINKS_OF = select(_link.c.file_id).where(_link.c.article_id == bindparam("article"))
_INSERT_LINK = insert(_link)
_LINK_SEEN = (
    update(_link)
    .where(_link.c.article_id == bindparam("article"), _link.c.file_id == bindparam("file"))
    .values(name=bindparam("new_name"), last_seen_at=bindparam("seen"))
)


@dataclass(frozen=True)
class FileLink:
    """A file a page links: its URL, as what (image|attachment), and its link text or caption."""

    url: str
    role: str
    name: str | None = None


def links_of(
    images: Iterable[dict[str, Any]], attachments: Iterable[dict[str, Any]]
) -> list[FileLink]:
    """The file links of an `ArticleRecord`'s images ({url, caption}) and attachments ({url,
    text} from pages, {url, name} from extraction), each URL once (its first link wins)."""
    found = [FileLink(i["url"], "image", i.get("caption") or None) for i in images]
    found += [
        FileLink(a["url"], "attachment", a.get("text") or a.get("name") or None)
        for a in attachments
    ]
    return _first_per_url(found)


def _first_per_url(links: Iterable[FileLink]) -> list[FileLink]:
    unique: dict[str, FileLink] = {}
    for link in links:
        if link.url:
            unique.setdefault(link.url, link)
    return list(unique.values())


def on_site(url: str) -> bool:
    """Whether the crawler may fetch `url`: http(s) on the archived site."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and (parts.hostname or "") in SITE_HOSTS


def record_file_links(
    session: Session, article_id: int, links: Sequence[FileLink], seen_at: datetime
) -> None:
    """The page `article_id` links these files now: each file URL gets its `site_file` (state
    pending when on the site, offsite when not) and the page its `file_link`."""
    unique = _first_per_url(links)
    if not unique:
        return
    db = writer(session)
    file_ids = _upsert_files(db, unique, seen_at)
    _upsert_links(db, article_id, [(file_ids[link.url], link) for link in unique], seen_at)


def _upsert_files(db: Connection, links: list[FileLink], seen_at: datetime) -> dict[str, int]:
    """The id of each link's `site_file`, created when new, seen again when known."""
    rows = db.execute(_FILES_AT, {"urls": [link.url for link in links]}).all()
    known = {row.url: row.id for row in rows}
    seen = [{"row_id": row.id, "seen": seen_at} for row in rows if row.last_seen_at < seen_at]
    if seen:
        db.execute(_FILE_SEEN, seen)
    for link in links:
        if link.url not in known:
            known[link.url] = db.execute(_INSERT_FILE, _new_file(link, seen_at)).scalar_one()
    return known


def _new_file(link: FileLink, seen_at: datetime) -> dict[str, Any]:
    return {
        "url": link.url,
        "kind": link.role if link.role in ROLES else "attachment",
        "first_seen_at": seen_at,
        "last_seen_at": seen_at,
        "state": "pending" if on_site(link.url) else "offsite",
    }


def _upsert_links(
    db: Connection, article_id: int, links: list[tuple[int, FileLink]], seen_at: datetime
) -> None:
    existing = set(db.execute(_LINKS_OF, {"article": article_id}).scalars())
    again = [
        {"article": article_id, "file": file_id, "new_name": link.name, "seen": seen_at}
        for file_id, link in links
        if file_id in existing
    ]
    new = [
        {
            "article_id": article_id,
            "file_id": file_id,
            "role": link.role,
            "name": link.name,
            "first_seen_at": seen_at,
            "last_seen_at": seen_at,
        }
        for file_id, link in links
        if file_id not in existing
    ]
    if again:
        db.execute(_LINK_SEEN, again)
    if new:
        db.execute(_INSERT_LINK, new)
