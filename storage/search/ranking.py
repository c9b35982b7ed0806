"""Searching the archive: ranked hits with snippets.

The user's query is parsed in `storage.search.syntax` (words, phrases, prefixes, OR/NOT, Chinese of
any length) and written out as FTS5 for SQLite or as a tsquery for PostgreSQL. `search_articles`
checks its arguments, resolves the filters and runs the query on the archive's backend
(`storage.search.sqlite`, `storage.search.postgresql`). Neither index keeps the text, so
snippets are cut in Python from the hits' bodies only, the same way on both
(`storage.search.snippets`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from storage.exceptions import SearchQueryError
from storage.search import documents
from storage.search.documents import DocumentFilter
from storage.search.file_hits import FileRow, MatchedFile, file_hits, file_texts, with_files
from storage.search.postgresql import _filters_postgresql, _search_postgresql
from storage.search.snippets import _Marks, _snippet
from storage.search.sqlite import RANK_WINDOW as RANK_WINDOW  # named here in README.md
from storage.search.sqlite import TITLE_MATCH as TITLE_MATCH
from storage.search.sqlite import (
    _excludes,
    _search_sqlite,
    _sqlite_dates,
    _words_for_prefixes,
)
from storage.search.syntax import fts5, fts_query, parse, parse_query

__all__ = [
    "DocumentFilter",
    "MatchedFile",
    "SearchHit",
    "SearchQueryError",
    "fts_query",
    "parse_query",
    "search_articles",
]

MAX_LIMIT = 1000


@dataclass(frozen=True)
class SearchHit:
    """One article found, best first; `score` is -bm25 in SQLite, ts_rank in PostgreSQL
    (higher is better). A document has its `doc_number`; `number_match` marks the documents
    found by the 文号 asked for (listed first; score 0.0 unless the text matched too).
    `matched_file`: the file (attachment or image) whose text matched, for a page found by
    one of its files and not by its own text; the snippet is then the file's."""

    article_id: int
    url: str
    title: str
    published_on: date | None
    column_name: str | None
    snippet: str
    score: float
    doc_number: str | None = None
    number_match: bool = False
    matched_file: MatchedFile | None = None


def search_articles(
    session: Session,
    query: str,
    *,
    since: date | None = None,
    until: date | None = None,
    column: str | int | None = None,
    limit: int = 20,
    mark: tuple[str, str] = ("[", "]"),
    documents_filter: DocumentFilter | None = None,
) -> list[SearchHit]:
    """The current articles matching `query`, best first: by BM25 (title above body), or, in
    SQLite for a query matching more than RANK_WINDOW articles, by title and age. A page also
    matches when the text of one of its current files does (`storage.search.file_hits`): one
    hit per page, its own text first.

    `since`/`until` bound `published_on` (inclusive); `column` is a column id (10765) or
    name (any case); each hit's snippet marks the query's terms with `mark`.
    `documents_filter`: the documents with its 文号 first, then the text's hits; its issuer,
    series or validity keep only documents that have them.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise SearchQueryError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if since is not None and until is not None and since > until:
        raise SearchQueryError(f"since ({since:%Y-%m-%d}) is after until ({until:%Y-%m-%d})")
    parsed = parse(query)
    wanted = documents_filter or DocumentFilter()
    if (wanted.doc_number or wanted.given()) and not documents.available(session):
        raise SearchQueryError(
            "this archive has no documents yet (revision 0008 adds them): govcrawler db upgrade"
        )
    column_id, column_name = _column(session, column) if column is not None else (None, None)
    filters = {"since": since, "until": until, "column_id": column_id, "column_name": column_name}
    typed = filters if _postgresql(session) else _sqlite_dates(filters)
    numbered = documents.numbered(session, wanted, limit, _filters_postgresql(filters), typed)
    extra = (documents.condition("f.id", wanted), documents.parameters(wanted))
    if _postgresql(session):
        rows = _search_postgresql(session, parsed, filters, limit + len(numbered), extra)
    else:
        params = {
            "match": fts5(_words_for_prefixes(session, parsed.node)),
            "limit": limit + len(numbered),
            **filters,
            **extra[1],
            **_sqlite_dates(filters),
        }
        filtered = any(v is not None for v in filters.values())
        rows = _search_sqlite(session, params, filtered, _excludes(parsed.node), extra[0])
    page_filters = (_filters_postgresql(filters) + extra[0], {**typed, **extra[1]})
    files = file_hits(session, parsed, *page_filters, limit + len(numbered))
    rows = with_files(rows, files)
    if not rows and column_name is not None:
        _check_column_name(session, column_name)
    if not rows and not numbered:
        documents.check_filters(session, wanted)
    return _hits(session, numbered, rows, limit, _Marks(parsed.marks), mark)


def _hits(
    session: Session,
    numbered: list[Any],
    rows: list[Any],
    limit: int,
    pattern: _Marks,
    mark: tuple[str, str],
) -> list[SearchHit]:
    """The documents found by number, then the text's other hits, `limit` in all."""
    scores = {row.id: row.score for row in rows}
    first = {row.id for row in numbered}
    shown = [*numbered, *(row for row in rows if row.id not in first)][:limit]
    numbers = documents.doc_numbers(session, [row.id for row in shown])
    texts = file_texts(session, [row.blob_id for row in shown if isinstance(row, FileRow)])
    return [
        SearchHit(
            article_id=row.id,
            url=row.url,
            title=row.title,
            published_on=_day(row.published_on),
            column_name=row.column_name,
            snippet=_snippet(
                texts.get(row.blob_id, "") if isinstance(row, FileRow) else row.body or "",
                pattern,
                mark,
            ),
            score=scores.get(row.id, 0.0),
            doc_number=numbers.get(row.id),
            number_match=row.id in first,
            matched_file=MatchedFile(row.file_url, row.file_name)
            if isinstance(row, FileRow)
            else None,
        )
        for row in shown
    ]


def _day(value: date | str | None) -> date | None:
    """A `published_on` as read: text in SQLite, a date in PostgreSQL."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _nocase(column: str, param: str, session: Session) -> str:
    """`column` equal to `:param` in any case (ASCII case in SQLite, as NOCASE folds)."""
    if _postgresql(session):
        return f"lower({column}) = lower(:{param})"
    return f"{column} = :{param} COLLATE NOCASE"


def _column(session: Session, column: str | int) -> tuple[str | None, str | None]:
    """(column_id, None) for a known column id, (None, name) for a column name."""
    wanted = str(column).strip()
    if not wanted:
        raise SearchQueryError("empty column: give a column id (10765) or a column name")
    named = session.execute(text("SELECT column_id, name FROM site_column")).all()
    if (
        wanted in {column_id for column_id, _ in named}
        or session.execute(
            text("SELECT 1 FROM article WHERE column_id = :c LIMIT 1"), {"c": wanted}
        ).first()
    ):
        return wanted, None
    folded = wanted.casefold()
    return None, next((name for _, name in named if name.casefold() == folded), wanted)


def _check_column_name(session: Session, name: str) -> None:
    """A `SearchQueryError` naming the known columns if no article is in column `name`
    (a scan, made only when a search by a column name found nothing)."""
    sql = f"SELECT 1 FROM articles WHERE {_nocase('column_name', 'name', session)} LIMIT 1"
    if session.execute(text(sql), {"name": name}).first():
        return
    known = session.execute(
        text(
            "SELECT column_id, name FROM site_column UNION "
            "SELECT DISTINCT column_id, column_name FROM articles WHERE column_id IS NOT NULL "
            "AND column_id NOT IN (SELECT column_id FROM site_column) ORDER BY 1"
        )
    )
    listing = ", ".join(f"{id_} ({label})" if label else id_ for id_, label in known)
    raise SearchQueryError(f"unknown column {name!r}: use one of {listing or 'none yet'}")
