"""Running a query on SQLite's FTS5 index: by BM25 when it matches at most `RANK_WINDOW`
articles, else by where its words are and by age, walking its matches newest first; a prefix
is read as the words it stands for (`_words_for_prefixes`)."""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

from storage.search.execute import _execute
from storage.search.index import CJK_RUN
from storage.search.syntax import All, AnyOf, Node, Phrase, Without

RANK = "bm25(articles_fts, 5.0, 1.0)"  # a title match weighs five body matches

#: SQLite ranks a query by BM25 when it matches at most this many articles. BM25 weighs each
#: term by how many articles hold it, which FTS5 counts by reading the term's whole list of
#: articles at every query, and it scores each match: a word in most of a million articles
#: would cost a second. A commoner query is ordered by where its words are, then by age: its
#: matches with them in the title among its RANK_WINDOW newest matches, newest first, then
#: the other matches, newest first (benchmarks/RESULTS.md, B3).
RANK_WINDOW = 4000

# The (RANK_WINDOW + 1)-th newest match of a query, if it has that many: FTS5 walks the
# matches newest first and stops there, never reading further.
_WINDOW_FLOOR = text(
    "SELECT rowid FROM articles_fts WHERE articles_fts MATCH :match "
    "ORDER BY rowid DESC LIMIT 1 OFFSET :window"
)
_FILTERS = (
    "AND (:since IS NULL OR f.published_on >= :since) "
    "AND (:until IS NULL OR f.published_on <= :until) "
    "AND (:column_id IS NULL OR f.column_id = :column_id) "
    "AND (:column_name IS NULL OR f.column_name = :column_name COLLATE NOCASE)"
)
# CROSS JOIN: the index drives and each match is looked up in `articles`. SQLite would
# otherwise walk a column's articles and ask FTS5 about each one, a search per article (Sichuan
# in one column took 5 s at 140,000 articles; 0.4 ms this way).
_FILTER_JOIN = "CROSS JOIN articles AS f ON f.id = articles_fts.rowid"

# A rare query: its best `limit` hits by BM25 are chosen from the index (joined to `articles`
# only when a filter needs it), and only they are joined for display.
_RANKED = """
SELECT a.id, a.url, a.title, a.published_on, a.column_name, a.body, -hit.score AS score
FROM (SELECT articles_fts.rowid AS id, {rank} AS score FROM articles_fts {join}
      WHERE articles_fts MATCH :match {where}
      ORDER BY score, id LIMIT :limit) AS hit
JOIN articles AS a ON a.id = hit.id
ORDER BY hit.score, hit.id
"""
_UNFILTERED = text(_RANKED.format(rank=RANK, join="", where=""))
_FILTERED = text(_RANKED.format(rank=RANK, join=_FILTER_JOIN, where=_FILTERS))

# A common query: its matches with ids in (:floor, :ceiling], walked newest first.
_NEWEST = """
SELECT articles_fts.rowid AS id FROM articles_fts {join}
WHERE articles_fts MATCH :match AND articles_fts.rowid > :floor
AND articles_fts.rowid <= :ceiling {where}
ORDER BY articles_fts.rowid DESC LIMIT :limit
"""
_NO_CEILING = 2**63 - 1
# The ids of the articles published within dates (and in a column): a walk of a common query's
# matches filtered by date starts and ends there, instead of walking every newer match first.
# Read from ix_article_published_on, or with a column from its (column, year, date) index.
_DATED_IDS = "SELECT min(id) AS low, max(id) AS high FROM article WHERE {}"
_NEWEST_UNFILTERED = text(_NEWEST.format(join="", where=""))
_NEWEST_FILTERED = text(_NEWEST.format(join=_FILTER_JOIN, where=_FILTERS))
_SHOWN = "SELECT id, url, title, published_on, column_name, body FROM articles WHERE id IN ({})"
TITLE_MATCH = 1.0  # the score of a common query's hit with its words in the title; 0.0 if not


#: A prefix standing for at most this many words is searched as those words.
MAX_PREFIX_WORDS = 64
_PREFIX_WORDS = text(
    "SELECT term FROM articles_fts_words WHERE term >= :prefix AND term < :beyond "
    "ORDER BY term LIMIT :most"
)


def _words_for_prefixes(session: Session, node: Node) -> Node:
    """The query with each prefix (`invest*`, `"giant pan"*`) replaced by the words it stands
    for (`investing OR investment …`): FTS5 then walks the hits newest first and stops, where
    it reads a prefix by merging the whole lists of every word in its range first. A prefix of
    more than MAX_PREFIX_WORDS words (`in*`), or of Chinese, stays a prefix."""
    if isinstance(node, Without):
        return Without(
            _words_for_prefixes(session, node.include), _words_for_prefixes(session, node.exclude)
        )
    if isinstance(node, All | AnyOf):
        return type(node)(tuple(_words_for_prefixes(session, part) for part in node.parts))
    if not node.prefix or CJK_RUN.search(node.text):
        return node
    *before, prefix = node.words
    found = (
        session.execute(
            _PREFIX_WORDS,
            {"prefix": prefix, "beyond": prefix + "\U0010ffff", "most": MAX_PREFIX_WORDS + 1},
        )
        .scalars()
        .all()
    )
    if not found or len(found) > MAX_PREFIX_WORDS:
        return node
    phrases = tuple(Phrase(" ".join([*before, word]), prefix=False) for word in found)
    return phrases[0] if len(phrases) == 1 else AnyOf(phrases)


def _sqlite_dates(filters: dict[str, Any]) -> dict[str, Any]:
    """The filters with their dates as SQLite stores them (text)."""
    return {
        **filters,
        **{name: filters[name].isoformat() for name in ("since", "until") if filters[name]},
    }


def _excludes(node: Node) -> bool:
    """Whether the query has a NOT."""
    if isinstance(node, Without):
        return True
    return isinstance(node, All | AnyOf) and any(_excludes(part) for part in node.parts)


def _search_sqlite(
    session: Session, params: dict[str, Any], filtered: bool, excludes: bool, extra: str = ""
) -> list[Any]:
    """The best `limit` hits from FTS5: by BM25 for a query with at most RANK_WINDOW matches
    (counted before any filter: BM25 counts them all), else by title and age. `extra`: more
    conditions on `articles AS f` (the document filters)."""
    floor = _execute(session, _WINDOW_FLOOR, {"match": params["match"], "window": RANK_WINDOW})
    ranked, newest = (
        (_FILTERED, _NEWEST_FILTERED) if filtered else (_UNFILTERED, _NEWEST_UNFILTERED)
    )
    if extra:
        where = _FILTERS + extra
        ranked = text(_RANKED.format(rank=RANK, join=_FILTER_JOIN, where=where))
        newest = text(_NEWEST.format(join=_FILTER_JOIN, where=where))
    if not floor:
        return _execute(session, ranked, params)
    low, high = 0, _NO_CEILING
    if params["since"] is not None or params["until"] is not None:
        dated = _dated_ids(session, params)
        if dated is None:
            return []
        low, high = dated[0] - 1, dated[1]
    # In the title, and a match: the first implies the second unless a NOT is in the query
    # (its excluded words may be in the body), and walking it alone costs half as much.
    in_title = f"{{title}} : {params['match']}"
    if excludes:
        in_title += f" AND {params['match']}"
    window = {"floor": max(floor[0].rowid, low), "ceiling": high}
    titled = _ids(session, newest, {**params, "match": in_title, **window})
    wanted = params["limit"] - len(titled)
    others: list[int] = []
    if wanted:
        newest_first = _ids(session, newest, {**params, "floor": low, "ceiling": high})
        others = [id_ for id_ in newest_first if id_ not in titled][:wanted]
    ids = titled + others
    if not ids:
        return []
    shown = {
        row.id: row for row in _execute(session, text(_SHOWN.format(",".join(map(str, ids)))), {})
    }
    return [
        _Hit(row.id, row.url, row.title, row.published_on, row.column_name, row.body, score)
        for id_, score in zip(ids, [TITLE_MATCH] * len(titled) + [0.0] * len(others), strict=True)
        if (row := shown.get(id_)) is not None
    ]


def _dated_ids(session: Session, params: dict[str, Any]) -> tuple[int, int] | None:
    """The lowest and highest id of the articles the date (and column) filters let through,
    or None if there is none. Only the conditions given are written, so that an index serves
    them: the publication date's, or the column's (its year range bounds the dates)."""
    conditions = []
    if params["column_id"] is not None:
        conditions.append("column_id = :column_id")
        years = {"since": ">=", "until": "<="}
        for name, op in years.items():
            if params[name] is not None:
                conditions.append(f"published_year {op} {int(params[name].split('-')[0])}")
    if params["since"] is not None:
        conditions.append("published_on >= :since")
    if params["until"] is not None:
        conditions.append("published_on <= :until")
    sql = text(_DATED_IDS.format(" AND ".join(conditions)))
    row = session.execute(sql, params).one()
    return None if row.low is None else (row.low, row.high)


def _ids(session: Session, sql: TextClause, params: dict[str, Any]) -> list[int]:
    return [row.id for row in _execute(session, sql, params)]


class _Hit(NamedTuple):
    """A common query's hit as the ranked search's rows have it."""

    id: int
    url: str
    title: str
    published_on: date | str | None
    column_name: str | None
    body: str | None
    score: float
