"""Pages found by their files: the query run on `files_fts`, each matching blob followed to
the pages linking a file whose current bytes it is (file_link → site_file.current_blob_id),
the page filters applied to those pages, one hit per page (its best file).

SQLite ranks by BM25 when the query matches at most RANK_WINDOW blobs, else walks the matches
newest first (by rowid, as for pages) and stops at `limit` pages: the rows stream, so a common
word never makes it read every match. PostgreSQL ranks by ts_rank; a file too long for its
tsvector's positions is checked on its text for a phrase (only the candidates holding every
term are read). The file texts of the hits shown are read last, for their snippets."""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from storage.search import sqlite
from storage.search.execute import _execute
from storage.search.index import index_text, terms
from storage.search.postgresql import RANK_POSTGRESQL
from storage.search.syntax import Query, fts5, matches, needs_positions, relaxed_tsquery, tsquery

_FLOOR = text(
    "SELECT rowid FROM files_fts WHERE files_fts MATCH :match "
    "ORDER BY rowid DESC LIMIT 1 OFFSET :window"
)
# SQLite: CROSS JOIN, so that the index drives and each blob is looked up in site_file, its
# links, its pages (PostgreSQL plans the joins itself and has no CROSS JOIN … ON).
_PAGES = """
SELECT f.id, f.url, f.title, f.published_on, f.column_name, hit.score,
       hit.blob_id, sf.url AS file_url, l.name AS file_name
FROM ({hits}) AS hit
{join} site_file AS sf ON sf.current_blob_id = hit.blob_id
{join} file_link AS l ON l.file_id = sf.id
{join} articles AS f ON f.id = l.article_id
WHERE 1 = 1 {where}
ORDER BY {order}
"""
_RANKED_SQLITE = (
    "SELECT files_fts.rowid AS blob_id, -bm25(files_fts, 5.0, 1.0) AS score "
    "FROM files_fts WHERE files_fts MATCH :match"
)
_NEWEST_SQLITE = (
    "SELECT files_fts.rowid AS blob_id, 0.0 AS score FROM files_fts "
    "WHERE files_fts MATCH :match ORDER BY files_fts.rowid DESC"
)
# (RANK_POSTGRESQL has braces of its own: the match is put in with `replace`.)
_RANKED_POSTGRESQL = f"SELECT s.blob_id, {RANK_POSTGRESQL} AS score FROM files_fts AS s WHERE "
_INCOMPLETE = (
    "SELECT s.blob_id, b.text FROM files_fts AS s JOIN file_blob AS b ON b.id = s.blob_id "
    "WHERE NOT s.complete AND s.document @@ CAST(:superset AS tsquery)"
)
_TEXTS = "SELECT id, text FROM file_blob WHERE id IN ({})"


@dataclass(frozen=True)
class MatchedFile:
    """The file through which a page was found: its URL, and its name as the page links it
    (the link text or caption; None when the link has none)."""

    url: str
    name: str | None


class FileRow(NamedTuple):
    """A page found by a file: the page as `articles` shows it, the file, its score."""

    id: int
    url: str
    title: str
    published_on: date | str | None
    column_name: str | None
    score: float
    blob_id: int
    file_url: str
    file_name: str | None


def available(session: Session) -> bool:
    """Whether the archive has file texts to search (revision 0011 or later)."""
    return inspect(session.connection()).has_table("files_fts")


def file_hits(
    session: Session,
    parsed: Query,
    where: str,
    params: dict[str, Any],
    limit: int,
) -> list[FileRow]:
    """The best `limit` pages found by their files' texts, best first, one per page; `where`:
    conditions on the page (`articles AS f`) with their `params`, as for the pages' search."""
    if not available(session):
        return []
    if session.get_bind().dialect.name == "postgresql":
        return _postgresql(session, parsed, where, params, limit)
    # A prefix is searched as such: the words of articles_fts_words are the pages' only.
    match = fts5(parsed.node)
    floor = _execute(session, _FLOOR, {"match": match, "window": sqlite.RANK_WINDOW})
    if floor:
        sql = _PAGES.format(
            hits=_NEWEST_SQLITE, join="CROSS JOIN", where=where, order="hit.blob_id DESC"
        )
    else:
        sql = _PAGES.format(
            hits=_RANKED_SQLITE, join="CROSS JOIN", where=where, order="hit.score DESC, f.id"
        )
    result = session.execute(text(sql), {**params, "match": match})
    try:
        return _first_per_page(result, limit)
    finally:
        result.close()  # the walk stopped early: the rest of the matches are never read


def _postgresql(
    session: Session, parsed: Query, where: str, params: dict[str, Any], limit: int
) -> list[FileRow]:
    superset = relaxed_tsquery(parsed.node)
    values = {**params, "match": tsquery(parsed.node), "ranked": superset}
    match = "s.document @@ CAST(:match AS tsquery)"
    if needs_positions(parsed.node):
        match = f"(s.complete AND {match})"
        checked = _checked(session, parsed, superset)
        if checked:
            match = f"({match} OR s.blob_id = ANY(:checked))"
            values["checked"] = checked
    hits = _RANKED_POSTGRESQL + match
    sql = _PAGES.format(
        hits=hits, join="JOIN", where=where, order="hit.score DESC, f.id, hit.blob_id"
    )
    return _first_per_page(_execute(session, text(sql), values), limit)


def _checked(session: Session, parsed: Query, superset: str | None) -> list[int]:
    """The blobs too long for their tsvector's positions whose text matches `parsed`."""
    rows = _execute(session, text(_INCOMPLETE), {"superset": superset})
    return [
        row.blob_id for row in rows if matches(parsed.node, [terms(index_text(row.text or ""))])
    ]


def _first_per_page(rows: Iterable[Any], limit: int) -> list[FileRow]:
    """The first row of each page until `limit` pages: the rows come best first, and SQLite's
    newest-first walk stops reading the index there."""
    found: dict[int, FileRow] = {}
    for row in rows:
        if row.id not in found:
            found[row.id] = FileRow(*row)
            if len(found) == limit:
                break
    return list(found.values())


def file_texts(session: Session, blob_ids: Iterable[int]) -> dict[int, str]:
    """The texts of these blobs (only the hits shown: a text may be megabytes)."""
    ids = ",".join(str(int(i)) for i in set(blob_ids))
    if not ids:
        return {}
    return {row.id: row.text or "" for row in session.execute(text(_TEXTS.format(ids)))}


def with_files(rows: list[Any], files: list[FileRow]) -> list[Any]:
    """The pages found by their text and those found only by a file, merged by score (both
    come best first; a page's own text wins a tie and dedupes its file hit)."""
    pages = {row.id for row in rows}
    found = [row for row in files if row.id not in pages]
    return list(heapq.merge(rows, found, key=lambda row: -row.score)) if found else rows
