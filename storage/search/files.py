"""The full-text index of file texts, `files_fts`: a file's name and the text read from its
bytes, one row per blob (the same bytes under many URLs are indexed once).

It is indexed exactly as `articles_fts` (`storage.search.index`): SQLite, a contentless FTS5
table over (name, text), rowid the `file_blob` id, Chinese as bigrams by `index_text`;
PostgreSQL, a table (blob_id, document, complete) of tsvectors built by the same `document`
(name weight A, text weight B). So one query, parsed once, runs on pages and on files alike,
and a contentless row is removed with the values it was indexed with (`unindex_file_text`):
`index_text` stays deterministic. (The tables: storage/migrations, revision 0011.)
"""

from __future__ import annotations

from sqlalchemy import text

from storage.search.index import Bind, _postgresql, document, index_text


def index_file_text(bind: Bind, blob_id: int, name: str | None, content: str | None) -> None:
    """Add a blob's name and text to the index. Called once per blob when its text is stored;
    a blob with neither (an image, an unreadable PDF) gets no row."""
    name, content = name or "", content or ""
    if not (name or content):
        return
    if _postgresql(bind):
        indexed = document(name, content)
        bind.execute(
            text(
                "INSERT INTO files_fts (blob_id, document, complete) "
                "VALUES (:id, CAST(:document AS tsvector), :complete)"
            ),
            {"id": blob_id, "document": indexed.vector, "complete": indexed.complete},
        )
        return
    bind.execute(
        text("INSERT INTO files_fts (rowid, name, text) VALUES (:id, :name, :text)"),
        {"id": blob_id, "name": index_text(name), "text": index_text(content)},
    )


def unindex_file_text(bind: Bind, blob_id: int, name: str | None, content: str | None) -> None:
    """Remove a blob from the index, given the name and text it was indexed with (SQLite's
    contentless table needs them; PostgreSQL drops the row by id)."""
    name, content = name or "", content or ""
    if _postgresql(bind):
        bind.execute(text("DELETE FROM files_fts WHERE blob_id = :id"), {"id": blob_id})
        return
    if not (name or content):
        return  # never indexed (see index_file_text)
    bind.execute(
        text(
            "INSERT INTO files_fts (files_fts, rowid, name, text) "
            "VALUES ('delete', :id, :name, :text)"
        ),
        {"id": blob_id, "name": index_text(name), "text": index_text(content)},
    )


def reindex_file_text(
    bind: Bind,
    blob_id: int,
    old: tuple[str | None, str | None],
    new: tuple[str | None, str | None],
) -> None:
    """A blob's text read again (a newer library, a fixed reader): its old (name, text) row
    out, the new one in."""
    unindex_file_text(bind, blob_id, *old)
    index_file_text(bind, blob_id, *new)
