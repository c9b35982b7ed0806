"""Running a query on PostgreSQL's tsvector index, ranked by ts_rank; an article too long for
its tsvector to hold every word position is matched by a phrase query after a check of its
text (`_checked`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.orm import Session

from storage.search.execute import _execute
from storage.search.index import index_text, terms
from storage.search.syntax import Query, matches, needs_positions, relaxed_tsquery, tsquery

# PostgreSQL: the same shape. An article too long for its tsvector to hold every word position
# (`complete` false) is matched by a query with phrases only after a check of its text
# (`_checked`): its ids come in as :checked.
RANK_POSTGRESQL = "ts_rank('{0.1, 0.1, 0.2, 1.0}', s.document, CAST(:ranked AS tsquery), 1)"
_SEARCH_POSTGRESQL = """
SELECT a.id, a.url, a.title, a.published_on, a.column_name, a.body, hit.score
FROM (SELECT s.article_id AS id, {rank} AS score FROM articles_fts AS s {join}
      WHERE {match} {where}
      ORDER BY score DESC, s.article_id LIMIT :limit) AS hit
JOIN articles AS a ON a.id = hit.id
ORDER BY hit.score DESC, hit.id
"""
_INCOMPLETE = """
SELECT f.id, f.title, f.body FROM articles_fts AS s JOIN articles AS f ON f.id = s.article_id
WHERE NOT s.complete AND s.document @@ CAST(:superset AS tsquery) {where}
"""


def _filters_postgresql(filters: dict[str, Any]) -> str:
    """The filters given, as conditions on `articles AS f` (PostgreSQL types: no NULL tests;
    SQLite takes them too, for the documents found by number)."""
    conditions = {
        "since": "f.published_on >= :since",
        "until": "f.published_on <= :until",
        "column_id": "f.column_id = :column_id",
        "column_name": "lower(f.column_name) = lower(:column_name)",
    }
    return "".join(f" AND {sql}" for name, sql in conditions.items() if filters[name] is not None)


def _search_postgresql(
    session: Session,
    parsed: Query,
    filters: dict[str, Any],
    limit: int,
    extra: tuple[str, dict[str, Any]] = ("", {}),
) -> list[Row[Any]]:
    """The best `limit` hits from the tsvector index (see `_SEARCH_POSTGRESQL`); `extra`:
    more conditions on `articles AS f` and their parameters (the document filters)."""
    where = _filters_postgresql(filters) + extra[0]
    superset = relaxed_tsquery(parsed.node)
    params = {**filters, **extra[1], "match": tsquery(parsed.node), "ranked": superset}
    params["limit"] = limit
    match = "s.document @@ CAST(:match AS tsquery)"
    if needs_positions(parsed.node):
        checked = _checked(session, parsed, where, {**params, "superset": superset})
        match = f"(s.complete AND {match})"
        if checked:
            match = f"({match} OR s.article_id = ANY(:checked))"
            params["checked"] = checked
    sql = _SEARCH_POSTGRESQL.format(
        rank=RANK_POSTGRESQL,
        join="JOIN articles AS f ON f.id = s.article_id" if where else "",
        match=match,
        where=where,
    )
    return _execute(session, text(sql), params)


def _checked(session: Session, parsed: Query, where: str, params: dict[str, Any]) -> list[int]:
    """The articles too long for their tsvector's positions that match `parsed`, checked on
    their text (candidates: those with the query's terms, phrases aside)."""
    rows = _execute(session, text(_INCOMPLETE.format(where=where)), params)
    return [
        row.id
        for row in rows
        if matches(parsed.node, [terms(index_text(row.title)), terms(index_text(row.body or ""))])
    ]
