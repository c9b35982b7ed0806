"""Versions, captures, near-duplicates, full-text search.

Every article's content moves into `article_version` (version 1, same times); `article` keeps
identity, the current version, the SimHash and `withdrawn_at`. New tables: `capture` (raw
responses), `near_duplicate` and `near_duplicate_band`; the contentless FTS5 index `articles_fts`;
the views `articles` (now with version_count, withdrawn_at, year), `article_versions` and
`captures`. Existing articles are indexed for search and near-duplicates on the way.

PostgreSQL gets the same tables; its search index `articles_fts` is a table with a tsvector and
a GIN index (storage.search.index), and its views compute the year and the 0/1 flags its own way.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa
from alembic import op

# The index text, the content digest and the SimHash must be the very functions the running
# code uses, or the first crawl after the upgrade would see every article as changed.
from storage.archive import content_digest
from storage.neardup import fingerprint, lsh_keys
from storage.search.index import CREATE_TABLE_POSTGRESQL as CREATE_FTS_POSTGRESQL
from storage.search.index import index_article

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
        digest = content_digest(title, day, body, captions)
        body_hash = fingerprint(body)
        connection.execute(
            sa.text("UPDATE article_version SET content_digest = :d WHERE id = :id"),
            {"d": digest, "id": version_id},
        )
        connection.execute(
            sa.text("UPDATE article SET simhash = :h WHERE id = :id"),
            {"h": body_hash, "id": article_id},
        )
        index_article(connection, article_id, title, body)
        for key in set(lsh_keys(body)):
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
