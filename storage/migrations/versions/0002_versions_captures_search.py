"""Versions, captures, near-duplicates, full-text search.

Every article's content moves into `article_version` (version 1, same times); `article` keeps
identity, the current version, the SimHash and `withdrawn_at`. New tables: `capture` (raw
responses), `near_duplicate` and `near_duplicate_band`; the contentless FTS5 index `articles_fts`;
the views `articles` (now with version_count, withdrawn_at, year), `article_versions` and
`captures`. Existing articles are indexed for search and near-duplicates on the way.

PostgreSQL gets the same tables; its search index `articles_fts` is a table with a tsvector and
a GIN index, and its views compute the year and the 0/1 flags its own way.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import defaultdict
from datetime import date
from functools import cache

import numpy as np
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The index as this revision made it (0004 rebuilds it without prefix indexes).
CREATE_FTS = (
    "CREATE VIRTUAL TABLE articles_fts USING fts5("
    "title, body, content='', tokenize='unicode61 remove_diacritics 2', prefix='2 3')"
)
CONTENT_COLUMNS = (
    "title",
    "published_on",
    "page_column_name",
    "body",
    "captions",
    "images",
    "attachments",
    "language",
    "template",
    "extraction_path",
)

ARTICLES_VIEW = """
CREATE VIEW articles AS
SELECT a.id,
       a.url,
       v.title,
       v.published_on,
       CAST(strftime('%Y', v.published_on) AS INTEGER) AS year,
       a.column_id,
       COALESCE(c.name, v.page_column_name) AS column_name,
       v.body,
       v.language,
       a.canonical_id,
       v.version_no AS version_count,
       (SELECT COUNT(*) FROM article_alias AS al WHERE al.article_id = a.id) AS alias_count,
       a.withdrawn_at,
       a.first_seen_at,
       a.last_seen_at
FROM article AS a
JOIN article_version AS v ON v.id = a.current_version_id
LEFT JOIN site_column AS c ON c.column_id = a.column_id
"""

ARTICLE_VERSIONS_VIEW = """
CREATE VIEW article_versions AS
SELECT v.id AS version_id,
       v.article_id,
       v.version_no,
       a.url,
       v.title,
       v.published_on,
       v.body,
       v.captions,
       v.content_digest,
       v.capture_id,
       v.first_seen_at,
       v.last_seen_at,
       (SELECT n.first_seen_at FROM article_version AS n
        WHERE n.article_id = v.article_id AND n.version_no = v.version_no + 1) AS superseded_at,
       v.id = a.current_version_id AS is_current
FROM article_version AS v
JOIN article AS a ON a.id = v.article_id
"""

CAPTURES_VIEW = """
CREATE VIEW captures AS
SELECT c.id,
       c.url,
       c.final_url,
       c.status,
       c.fetched_at,
       c.body_sha256,
       c.body_length,
       length(c.body) AS stored_length,
       c.revisit_of,
       c.revisit_of IS NOT NULL AS is_revisit,
       c.article_id,
       c.headers
FROM capture AS c
"""

# PostgreSQL has no strftime, and a comparison there is a boolean, not 0/1.
POSTGRESQL_EXPRESSIONS = {
    "CAST(strftime('%Y', v.published_on) AS INTEGER)": (
        "CAST(EXTRACT(YEAR FROM v.published_on) AS INTEGER)"
    ),
    "v.id = a.current_version_id AS": "CAST(v.id = a.current_version_id AS INTEGER) AS",
    "c.revisit_of IS NOT NULL AS": "CAST(c.revisit_of IS NOT NULL AS INTEGER) AS",
}


def _views(dialect: str) -> list[str]:
    """The CREATE VIEW statements of this revision, in the database's own SQL."""
    views = [ARTICLES_VIEW, ARTICLE_VERSIONS_VIEW, CAPTURES_VIEW]
    if dialect != "postgresql":
        return views
    for sqlite, postgresql in POSTGRESQL_EXPRESSIONS.items():
        assert sum(sqlite in view for view in views) == 1, sqlite
        views = [view.replace(sqlite, postgresql) for view in views]
    return views


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute("DROP VIEW articles")
    op.create_table(
        "capture",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("final_url", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("body_length", sa.Integer(), nullable=False),
        sa.Column("revisit_of", sa.Integer(), nullable=True),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["article.id"],
            name=op.f("fk_capture_article_id_article"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["revisit_of"], ["capture.id"], name=op.f("fk_capture_revisit_of_capture")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capture")),
    )
    with op.batch_alter_table("capture", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_capture_article_id"), ["article_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_capture_fetched_at"), ["fetched_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_capture_url"), ["url"], unique=False)

    op.create_table(
        "near_duplicate",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("original_id", sa.Integer(), nullable=False),
        sa.Column("distance", sa.Integer(), nullable=False),
        sa.Column("found_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["article.id"],
            name=op.f("fk_near_duplicate_article_id_article"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["original_id"],
            ["article.id"],
            name=op.f("fk_near_duplicate_original_id_article"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", "original_id", name=op.f("pk_near_duplicate")),
    )
    with op.batch_alter_table("near_duplicate", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_near_duplicate_original_id"), ["original_id"], unique=False
        )

    op.create_table(
        "near_duplicate_band",
        sa.Column("band_key", sa.BigInteger(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["article.id"],
            name=op.f("fk_near_duplicate_band_article_id_article"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("band_key", "article_id", name=op.f("pk_near_duplicate_band")),
    )
    with op.batch_alter_table("near_duplicate_band", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_near_duplicate_band_article_id"), ["article_id"], unique=False
        )

    op.create_table(
        "article_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("version_no", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("page_column_name", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("captions", sa.JSON(), nullable=False),
        sa.Column("images", sa.JSON(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("extraction_path", sa.String(length=16), nullable=False),
        sa.Column("content_digest", sa.String(length=64), nullable=False),
        sa.Column("capture_id", sa.Integer(), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["article.id"],
            name=op.f("fk_article_version_article_id_article"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["capture_id"], ["capture.id"], name=op.f("fk_article_version_capture_id_capture")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_version")),
        sa.UniqueConstraint("article_id", "version_no", name=op.f("uq_article_version_article_id")),
    )
    op.execute(
        "INSERT INTO article_version (article_id, version_no, content_digest, capture_id, "
        "first_seen_at, last_seen_at, " + ", ".join(CONTENT_COLUMNS) + ") "
        "SELECT id, 1, '', NULL, first_seen_at, last_seen_at, "
        + ", ".join(CONTENT_COLUMNS)
        + " FROM article"
    )
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.add_column(sa.Column("current_version_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("simhash", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_at", sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(
            "fk_article_current_version_id", "article_version", ["current_version_id"], ["id"]
        )
        for column in CONTENT_COLUMNS:
            batch_op.drop_column(column)
    op.execute(
        "UPDATE article SET current_version_id = (SELECT v.id FROM article_version AS v "
        "WHERE v.article_id = article.id AND v.version_no = 1)"
    )
    for statement in CREATE_FTS_POSTGRESQL if dialect == "postgresql" else (CREATE_FTS,):
        op.execute(statement)
    _fill_indexes(op.get_bind())
    for view in _views(dialect):
        op.execute(view)


def _fill_indexes(connection: sa.Connection) -> None:
    """Digest, search index and SimHash bands for every article the old schema held."""
    rows = connection.execute(
        sa.text(
            "SELECT v.id, v.article_id, v.title, v.published_on, v.body, v.captions "
            "FROM article_version AS v"
        )
    ).all()
    for version_id, article_id, title, published_on, body, captions in rows:
        day = published_on  # a date in PostgreSQL, text in SQLite; the JSON likewise
        if isinstance(published_on, str):
            day = date.fromisoformat(published_on) if published_on else None
        if not isinstance(captions, list):
            captions = json.loads(captions or "[]")
        digest = _content_digest(title, day, body, captions)
        body_hash, band_keys = _signature(body)
        connection.execute(
            sa.text("UPDATE article_version SET content_digest = :d WHERE id = :id"),
            {"d": digest, "id": version_id},
        )
        connection.execute(
            sa.text("UPDATE article SET simhash = :h WHERE id = :id"),
            {"h": body_hash, "id": article_id},
        )
        _index_article(connection, article_id, title, body)
        for key in set(band_keys):
            connection.execute(
                sa.text("INSERT INTO near_duplicate_band (band_key, article_id) VALUES (:k, :id)"),
                {"k": key, "id": article_id},
            )


def downgrade() -> None:
    for view in ("captures", "article_versions", "articles"):
        op.execute(f"DROP VIEW {view}")
    op.execute("DROP TABLE articles_fts")
    with op.batch_alter_table("article", schema=None) as batch_op:
        for column in CONTENT_COLUMNS:
            batch_op.add_column(sa.Column(column, sa.Text(), nullable=True))
    op.execute(
        "UPDATE article SET "
        + ", ".join(
            f"{c} = (SELECT v.{c} FROM article_version AS v "
            "WHERE v.id = article.current_version_id)"
            for c in CONTENT_COLUMNS
        )
    )
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.drop_constraint("fk_article_current_version_id", type_="foreignkey")
        for column in ("withdrawn_at", "simhash", "current_version_id"):
            batch_op.drop_column(column)
    for table in ("article_version", "near_duplicate_band", "near_duplicate", "capture"):
        op.drop_table(table)
    op.execute(
        "CREATE VIEW articles AS SELECT a.id, a.url, a.title, a.published_on, a.column_id, "
        "COALESCE(c.name, a.page_column_name) AS column_name, a.body, a.language, "
        "a.canonical_id, (SELECT COUNT(*) FROM article_alias AS al "
        "WHERE al.article_id = a.id) AS alias_count, a.first_seen_at, a.last_seen_at "
        "FROM article AS a LEFT JOIN site_column AS c ON c.column_id = a.column_id"
    )


# What this revision computes, frozen as the code was when it was written (storage/archive.py
# `content_digest`, storage/neardup.py, storage/fulltext.py, now storage/search/index.py): an
# upgrade must not change with later code. The running code still computes the same values
# (tests/test_storage.py: the same pages after an upgrade from 0001 are unchanged); should it
# ever change them, a new revision recomputes, and this one stays as it is.


def _content_digest(title: str, published_on: date | None, body: str, captions: list[str]) -> str:
    payload = json.dumps(
        [title, published_on.isoformat() if published_on else None, body, captions],
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


# Search index: Chinese runs as bigrams plus the last character; PostgreSQL's tsvector built
# from the same text, cut as FTS5's unicode61 cuts it.
CREATE_FTS_POSTGRESQL = (
    "CREATE TABLE articles_fts ("
    "article_id INTEGER NOT NULL PRIMARY KEY REFERENCES article (id) ON DELETE CASCADE, "
    "document TSVECTOR NOT NULL, complete BOOLEAN NOT NULL)",
    "CREATE INDEX ix_articles_fts_document ON articles_fts USING gin (document)",
)
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_TERM = re.compile(r"[^\W_]+")
_DIACRITICS = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_MAX_POSITION = 16383
_MAX_POSITIONS = 256


def _cjk_terms(run: str) -> str:
    if len(run) == 1:
        return run
    return " ".join([run[i : i + 2] for i in range(len(run) - 1)] + [run[-1]])


def _index_text(value: str) -> str:
    return _CJK_RUN.sub(lambda match: f" {_cjk_terms(match.group())} ", value)


def _terms(value: str) -> list[str]:
    if not value.isascii():
        value = _DIACRITICS.sub("", unicodedata.normalize("NFD", value))
    return _TERM.findall(value.lower())


def _quote_term(term: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def _document(title: str, body: str) -> tuple[str, bool]:
    positions: dict[str, list[str]] = defaultdict(list)
    position, complete = 0, True
    for field, weight in ((title, "A"), (body, "B")):
        for term in _terms(_index_text(field)):
            position += 1
            places = positions[term]
            if position > _MAX_POSITION or len(places) == _MAX_POSITIONS:
                complete = False
            if len(places) < _MAX_POSITIONS and (position <= _MAX_POSITION or not places):
                places.append(f"{min(position, _MAX_POSITION)}{weight}")
        position += 1
    vector = " ".join(
        f"{_quote_term(term)}:{','.join(places)}" for term, places in positions.items()
    )
    return vector, complete


def _index_article(connection: sa.Connection, article_id: int, title: str, body: str) -> None:
    if connection.dialect.name == "postgresql":
        vector, complete = _document(title, body)
        connection.execute(
            sa.text(
                "INSERT INTO articles_fts (article_id, document, complete) "
                "VALUES (:id, CAST(:document AS tsvector), :complete)"
            ),
            {"id": article_id, "document": vector, "complete": complete},
        )
        return
    connection.execute(
        sa.text("INSERT INTO articles_fts (rowid, title, body) VALUES (:id, :title, :body)"),
        {"id": article_id, "title": _index_text(title), "body": _index_text(body)},
    )


# Near-duplicates: SimHash and MinHash-LSH band keys of the body's word pairs (16 bands of 4
# rows), in fixed 64-bit arithmetic (a polynomial over code points, splitmix64).
_SHINGLE, _BANDS, _ROWS = 2, 16, 4
_PERMUTATIONS = _BANDS * _ROWS
_SEPARATOR, _LETTER, _IDEOGRAPH, _DROPPED = 0, 1, 2, 3
_IDEOGRAPHS = [(0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF)]
_APOSTROPHES = "'`\u2018\u2019\u02bc\u2032"
_BASE = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    x = (x ^ (x >> np.uint64(30))) * _MIX1
    x = (x ^ (x >> np.uint64(27))) * _MIX2
    return x ^ (x >> np.uint64(31))


_PERM_A = _mix(np.arange(1, _PERMUTATIONS + 1, dtype=np.uint64) * _BASE) | np.uint64(1)
_PERM_B = _mix(np.arange(_PERMUTATIONS + 1, 2 * _PERMUTATIONS + 1, dtype=np.uint64) * _BASE)


@cache
def _classes() -> np.ndarray:
    table = np.fromiter((chr(c).isalnum() for c in range(0x10000)), np.uint8) * _LETTER
    for first, last in _IDEOGRAPHS:
        table[first : last + 1] = np.where(table[first : last + 1], _IDEOGRAPH, _SEPARATOR)
    table[[ord(c) for c in _APOSTROPHES]] = _DROPPED
    return np.append(table, np.uint8(_IDEOGRAPH))


def _word_hashes(text: str) -> np.ndarray:
    normal = unicodedata.normalize("NFKC", text).lower()
    codes = np.frombuffer(normal.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    kinds = _classes()[np.minimum(codes, 0x10000)]
    codes, kinds = codes[kinds != _DROPPED], kinds[kinds != _DROPPED]
    in_word = kinds != _SEPARATOR
    before = np.concatenate((np.zeros(1, np.uint8), kinds[:-1]))
    starts = in_word & ((before == _SEPARATOR) | (before == _IDEOGRAPH) | (kinds == _IDEOGRAPH))
    first = np.flatnonzero(starts[in_word])
    if not len(first):
        return np.empty(0, np.uint64)
    word_of = np.cumsum(starts[in_word]) - 1
    position = np.arange(len(word_of)) - first[word_of]
    powers = np.cumprod(np.full(int(position.max()) + 1, _BASE, np.uint64))
    terms = (codes[in_word].astype(np.uint64) + np.uint64(1)) * powers[position]
    return _mix(np.add.reduceat(terms, first))


def _shingle_hashes(words: np.ndarray) -> np.ndarray:
    width = min(_SHINGLE, len(words))
    combined = words[: len(words) - width + 1].copy()
    for offset in range(1, width):
        combined = combined * _BASE + words[offset : len(words) - width + 1 + offset]
    ordered = np.sort(_mix(combined))
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]


def _signature(text: str) -> tuple[int, list[int]]:
    """The body's signed 64-bit SimHash (0 without words) and its LSH band keys."""
    words = _word_hashes(text)
    if not len(words):
        return 0, []
    shingles = _shingle_hashes(words)
    octets = shingles.astype("<u8").view(np.uint8)
    matrix = np.unpackbits(octets, bitorder="little").reshape(-1, 64).astype(np.float32)
    ones = np.ones(len(shingles), np.float32) @ matrix
    bits = np.packbits(ones * 2 > len(shingles), bitorder="little")
    simhash = int.from_bytes(bits.tobytes(), "little", signed=True)
    values = np.multiply(_PERM_A[:, None], shingles[None, :])
    np.add(values, _PERM_B[:, None], out=values)
    rows = values.min(axis=1).reshape(_BANDS, _ROWS)
    combined = rows[:, 0]
    for column in range(1, _ROWS):
        combined = _mix(combined * _BASE + rows[:, column])
    keys = (combined & ~np.uint64(0xF)) | np.arange(_BANDS, dtype=np.uint64)
    return simhash, [int(key) - (1 << 64) if key >> 63 else int(key) for key in keys.tolist()]
