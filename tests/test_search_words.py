"""SQLite reads a prefix as the words it stands for (`articles_fts_words`, revision 0005): the
same hits as FTS5's own prefix query, a list the write path keeps complete, and a migration
that fills it from an existing index."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from alembic import command
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import storage
from storage.db import _alembic_config
from storage.search import index as fulltext
from storage.search import ranking as search
from storage.search import sqlite as search_sqlite
from tests.conftest import FIXTURES, numbered_article, raw_rows, sqlite_only, url_of

SEEN = datetime(2026, 11, 28, 6, 30, tzinfo=UTC)
TEXTS = [
    ("Investment in Chengdu", "Investors met in Chengdu; investing in the west grew."),
    ("Giant pandas return", "The giant panda reserve in Wolong reopened to visitors."),
    ("四川投资Investment促进", "Café owners in Chengdu-Chongqing invested; 改革开放 continues."),
    ("Reform of the inspection system", "Inspectors inspected 12 counties in Sichuan."),
    ("Flood prevention", "Nothing about money here: only rain, rivers and dikes."),
]
QUERIES = ["invest*", "inspect*", '"giant pan"*', "invest* NOT chengdu", "cafe*", "四*", "zz*"]


def record(n: int, title: str, body: str) -> storage.ArticleRecord:
    return numbered_article(n, title, body, date(2025, 1, n), "w")


@pytest.fixture
def archived(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    with sessions.begin() as session:
        for n, (title, body) in enumerate(TEXTS, start=1):
            storage.record_article(session, record(n, title, body), SEEN)
    return sessions


def hits(sessions: sessionmaker[Session], query: str) -> list[int]:
    with sessions() as session:
        return sorted(hit.article_id for hit in search.search_articles(session, query))


def index_words(engine: Engine) -> list[str]:
    rows = raw_rows(url_of(engine), "SELECT term FROM articles_fts_words ORDER BY term")
    return [row["term"] for row in rows]


@sqlite_only
def test_a_prefix_read_as_its_words_finds_what_fts5_finds(
    archived: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    expanded = {query: hits(archived, query) for query in QUERIES}
    monkeypatch.setattr(search, "_words_for_prefixes", lambda _session, node: node)
    assert expanded == {query: hits(archived, query) for query in QUERIES}
    assert expanded["invest*"] == [1, 3] and expanded['"giant pan"*'] == [2]
    assert expanded["cafe*"] == [3]  # Café, without its accent, as the index has it


@sqlite_only
def test_the_query_names_the_words_of_a_prefix(archived: sessionmaker[Session]) -> None:
    with archived() as session:
        parsed = search.parse('invest* "giant pan"*')
        written = search.fts5(search._words_for_prefixes(session, parsed.node))
    assert written == (
        '(("invested" OR "investing" OR "investment" OR "investors") AND '
        '("giant panda" OR "giant pandas"))'
    )


@sqlite_only
def test_a_prefix_of_too_many_words_stays_a_prefix(
    archived: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_sqlite, "MAX_PREFIX_WORDS", 3)
    with archived() as session:
        node = search.parse("invest*").node
        assert search._words_for_prefixes(session, node) == node  # 4 words
    assert hits(archived, "invest*") == [1, 3]


@sqlite_only
def test_the_word_list_holds_every_word_the_index_has_and_no_chinese(
    archived: sessionmaker[Session], engine: Engine
) -> None:
    vocabulary = raw_rows(url_of(engine), "SELECT term FROM articles_fts_words")
    expected = {
        term
        for title, body in TEXTS
        for term in fulltext.terms(fulltext.index_text(title + " " + body))
        if not fulltext.CJK_RUN.search(term)
    }
    assert {row["term"] for row in vocabulary} == expected
    assert {"cafe", "chongqing", "12", "investment"} <= expected


@sqlite_only
def test_revision_0005_fills_the_word_list_from_the_index(
    archived: sessionmaker[Session], engine: Engine
) -> None:
    written = index_words(engine)
    config = _alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0004")
    storage.upgrade_archive(engine)
    assert index_words(engine) == written
    assert hits(archived, "invest*") == [1, 3]


TRICKY = [
    "Café owners’ Chengdu-Chongqing ÉCOLE naïve",  # accents: the careful path
    "四川Investment促进 and 改革开放ok",  # Chinese glued to Latin letters
    "snake_case, CamelCase, A1 and 12ab; ２０２４ full-width digits",
    "Ⅻ ² ﬁne: letters that NFKD would change, and unicode61 does not",
    "“Quoted” words — with dashes – and 《书名号》，。",
]


def fixture_texts() -> list[str]:
    """The title and body of every fixture page, as extracted (a body is its paragraphs)."""
    texts = []
    for path in sorted(FIXTURES.rglob("*.expected.json")):
        if not path.with_name(path.name.removesuffix(".expected.json")).is_file():
            continue  # no page beside it: not a page's output (relations.json)
        page = json.loads(path.read_text(encoding="utf-8"))
        body = page["body"]
        texts += [page["title"], body if isinstance(body, str) else "\n\n".join(body)]
    return texts


FIXTURE_TEXTS = fixture_texts()


@pytest.mark.parametrize("value", TRICKY + FIXTURE_TEXTS, ids=range(len(TRICKY + FIXTURE_TEXTS)))
def test_words_are_the_index_terms_without_chinese(value: str) -> None:
    reference = {
        term
        for term in fulltext.terms(fulltext.index_text(value))
        if not fulltext.CJK_RUN.search(term)
    }
    assert fulltext.words(value) == reference
