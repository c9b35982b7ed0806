"""The full-text index `articles_fts`: what goes in, kept in step with the current versions.

SQLite: `articles_fts` is an FTS5 table over (title, body) with the `unicode61` tokenizer,
contentless (`content=''`: the text lives once, in `article_version`), its rowid the article id.
unicode61 keeps a run of Chinese characters as one token, so Chinese is indexed as overlapping
character bigrams plus the run's last character (四川省政府 → 四川 川省 省政 政府 府), the way CJK
search engines do: a two-character word is then one token, found by the index and by any FTS5
client (sqlite3, Datasette); longer words are phrases of bigrams (see `storage.search.ranking`).

A contentless table forgets its text, so a row is removed with FTS5's 'delete' command and the
values it was indexed with: `index_text` must stay deterministic (a change to it needs a
migration that rebuilds the index).

PostgreSQL: `articles_fts` is a table (article_id, document tsvector, complete) with a GIN index
on `document`. The tsvector is built here, not by PostgreSQL's parser: the same `index_text`,
cut into terms the way unicode61 cuts them (`terms`: runs of letters and digits, lower case, no
diacritics), title terms weighted A, body terms B, so both backends index the same terms and a
query finds the same articles on either. PostgreSQL keeps word positions only up to 16383 and
256 per term; a longer article is marked `complete = false`, and phrase queries are checked
again on its text (`storage.search.postgresql`). Any PostgreSQL client can search it with the
`simple` configuration: `document @@ websearch_to_tsquery('simple', '"giant panda" 四川')`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

# CJK Unified Ideographs (+ extension A) and compatibility ideographs.
CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

CREATE_TABLE = (
    "CREATE VIRTUAL TABLE articles_fts USING fts5("
    "title, body, content='', tokenize='unicode61 remove_diacritics 2')"
)
# The index's words, without its Chinese terms: a prefix (`invest*`) is searched as the words
# it stands for (`investment OR investors …`), which FTS5 walks newest first and stops, where
# its own prefix query merges the whole lists of articles of every word in the range first
# (`storage.search.sqlite`). Words are added as articles are indexed and never removed: a word no
# longer in any article matches nothing. (The table: storage/migrations, revision 0005.)
_ADD_WORDS = text("INSERT OR IGNORE INTO articles_fts_words (term) VALUES (:term)")
# PostgreSQL's index: one row per article, dropped with it.
CREATE_TABLE_POSTGRESQL = (
    "CREATE TABLE articles_fts ("
    "article_id INTEGER NOT NULL PRIMARY KEY REFERENCES article (id) ON DELETE CASCADE, "
    "document TSVECTOR NOT NULL, complete BOOLEAN NOT NULL)",
    "CREATE INDEX ix_articles_fts_document ON articles_fts USING gin (document)",
)

MAX_POSITION = 16383  # PostgreSQL's largest word position in a tsvector
MAX_POSITIONS = 256  # and the most positions it keeps per term
# PostgreSQL refuses a tsvector with a lexeme of 2047 bytes or more, or over 1 MiB of lexemes
# and positions (a long PDF, a garbled text layer): what would pass that is left out and the
# document marked incomplete, rather than the write failing. A lexeme costs its bytes, at most
# 3 more (alignment, its count of positions), and 2 bytes a position.
MAX_LEXEME_BYTES = 2046
MAX_VECTOR_BYTES = 1024 * 1024 - 1
_TERM = re.compile(r"[^\W_]+")
# Combining diacritical marks (and their supplements, extensions and half marks).
# A letter neither ASCII nor Chinese (é, ß, Ⅻ): text with one takes `terms`' careful path.
_OTHER_LETTER = re.compile(r"[^\W\x00-\x7f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD_BYTES = bytes(c if chr(c).isascii() and chr(c).isalnum() else 32 for c in range(256))
_DIACRITICS = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")

Bind = Session | Connection


def cjk_terms(run: str) -> str:
    """A run of Chinese characters as bigrams plus its last character, space separated."""
    if len(run) == 1:
        return run
    return " ".join([run[i : i + 2] for i in range(len(run) - 1)] + [run[-1]])


def index_text(value: str) -> str:
    """The text as indexed: Chinese runs spelled out as bigrams, the rest unchanged."""
    return CJK_RUN.sub(lambda match: f" {cjk_terms(match.group())} ", value)


def terms(value: str) -> list[str]:
    """The terms of already indexed text, as unicode61 with `remove_diacritics 2` finds them:
    runs of letters and digits, lower case, diacritics removed (Café → cafe)."""
    if not value.isascii():
        value = _DIACRITICS.sub("", unicodedata.normalize("NFD", value))
    return _TERM.findall(value.lower())


@dataclass(frozen=True)
class Document:
    """An article's tsvector literal, and whether it holds every position of every term."""

    vector: str
    complete: bool


def quote_term(term: str) -> str:
    """A term quoted for a tsvector or tsquery literal."""
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def document(title: str, body: str) -> Document:
    """The tsvector of an article: title terms at positions 1…, weight A; body terms after a
    gap (a phrase never runs from the title into the body), weight B."""
    positions: dict[str, list[str]] = {}
    position, complete, size = 0, True, 0
    for field, weight in ((title, "A"), (body, "B")):
        for term in terms(index_text(field)):
            position += 1
            places = positions.get(term)
            if places is None:
                length = len(term.encode())
                if length > MAX_LEXEME_BYTES or size + length + 5 > MAX_VECTOR_BYTES:
                    complete = False
                    continue
                size += length + 3
                places = positions[term] = []
            if position > MAX_POSITION or len(places) == MAX_POSITIONS:
                complete = False
            if len(places) < MAX_POSITIONS and (position <= MAX_POSITION or not places):
                if size + 2 > MAX_VECTOR_BYTES:
                    complete = False
                    continue
                size += 2
                places.append(f"{min(position, MAX_POSITION)}{weight}")
        position += 1
    vector = " ".join(
        f"{quote_term(term)}:{','.join(places)}" for term, places in positions.items()
    )
    return Document(vector, complete)


def _postgresql(bind: Bind) -> bool:
    engine = bind.get_bind() if isinstance(bind, Session) else bind
    return engine.dialect.name == "postgresql"


def words(value: str) -> set[str]:
    """The words the index takes from `value` (title or body as stored), as `terms` finds them
    in its indexed text, without the Chinese terms. Text with no letters beyond ASCII but
    Chinese (most pages) takes a fast path: bytes, every byte not [a-z0-9] a separator."""
    if _OTHER_LETTER.search(value):
        return set(terms(CJK_RUN.sub(" ", value)))
    return set(value.encode("ascii", "replace").lower().translate(_WORD_BYTES).decode().split())


def add_words(bind: Bind, new_words: set[str]) -> None:
    """SQLite: remember the words indexed (`articles_fts_words`, never emptied), so that a
    prefix can be read as the words it stands for (`storage.search.sqlite`)."""
    if new_words:
        bind.execute(_ADD_WORDS, [{"term": word} for word in sorted(new_words)])


def index_article(bind: Bind, article_id: int, title: str, body: str) -> set[str]:
    """Add an article's current title and body to the index. SQLite: returns the article's
    words, for `add_words` (a batch adds each word once)."""
    if _postgresql(bind):
        indexed = document(title, body)
        bind.execute(
            text(
                "INSERT INTO articles_fts (article_id, document, complete) "
                "VALUES (:id, CAST(:document AS tsvector), :complete)"
            ),
            {"id": article_id, "document": indexed.vector, "complete": indexed.complete},
        )
        return set()
    bind.execute(
        text("INSERT INTO articles_fts (rowid, title, body) VALUES (:id, :title, :body)"),
        {"id": article_id, "title": index_text(title), "body": index_text(body)},
    )
    return words(title) | words(body)


def unindex_article(bind: Bind, article_id: int, title: str, body: str) -> None:
    """Remove an article from the index, given the title and body it was indexed with."""
    if _postgresql(bind):
        bind.execute(text("DELETE FROM articles_fts WHERE article_id = :id"), {"id": article_id})
        return
    bind.execute(
        text(
            "INSERT INTO articles_fts (articles_fts, rowid, title, body) "
            "VALUES ('delete', :id, :title, :body)"
        ),
        {"id": article_id, "title": index_text(title), "body": index_text(body)},
    )


def document_title(title: str, doc_number_raw: str | None, doc_number: str | None) -> str:
    """A document's title as indexed: followed by its 文号 as published and normalised, so that
    a search by number finds it (the title weight ranks it first)."""
    return " ".join([title, *(n for n in dict.fromkeys((doc_number_raw, doc_number)) if n)])
