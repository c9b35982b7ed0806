"""The full-text index `articles_fts`: what goes in, kept in step with the current versions.

`articles_fts` is an FTS5 table over (title, body) with the `unicode61` tokenizer, contentless
(`content=''`: the text lives once, in `article_version`), its rowid the article id. unicode61
keeps a run of Chinese characters as one token, so Chinese is indexed as overlapping character
bigrams plus the run's last character (四川省政府 → 四川 川省 省政 政府 府), the way CJK search
engines do: a two-character word is then one token, found by the index and by any FTS5 client
(sqlite3, Datasette); longer words are phrases of bigrams (see `storage.search`).

A contentless table forgets its text, so a row is removed with FTS5's 'delete' command and the
values it was indexed with: `index_text` must stay deterministic (a change to it needs a
migration that rebuilds the index).
"""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.orm import Session

# CJK Unified Ideographs (+ extension A) and compatibility ideographs.
CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")

CREATE_TABLE = (
    "CREATE VIRTUAL TABLE articles_fts USING fts5("
    "title, body, content='', tokenize='unicode61 remove_diacritics 2', prefix='2 3')"
)


def cjk_terms(run: str) -> str:
    """A run of Chinese characters as bigrams plus its last character, space separated."""
    if len(run) == 1:
        return run
    return " ".join([run[i : i + 2] for i in range(len(run) - 1)] + [run[-1]])


def index_text(value: str) -> str:
    """The text as indexed: Chinese runs spelled out as bigrams, the rest unchanged."""
    return CJK_RUN.sub(lambda match: f" {cjk_terms(match.group())} ", value)


def index_article(session: Session, article_id: int, title: str, body: str) -> None:
    """Add an article's current title and body to the index."""
    session.execute(
        text("INSERT INTO articles_fts (rowid, title, body) VALUES (:id, :title, :body)"),
        {"id": article_id, "title": index_text(title), "body": index_text(body)},
    )


def unindex_article(session: Session, article_id: int, title: str, body: str) -> None:
    """Remove an article from the index, given the title and body it was indexed with."""
    session.execute(
        text(
            "INSERT INTO articles_fts (articles_fts, rowid, title, body) "
            "VALUES ('delete', :id, :title, :body)"
        ),
        {"id": article_id, "title": index_text(title), "body": index_text(body)},
    )
