"""The search language: what users type, as an FTS5 MATCH expression.

Users type words (all must match, in any order), "quoted phrases", prefix terms (`invest*`),
the operators OR, NOT and AND in upper case, and parentheses. NOT binds tightest and excludes
from its whole group (`panda NOT flood chengdu` = panda and chengdu, without flood); a group of
only NOTs is an error, as FTS5 cannot list everything-but. Every word reaches FTS5 quoted, so
its keywords and punctuation (`NEAR(`, `title:`, `Chengdu-Chongqing`, `people's`) are plain text.

Chinese is rewritten to the way `storage.search.index` indexed it (overlapping bigrams plus each
run's last character): 四 → `"四"*`, 四川 → `"四川"`, 四川省政府 → `"四川 川省 省政 政府"`.

The parsed query is a small tree (`Query`): it is written out as FTS5 for SQLite, as a tsquery
for PostgreSQL (`<->` between the terms of a phrase, `:*` for a prefix), and can be checked
against an article's terms directly (`Query.matches`), for the PostgreSQL articles too long for
a tsvector to hold every word position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from storage.exceptions import SearchQueryError
from storage.search.index import CJK_RUN, cjk_terms, quote_term, terms

_JUNK = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")  # control characters, lone surrogates
_LEXEME = re.compile(
    r'\s+|(?P<paren>[()])|"(?P<phrase>[^"]*)"(?P<star>\*?)|(?P<quote>")|(?P<word>[^\s()"]+)'
)
_OPERATORS = frozenset({"AND", "OR", "NOT"})
_TOKEN = re.compile(r"[^\W_]+")  # a unicode61 token, near enough for highlighting
_CJK_SPLIT = re.compile(f"({CJK_RUN.pattern})")


@dataclass(frozen=True)
class Phrase:
    """Terms in sequence, the last one a prefix if `prefix`; `text` as FTS5 reads it."""

    text: str
    prefix: bool

    @property
    def words(self) -> list[str]:
        return terms(self.text) or [self.text.lower()]


@dataclass(frozen=True)
class All:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Without:
    include: Node
    exclude: Node


Node = Phrase | All | AnyOf | Without


def _all(parts: list[Node]) -> Node:
    return parts[0] if len(parts) == 1 else All(tuple(parts))


def fts5(node: Node) -> str:
    """The FTS5 MATCH expression of a query tree."""
    if isinstance(node, Phrase):
        return '"' + node.text.replace('"', '""') + '"' + ("*" if node.prefix else "")
    if isinstance(node, Without):
        return f"({fts5(node.include)} NOT {fts5(node.exclude)})"
    joiner = " AND " if isinstance(node, All) else " OR "
    return "(" + joiner.join(fts5(part) for part in node.parts) + ")"


def tsquery(node: Node) -> str:
    """The tsquery of a query tree."""
    if isinstance(node, Phrase):
        return _tsphrase(node, " <-> ")
    if isinstance(node, Without):
        return f"({tsquery(node.include)} & !{tsquery(node.exclude)})"
    joiner = " & " if isinstance(node, All) else " | "
    return "(" + joiner.join(tsquery(part) for part in node.parts) + ")"


def _tsphrase(phrase: Phrase, joiner: str) -> str:
    words = [quote_term(term) for term in phrase.words]
    words[-1] += ":*" if phrase.prefix else ""
    return words[0] if len(words) == 1 else "(" + joiner.join(words) + ")"


def relaxed_tsquery(node: Node, superset: bool = True) -> str | None:
    """A tsquery that needs no word positions and matches a superset of what `node` matches
    (`superset=False`: a subset, None for nothing): a phrase needs only its terms, a phrase
    excluded by NOT excludes nothing."""
    if isinstance(node, Phrase):
        if superset or len(node.words) == 1:
            return _tsphrase(node, " & ")
        return None
    if isinstance(node, Without):
        include = relaxed_tsquery(node.include, superset)
        exclude = relaxed_tsquery(node.exclude, not superset)
        if include is None or exclude is None:
            return include
        return f"({include} & !{exclude})"
    parts = [relaxed_tsquery(part, superset) for part in node.parts]
    if isinstance(node, All):
        if None in parts:
            return None
        return "(" + " & ".join(p for p in parts if p is not None) + ")"
    kept = [p for p in parts if p is not None]
    return "(" + " | ".join(kept) + ")" if kept else None


def needs_positions(node: Node) -> bool:
    """Whether the tree has a phrase of two terms or more."""
    if isinstance(node, Phrase):
        return len(node.words) > 1
    if isinstance(node, Without):
        return needs_positions(node.include) or needs_positions(node.exclude)
    return any(needs_positions(part) for part in node.parts)


def _has_phrase(words: list[str], phrase: list[str], prefix: bool) -> bool:
    last = len(phrase) - 1
    for start in range(len(words) - last):
        if words[start : start + last] == phrase[:last] and (
            words[start + last].startswith(phrase[last])
            if prefix
            else words[start + last] == phrase[last]
        ):
            return True
    return False


def matches(node: Node, fields: list[list[str]]) -> bool:
    """Whether a text whose fields have these terms (`fulltext.terms`) matches the tree; a
    phrase lies within one field."""
    if isinstance(node, Phrase):
        return any(_has_phrase(words, node.words, node.prefix) for words in fields)
    if isinstance(node, Without):
        return matches(node.include, fields) and not matches(node.exclude, fields)
    found = (matches(part, fields) for part in node.parts)
    return all(found) if isinstance(node, All) else any(found)


@dataclass(frozen=True)
class Query:
    """A parsed query: its tree and the patterns of the text its hits contain (snippets)."""

    node: Node
    marks: list[str]


@dataclass(frozen=True)
class _Term:
    node: Node
    marks: tuple[str, ...]  # regular expressions of the text it matches, for snippets


def _phrase_marks(pieces: list[str], prefix: bool) -> str:
    """A regular expression for a sequence of tokens (Chinese runs match as substrings), in
    lower case: snippets search a lower-cased body with it, case-sensitively.

    It starts with the first token's own letters, so that `re` looks for them as a literal (a
    pattern starting with an assertion is tried at every position: 4x slower on a 6 KB body),
    and only then looks behind them for the word's start."""
    source, previous_cjk = "", True
    for piece in pieces:
        cjk = CJK_RUN.fullmatch(piece) is not None
        literal = re.escape(piece.lower())
        if source:
            source += r"[\W_]*" if cjk or previous_cjk else r"[\W_]+"
            source += literal
        else:
            source += literal if cjk else rf"{literal}(?<![^\W_]{literal})"
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
    phrase = Phrase(" ".join(part for part in fts if part), prefix)
    return _Term(phrase, (_phrase_marks(pieces, prefix),))


def _word(word: str) -> _Term | None:
    """A bare word: its Chinese runs and the rest, each quoted, all required."""
    parts = _CJK_SPLIT.split(word.rstrip("*"))
    prefix = word.endswith("*")
    found = [t for i, p in enumerate(parts) if (t := _phrase(p, prefix and i == len(parts) - 1))]
    if len(found) < 2:
        return found[0] if found else None
    node = All(tuple(term.node for term in found))
    return _Term(node, tuple(mark for term in found for mark in term.marks))


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
    """Recursive descent over the lexemes, building the query tree (written out as FTS5 with
    explicit ANDs and parentheses: FTS5 itself accepts no implicit AND next to a parenthesis)."""

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

    def parse(self) -> Node:
        match = self._any(negated=False)
        if self._peek() is not None:  # only a ")" stops the top level early
            raise _unbalanced()
        return match

    def _any(self, negated: bool) -> Node:
        groups = [self._all(negated)]
        while self._peek() == "OR":
            self.position += 1
            groups.append(self._all(negated))
        return groups[0] if len(groups) == 1 else AnyOf(tuple(groups))

    def _all(self, negated: bool) -> Node:
        include: list[Node] = []
        exclude: list[Node] = []
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
        match = _all(include)
        for excluded in exclude:
            match = Without(match, excluded)
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

    def _primary(self, negated: bool) -> Node:
        token = self._peek()
        self.position += 1
        if isinstance(token, _Term):
            if not negated:
                self.marks.extend(token.marks)
            return token.node
        if self._peek() == ")":
            raise SearchQueryError(
                "empty parentheses: put search terms inside, e.g. (panda OR flood)"
            )
        match = self._any(negated)
        if self._peek() != ")":
            raise _unbalanced()
        self.position += 1
        return match


def parse(query: str) -> Query:
    """The user's query as a tree (a `SearchQueryError` if it cannot run)."""
    if not query.strip():
        raise SearchQueryError("empty search query: type one or more words, e.g. giant panda")
    tokens = _lex(query)
    if not tokens:
        raise SearchQueryError("the query has no word to search for: type a word, e.g. panda")
    parser = _Parser(tokens)
    return Query(parser.parse(), parser.marks)


def parse_query(query: str) -> tuple[str, list[str]]:
    """The FTS5 expression of `query` and the patterns to mark in snippets."""
    parsed = parse(query)
    return fts5(parsed.node), parsed.marks


def fts_query(query: str) -> str:
    """The user's query as an FTS5 MATCH expression (a `SearchQueryError` if it cannot run)."""
    return parse_query(query)[0]
