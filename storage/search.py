"""Searching the archive: the user's query as an FTS5 expression, ranked hits with snippets.

Users type words (all must match, in any order), "quoted phrases", prefix terms (`invest*`),
the operators OR, NOT and AND in upper case, and parentheses. NOT binds tightest and excludes
from its whole group (`panda NOT flood chengdu` = panda and chengdu, without flood); a group of
only NOTs is an error, as FTS5 cannot list everything-but. Every word reaches FTS5 quoted, so
its keywords and punctuation (`NEAR(`, `title:`, `Chengdu-Chongqing`, `people's`) are plain text.

Chinese is rewritten to the way `storage.fulltext` indexed it (overlapping bigrams plus each
run's last character): 四 → `"四"*`, 四川 → `"四川"`, 四川省政府 → `"四川 川省 省政 政府"`.

`articles_fts` is contentless, so snippets are cut in Python from the hits' bodies only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Row, TextClause, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from storage.errors import ArchiveError
from storage.fulltext import CJK_RUN, cjk_terms

MAX_LIMIT = 1000
RANK = "bm25(articles_fts, 5.0, 1.0)"  # a title match weighs five body matches
ELLIPSIS = "…"

_JUNK = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")  # control characters, lone surrogates
_LEXEME = re.compile(
    r'\s+|(?P<paren>[()])|"(?P<phrase>[^"]*)"(?P<star>\*?)|(?P<quote>")|(?P<word>[^\s()"]+)'
)
_OPERATORS = frozenset({"AND", "OR", "NOT"})
_TOKEN = re.compile(r"[^\W_]+")  # a unicode61 token, near enough for highlighting
_NONSPACE = re.compile(r"\S+")
_CJK_SPLIT = re.compile(f"({CJK_RUN.pattern})")


class SearchQueryError(ArchiveError):
    """A search query that cannot run; the message says what is wrong and how to fix it."""


@dataclass(frozen=True)
class SearchHit:
    """One article found, best first; `score` is -bm25 (higher is better)."""

    article_id: int
    url: str
    title: str
    published_on: date | None
    column_name: str | None
    snippet: str
    score: float


@dataclass(frozen=True)
class _Term:
    match: str  # the FTS5 expression
    marks: tuple[str, ...]  # regular expressions of the text it matches, for snippets


def _phrase_marks(pieces: list[str], prefix: bool) -> str:
    """A regular expression for a sequence of tokens (Chinese runs match as substrings)."""
    source, previous_cjk = "", True
    for piece in pieces:
        cjk = CJK_RUN.fullmatch(piece) is not None
        if source:
            source += r"[\W_]*" if cjk or previous_cjk else r"[\W_]+"
        elif not cjk:
            source += r"(?<![^\W_])"
        source += re.escape(piece)
        previous_cjk = cjk
    if not previous_cjk:
        source += r"[^\W_]*" if prefix else r"(?![^\W_])"
    return source


def _phrase(content: str, prefix: bool) -> _Term | None:
    """A quoted phrase; a Chinese run ending before the phrase does keeps its final unigram."""
    parts = _CJK_SPLIT.split(content.strip())  # text, Chinese run, text, …, text
    fts: list[str] = []
    pieces: list[str] = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            fts.append(part.strip())
            pieces += _TOKEN.findall(part)
            continue
        pieces.append(part)
        if parts[i + 1]:  # text follows: the run ends here in the indexed text too
            fts.append(cjk_terms(part))
        elif len(part) == 1:
            fts.append(part)
            prefix = True  # every bigram starting with it, or the unigram ending a run
        else:
            fts.append(cjk_terms(part).rsplit(" ", 1)[0])  # the bigrams only
    if not pieces:
        return None
    match = '"' + " ".join(part for part in fts if part).replace('"', '""') + '"'
    return _Term(match + ("*" if prefix else ""), (_phrase_marks(pieces, prefix),))


def _word(word: str) -> _Term | None:
    """A bare word: its Chinese runs and the rest, each quoted, all required."""
    parts = _CJK_SPLIT.split(word.rstrip("*"))
    prefix = word.endswith("*")
    terms = [t for i, p in enumerate(parts) if (t := _phrase(p, prefix and i == len(parts) - 1))]
    if len(terms) < 2:
        return terms[0] if terms else None
    match = "(" + " AND ".join(term.match for term in terms) + ")"
    return _Term(match, tuple(mark for term in terms for mark in term.marks))


def _lex(query: str) -> list[str | _Term]:
    """Terms, operators and parentheses; words with nothing to search for are dropped."""
    tokens: list[str | _Term] = []
    for lexeme in _LEXEME.finditer(_JUNK.sub(" ", query)):
        if lexeme["quote"]:
            raise SearchQueryError(
                'unbalanced double quote: close the phrase with a second " or remove the quote'
            )
        word, phrase = lexeme["word"], lexeme["phrase"]
        if lexeme["paren"]:
            tokens.append(lexeme["paren"])
        elif word in _OPERATORS:
            tokens.append(word)
        elif term := (_word(word) if word else _phrase(phrase or "", bool(lexeme["star"]))):
            tokens.append(term)
    return tokens


def _dangling(operator: str) -> SearchQueryError:
    if operator == "NOT":
        return SearchQueryError("NOT needs a term after it to exclude, e.g. panda NOT flood")
    return SearchQueryError(
        f"{operator} needs a search term on each side, e.g. panda {operator} flood"
    )


def _unbalanced() -> SearchQueryError:
    return SearchQueryError("unbalanced parentheses: every ( needs a matching )")


class _Parser:
    """Recursive descent over the lexemes, emitting FTS5 with explicit ANDs and parentheses
    (FTS5 itself accepts no implicit AND next to a parenthesis)."""

    def __init__(self, tokens: list[str | _Term]) -> None:
        self.tokens = tokens
        self.position = 0
        self.marks: list[str] = []  # patterns of the terms a hit contains (not the NOTs)

    def _peek(self, offset: int = 0) -> str | _Term | None:
        index = self.position + offset
        return self.tokens[index] if 0 <= index < len(self.tokens) else None

    def _starts_item(self) -> bool:
        token = self._peek()
        return isinstance(token, _Term) or token in ("(", "NOT")

    def parse(self) -> str:
        match = self._any(negated=False)
        if self._peek() is not None:  # only a ")" stops the top level early
            raise _unbalanced()
        return match

    def _any(self, negated: bool) -> str:
        groups = [self._all(negated)]
        while self._peek() == "OR":
            self.position += 1
            groups.append(self._all(negated))
        return groups[0] if len(groups) == 1 else "(" + " OR ".join(groups) + ")"

    def _all(self, negated: bool) -> str:
        include: list[str] = []
        exclude: list[str] = []
        while self._starts_item():
            if self._peek() == "NOT":
                self.position += 1
                if not (isinstance(self._peek(), _Term) or self._peek() == "("):
                    raise _dangling("NOT")
                exclude.append(self._primary(negated=True))
            else:
                include.append(self._primary(negated))
            if self._peek() == "AND":
                self.position += 1
                if not self._starts_item():
                    raise _dangling("AND")
        if not include:
            raise self._misplaced(bool(exclude))
        match = include[0] if len(include) == 1 else "(" + " AND ".join(include) + ")"
        for excluded in exclude:
            match = f"({match} NOT {excluded})"
        return match

    def _misplaced(self, only_not: bool) -> SearchQueryError:
        if only_not:
            return SearchQueryError(
                "NOT must follow the terms it excludes from, e.g. panda NOT flood"
            )
        for token in (self._peek(-1), self._peek()):
            if isinstance(token, str) and token in _OPERATORS:
                return _dangling(token)
        return _unbalanced()

    def _primary(self, negated: bool) -> str:
        token = self._peek()
        self.position += 1
        if isinstance(token, _Term):
            if not negated:
                self.marks.extend(token.marks)
            return token.match
        if self._peek() == ")":
            raise SearchQueryError(
                "empty parentheses: put search terms inside, e.g. (panda OR flood)"
            )
        match = self._any(negated)
        if self._peek() != ")":
            raise _unbalanced()
        self.position += 1
        return match  # already one FTS5 operand: a term, or parenthesised


def _parse(query: str) -> tuple[str, list[str]]:
    """The FTS5 expression of `query` and the patterns to mark in snippets."""
    if not query.strip():
        raise SearchQueryError("empty search query: type one or more words, e.g. giant panda")
    tokens = _lex(query)
    if not tokens:
        raise SearchQueryError("the query has no word to search for: type a word, e.g. panda")
    parser = _Parser(tokens)
    return parser.parse(), parser.marks


def fts_query(query: str) -> str:
    """The user's query as an FTS5 MATCH expression (a `SearchQueryError` if it cannot run)."""
    return _parse(query)[0]


# The best `limit` hits are chosen from the index (joined to `articles` only when a filter
# needs it), and only they are joined for display: no hit beyond them has its row read.
_SEARCH = """
SELECT a.id, a.url, a.title, a.published_on, a.column_name, a.body, -hit.score AS score
FROM (SELECT articles_fts.rowid AS id, {rank} AS score FROM articles_fts {join}
      WHERE articles_fts MATCH :match {where}
      ORDER BY score, articles_fts.rowid LIMIT :limit) AS hit
JOIN articles AS a ON a.id = hit.id
ORDER BY hit.score, hit.id
"""
_UNFILTERED = text(_SEARCH.format(rank=RANK, join="", where=""))
_FILTERED = text(
    _SEARCH.format(
        rank=RANK,
        join="JOIN articles AS f ON f.id = articles_fts.rowid",
        where="AND (:since IS NULL OR f.published_on >= :since) "
        "AND (:until IS NULL OR f.published_on <= :until) "
        "AND (:column_id IS NULL OR f.column_id = :column_id) "
        "AND (:column_name IS NULL OR f.column_name = :column_name COLLATE NOCASE)",
    )
)


def search_articles(
    session: Session,
    query: str,
    *,
    since: date | None = None,
    until: date | None = None,
    column: str | int | None = None,
    limit: int = 20,
    mark: tuple[str, str] = ("[", "]"),
) -> list[SearchHit]:
    """The current articles matching `query`, best first (bm25, title above body).

    `since`/`until` bound `published_on` (inclusive); `column` is a column id (10765) or
    name (any case); each hit's snippet marks the query's terms with `mark`.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise SearchQueryError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if since is not None and until is not None and since > until:
        raise SearchQueryError(f"since ({since:%Y-%m-%d}) is after until ({until:%Y-%m-%d})")
    match, marks = _parse(query)
    column_id, column_name = _column(session, column) if column is not None else (None, None)
    params = {
        "match": match,
        "limit": limit,
        "since": None if since is None else f"{since:%Y-%m-%d}",
        "until": None if until is None else f"{until:%Y-%m-%d}",
        "column_id": column_id,
        "column_name": column_name,
    }
    filtered = since is not None or until is not None or column is not None
    rows = _execute(session, _FILTERED if filtered else _UNFILTERED, params)
    if not rows and column_name is not None:
        _check_column_name(session, column_name)
    pattern = re.compile("|".join(sorted(marks, key=len, reverse=True)) or "(?!)", re.IGNORECASE)
    return [
        SearchHit(
            article_id=row.id,
            url=row.url,
            title=row.title,
            published_on=date.fromisoformat(row.published_on) if row.published_on else None,
            column_name=row.column_name,
            snippet=_snippet(row.body or "", pattern, mark),
            score=row.score,
        )
        for row in rows
    ]


def _execute(session: Session, search: TextClause, params: dict[str, Any]) -> list[Row[Any]]:
    """The search's rows; a query SQLite cannot run becomes one line for the user."""
    try:
        return list(session.execute(search, params))
    except OperationalError as error:
        message = " ".join(str(error.orig).split())
        if message.startswith("fts5") or "no such column" in message:
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
    sql = "SELECT 1 FROM articles WHERE column_name = :name COLLATE NOCASE LIMIT 1"
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


def _snippet(body: str, pattern: re.Pattern[str], mark: tuple[str, str]) -> str:
    """A window of `body` around its first match, every match in it between `mark`."""
    found = pattern.search(body)
    start = found.start() if found else 0
    begin, end = _window(body, start, found is not None and bool(CJK_RUN.match(body, start)))
    window = " ".join(body[begin:end].split())
    window = pattern.sub(lambda match: mark[0] + match.group() + mark[1], window)
    before = ELLIPSIS if _NONSPACE.search(body, 0, begin) else ""
    after = ELLIPSIS if _NONSPACE.search(body, end) else ""
    return before + window + after
