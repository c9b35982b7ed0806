"""Datasette plugin for govcrawler archives (`datasette archive.sqlite3 --metadata
datasette/metadata.json --plugins-dir datasette/plugins`): what a researcher reads.

- The search box speaks `govcrawler search`'s language: Chinese words of any length (the index
  holds two-character terms), "phrases", OR, NOT, and a 文号 in any bracket form (searched as
  the phrase of its normalised form). Datasette's own quoting stays for what does not parse.
- Titles and ids in the lists link to the row's page (the canned queries `article` and
  `document`: the views have no row pages of their own).
- A body in a table page is cut to its start; the row's page has it whole. Cells get widths
  (css below) so that no column is squeezed to the right edge.

Without the plugin the archive still reads: the views, facets and canned queries are in the
metadata; two-character Chinese words search as typed.
"""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from pathlib import Path
from typing import Any

from datasette.utils import escape_fts
from datasette.utils.asgi import Response
from markupsafe import Markup, escape

from datasette import hookimpl

try:  # govcrawler's query language, where govcrawler is installed beside Datasette
    from govcrawler.extract.docnumber import doc_number_query
    from storage.exceptions import SearchQueryError
    from storage.search.syntax import fts5, parse

    LANGUAGE = True
except ImportError:  # Datasette's own search box then; links and widths all the same
    LANGUAGE = False

CSS = Path(__file__).with_name("govcrawler.css")
CSS_URL = "/-/govcrawler.css"
BODY_COLUMNS = 280  # a body's start in a table page, in columns of Latin letters
EXCERPT_COLUMNS = 200  # an excerpt's (160 characters of English, 100 of Chinese)
# Which canned query shows a row: by (table, column) of the id.
ARTICLE_TABLES = ("articles", "article_list")
DOCUMENT_TABLES = ("documents", "document_list")
LINKS = {
    **{(table, column): "article" for table in ARTICLE_TABLES for column in ("id", "title")},
    **{(table, column): "document" for table in DOCUMENT_TABLES for column in ("id", "title")},
    ("document_citations", "citing_id"): "document",
    ("document_citations", "cited_id"): "document",
    ("document_interpretations", "interpretation_id"): "document",
    ("document_interpretations", "document_id"): "document",
    ("field_changes", "article_id"): "article",
    ("article_versions", "article_id"): "article",
}
ROW_ID = {"id": "id", "title": "id"}  # the column holding the id when the cell is another one


def archive_match(query: str) -> str:
    """The FTS5 expression of what a researcher typed, as `govcrawler search` reads it."""
    number = doc_number_query(query)
    try:
        return fts5(parse(f'"{number}"' if number else query).node)
    except SearchQueryError:
        return str(escape_fts(query))


@hookimpl(trylast=True)  # after Datasette's own escape_fts, which this one replaces
def prepare_connection(conn: sqlite3.Connection, database: str) -> None:
    found = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'articles_fts_words'").fetchone()
    if found and LANGUAGE:
        conn.create_function("escape_fts", 1, archive_match, deterministic=True)


@hookimpl
def extra_css_urls(datasette: Any) -> list[str]:
    return [datasette.urls.path(CSS_URL)]


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    async def stylesheet() -> Response:
        return Response(CSS.read_text("utf-8"), content_type="text/css; charset=utf-8")

    return [(r"^/-/govcrawler\.css$", stylesheet)]


def _target(row: Any, column: str, table: str) -> tuple[str, Any] | None:
    """(canned query, id) a cell links to, or None."""
    query = LINKS.get((table, column))
    if query is None:
        return None
    key = ROW_ID.get(column, column)
    keys = row.keys()
    if key not in keys or row[key] is None:
        return None
    if table == "field_changes" and "kind" in keys and row["kind"] == "document":
        query = "document"
    return query, row[key]


def _sheet_list(value: str, base: str) -> Markup | None:
    """A JSON list on a row's page (canned query `article`/`document`: field, value) in
    words: a path joined by ›, links to archived documents' pages, attachments, pages."""
    try:
        items = json.loads(value)
    except ValueError:
        return None
    if isinstance(items, list) and all(isinstance(item, str) for item in items):
        return Markup(escape(" › ".join(items)))
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        return None
    links = []
    for item in items:
        label = item.get("title") or item.get("text") or item.get("number") or item.get("url")
        if item.get("id") is not None:
            href = f"{base}/document?id={int(item['id'])}"
        elif item.get("url"):
            href = str(item["url"])
        else:
            links.append(escape(label))
            continue
        note = f" ({escape(item['number'])})" if item.get("number") and item.get("title") else ""
        links.append(Markup(f'<a href="{escape(href)}">{escape(label)}</a>{note}'))
    return Markup("<br>").join(links)


@hookimpl
def render_cell(
    row: Any, value: Any, column: str, table: str | None, database: str, datasette: Any
) -> Markup | None:
    if value is None:
        return None
    if table is None:
        keys = row.keys()
        if column == "value" and "field" in keys and isinstance(value, str) and value[:1] == "[":
            return _sheet_list(value, datasette.urls.database(database))
        return None
    target = _target(row, column, table)
    if target is not None:
        href = f"{datasette.urls.database(database)}/{target[0]}?id={target[1]}"
        return Markup(f'<a href="{escape(href)}">{escape(value)}</a>')
    if column == "excerpt" and isinstance(value, str):  # Chinese takes twice the room
        start = _start(value, EXCERPT_COLUMNS)
        return None if start == value else Markup(f"{escape(start)}…")
    if column == "body" and isinstance(value, str):  # on one line, its start only
        start = _start(value, BODY_COLUMNS)
        if len(start) == len(value):
            return Markup(escape(" ".join(start.split())))
        more = f'… <span class="more">({len(value):,} characters)</span>'
        return Markup(f"{escape(' '.join(start.split()))}{more}")
    return None


def _start(text: str, columns: int) -> str:
    """The start of `text` that fills `columns` columns (a Chinese character takes two)."""
    used = 0
    for index, character in enumerate(text):
        used += 2 if unicodedata.east_asian_width(character) in "WF" else 1
        if used > columns:
            return text[:index]
    return text
