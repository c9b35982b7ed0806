"""The search language: what users type, as an FTS5 MATCH expression.

Users type words (all must match, in any order), "quoted phrases", prefix terms (`invest*`),
the operators OR, NOT and AND in upper case, and parentheses. NOT binds tightest and excludes
from its whole group (`panda NOT flood chengdu` = panda and chengdu, without flood); a group of
only NOTs is an error, as FTS5 cannot list everything-but. Every word reaches FTS5 quoted, so
its keywords and punctuation (`NEAR(`, `title:`, `Chengdu-Chongqing`, `people's`) are plain text.

Chinese is rewritten to the way `storage.fulltext` indexed it (overlapping bigrams plus each
run's last character): 四 → `"四"*`, 四川 → `"四川"`, 四川省政府 → `"四川 川省 省政 政府"`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from storage.errors import ArchiveError
from storage.fulltext import CJK_RUN, cjk_terms

_JUNK = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")  # control characters, lone surrogates
_LEXEME = re.compile(
    r'\s+|(?P<paren>[()])|"(?P<phrase>[^"]*)"(?P<star>\*?)|(?P<quote>")|(?P<word>[^\s()"]+)'
)
_OPERATORS = frozenset({"AND", "OR", "NOT"})
_TOKEN = re.compile(r"[^\W_]+")  # a unicode61 token, near enough for highlighting
_CJK_SPLIT = re.compile(f"({CJK_RUN.pattern})")


class SearchQueryError(ArchiveError):
    """A search query that cannot run; the message says what is wrong and how to fix it."""


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


def parse_query(query: str) -> tuple[str, list[str]]:
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
    return parse_query(query)[0]
