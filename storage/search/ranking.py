"""Searching the archive: ranked hits with snippets.

The user's query is parsed in `storage.search.syntax` (words, phrases, prefixes, OR/NOT, Chinese of
any length) and written out as FTS5 for SQLite or as a tsquery for PostgreSQL. Neither index
keeps the text, so snippets are cut in Python from the hits' bodies only, the same way on both."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import Row, TextClause, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from storage.exceptions import SearchQueryError
from storage.search import documents
from storage.search.documents import DocumentFilter
from storage.search.index import CJK_RUN, index_text, terms
from storage.search.syntax import (
    All,
    AnyOf,
    Node,
    Phrase,
    Query,
    Without,
    fts5,
    fts_query,
    matches,
    needs_positions,
    parse,
    parse_query,
    relaxed_tsquery,
    tsquery,
)

__all__ = [
    "DocumentFilter",
    "SearchHit",
    "SearchQueryError",
    "fts_query",
    "parse_query",
    "search_articles",
]

MAX_LIMIT = 1000
_NONSPACE = re.compile(r"\S+")
RANK = "bm25(articles_fts, 5.0, 1.0)"  # a title match weighs five body matches
ELLIPSIS = "…"


@dataclass(frozen=True)
class SearchHit:
    """One article found, best first; `score` is -bm25 in SQLite, ts_rank in PostgreSQL
    (higher is better). A document has its `doc_number`; `number_match` marks the documents
    found by the 文号 asked for (listed first; score 0.0 unless the text matched too)."""

    article_id: int
    url: str
    title: str
    published_on: date | None
    column_name: str | None
    snippet: str
    score: float
    doc_number: str | None = None
    number_match: bool = False


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
    SQLite for a query matching more than RANK_WINDOW articles, by title and age.

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
    return [
        SearchHit(
            article_id=row.id,
            url=row.url,
            title=row.title,
            published_on=_day(row.published_on),
            column_name=row.column_name,
            snippet=_snippet(row.body or "", pattern, mark),
            score=scores.get(row.id, 0.0),
            doc_number=numbers.get(row.id),
            number_match=row.id in first,
        )
        for row in shown
    ]


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


def _execute(session: Session, search: TextClause, params: dict[str, Any]) -> list[Row[Any]]:
    """The search's rows; a query the database cannot run becomes one line for the user."""
    try:
        return list(session.execute(search, params))
    except (OperationalError, DBAPIError) as error:
        message = " ".join(str(error.orig).split())
        if message.startswith("fts5") or "no such column" in message or "tsquery" in message:
            raise SearchQueryError(
                f"the search index cannot read this query ({message}): "
                'put unusual words in double quotes, e.g. "NEAR"'
            ) from error
        raise


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


def _window(text: str, start: int, chinese: bool) -> tuple[int, int]:
    """About 30 words (or 80 characters of Chinese) around `start`, no word cut in two."""
    before, after = (20, 60) if chinese else (50, 150)
    begin, end = max(0, start - before), min(len(text), start + after)
    # A word of a spaced script cut at either edge is dropped on the left, finished on the right.
    cut = _NONSPACE.match(text, begin) if begin and not text[begin - 1].isspace() else None
    if cut and not CJK_RUN.search(text, begin, cut.end()):
        begin = min(cut.end(), start)
    cut = _NONSPACE.match(text, end) if not text[end - 1 : end].isspace() else None
    if cut and not CJK_RUN.search(text, end, cut.end()):
        end = min(cut.end(), end + 20)
    return begin, end


class _Marks:
    """The query's terms as one expression, to find in a body and to mark in its snippet."""

    def __init__(self, marks: list[str]) -> None:
        source = "|".join(sorted(marks, key=len, reverse=True)) or "(?!)"
        # The marks are in lower case: searched case-sensitively in a lower-cased body, `re`
        # looks for their first letters as a literal, 6x faster than a case-blind search.
        self.lower = re.compile(source)
        self.anycase = re.compile(source, re.IGNORECASE)

    def first(self, body: str) -> int | None:
        """Where a match in `body` starts (the first one in lower case), or None if none."""
        lowered = body.lower()
        if len(lowered) == len(body):  # one character for one: positions are the body's
            found = self.lower.search(lowered)
            if found or body.isascii():
                return found.start() if found else None
        found = self.anycase.search(body)  # a rarer case pairing (e.g. the Kelvin sign)
        return found.start() if found else None


def _snippet(body: str, pattern: _Marks, mark: tuple[str, str]) -> str:
    """A window of `body` around its first match, every match in it between `mark`."""
    found = pattern.first(body)
    start = found or 0
    begin, end = _window(body, start, found is not None and bool(CJK_RUN.match(body, start)))
    window = " ".join(body[begin:end].split())
    window = pattern.anycase.sub(lambda match: mark[0] + match.group() + mark[1], window)
    before = ELLIPSIS if _NONSPACE.search(body, 0, begin) else ""
    after = ELLIPSIS if _NONSPACE.search(body, end) else ""
    return before + window + after
