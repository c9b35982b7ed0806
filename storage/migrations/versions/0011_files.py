"""Files: the attachments and images pages link, fetched and kept.

`site_file` is a file URL and its state, `file_blob` a file's bytes once per sha256 (in
`file_chunk`, zlib of ≤ 1 MiB raw each) with the text read from them, `file_link` which page
links which file. A file's capture (`capture.kind` attachment|image) keeps no body: its
`body_sha256` names the blob; `capture.omitted` says why a response kept none (too_large, cut).
`files_fts` indexes file texts as `articles_fts` indexes articles (filled by
`storage.search.files`). Views: `attachments` (one row per link), `captures` with `omitted`.

A capture also says how it was requested: `method` (`GET` for every earlier row) and
`request_body` (NULL for a GET), so that the list API's answers to `POST` queries with a JSON
body can be kept, one query apart from another at the same URL, and exported with their request.

Frozen: this revision carries what it needs and imports nothing from `storage` or `govcrawler`.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

CAPTURE_COLUMNS = """SELECT c.id,
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
       c.headers,
       c.kind"""
CAPTURES_VIEW = (
    f"CREATE VIEW captures AS\n{CAPTURE_COLUMNS},\n       c.omitted,\n       c.method\n"
    "FROM capture AS c\n"
)
EARLIER_CAPTURES_VIEW = f"CREATE VIEW captures AS\n{CAPTURE_COLUMNS}\nFROM capture AS c\n"

EARLIER_METHOD = "GET"  # before this revision only GET requests were captured

# One row per (page, file) link; a file not fetched yet has no blob (its columns NULL), a
# too large one shows the length it declared.
ATTACHMENTS_VIEW = """CREATE VIEW attachments AS
SELECT l.article_id,
       CASE WHEN d.version_id IS NULL THEN 'article' ELSE 'document' END AS page_type,
       a.url AS page_url,
       v.title,
       l.role,
       l.name,
       f.url,
       f.declared_type,
       b.media_type,
       COALESCE(b.length, f.declared_length) AS length,
       b.sha256,
       f.state,
       f.status,
       b.text_status,
       length(b.text) AS text_length,
       l.first_seen_at,
       l.last_seen_at
FROM file_link AS l
JOIN article AS a ON a.id = l.article_id
JOIN site_file AS f ON f.id = l.file_id
LEFT JOIN article_version AS v ON v.id = a.current_version_id
LEFT JOIN document_version AS d ON d.version_id = a.current_version_id
LEFT JOIN file_blob AS b ON b.id = f.current_blob_id
"""

# As articles_fts (revisions 0002, 0005): contentless FTS5, rowid = file_blob.id.
CREATE_FTS = (
    "CREATE VIRTUAL TABLE files_fts USING fts5("
    "name, text, content='', tokenize='unicode61 remove_diacritics 2')",
)
CREATE_FTS_POSTGRESQL = (
    "CREATE TABLE files_fts ("
    "blob_id INTEGER NOT NULL PRIMARY KEY REFERENCES file_blob (id) ON DELETE CASCADE, "
    "document TSVECTOR NOT NULL, complete BOOLEAN NOT NULL)",
    "CREATE INDEX ix_files_fts_document ON files_fts USING gin (document)",
)
# PostgreSQL's comparison is a boolean, SQLite's 0/1 (as revision 0002 wrote it).
POSTGRESQL = ("c.revisit_of IS NOT NULL AS", "CAST(c.revisit_of IS NOT NULL AS INTEGER) AS")


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _view(sql: str) -> str:
    return sql.replace(*POSTGRESQL) if _postgresql() else sql


def _utc(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(), nullable=nullable)


def _create_blob_tables() -> None:
    op.create_table(
        "file_blob",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("stored_length", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=True),
        sa.Column("media_type", sa.Text(), nullable=True),
        _utc("first_stored_at"),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("text_status", sa.String(length=16), nullable=True),
        sa.Column("text_pages", sa.Integer(), nullable=True),
        sa.Column("text_library", sa.Text(), nullable=True),
        sa.Column("text_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_file_blob"),
        sa.UniqueConstraint("sha256", name="uq_file_blob_sha256"),
    )
    op.create_table(
        "file_chunk",
        sa.Column("blob_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["blob_id"],
            ["file_blob.id"],
            name="fk_file_chunk_blob_id_file_blob",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("blob_id", "seq", name="pk_file_chunk"),
    )


def _create_file_tables() -> None:
    op.create_table(
        "site_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        _utc("first_seen_at"),
        _utc("last_seen_at"),
        _utc("last_fetched_at", nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        _utc("gone_at", nullable=True),
        sa.Column("current_blob_id", sa.Integer(), nullable=True),
        sa.Column("last_capture_id", sa.Integer(), nullable=True),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("declared_type", sa.Text(), nullable=True),
        sa.Column("declared_length", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["current_blob_id"], ["file_blob.id"], name="fk_site_file_current_blob_id_file_blob"
        ),
        sa.ForeignKeyConstraint(
            ["last_capture_id"], ["capture.id"], name="fk_site_file_last_capture_id_capture"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_site_file"),
        sa.UniqueConstraint("url", name="uq_site_file_url"),
    )
    op.create_table(
        "file_link",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        _utc("first_seen_at"),
        _utc("last_seen_at"),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["article.id"],
            name="fk_file_link_article_id_article",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["file_id"], ["site_file.id"], name="fk_file_link_file_id_site_file", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("article_id", "file_id", name="pk_file_link"),
    )
    op.create_index("ix_file_link_file_id", "file_link", ["file_id"])
    op.create_index("ix_site_file_current_blob_id", "site_file", ["current_blob_id"])


def upgrade() -> None:
    op.execute("DROP VIEW captures")
    with op.batch_alter_table("capture") as batch:
        batch.add_column(sa.Column("omitted", sa.String(length=16), nullable=True))
        batch.add_column(
            sa.Column("method", sa.String(length=8), nullable=False, server_default=EARLIER_METHOD)
        )
        batch.add_column(sa.Column("request_body", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("capture") as batch:  # new rows always say their method
        batch.alter_column("method", existing_type=sa.String(length=8), server_default=None)
    _create_blob_tables()
    _create_file_tables()
    for statement in CREATE_FTS_POSTGRESQL if _postgresql() else CREATE_FTS:
        op.execute(statement)
    op.execute(_view(CAPTURES_VIEW))
    op.execute(ATTACHMENTS_VIEW)


def downgrade() -> None:
    """Back to 0010: the files go (their captures stay, as captures of their URLs), and so do
    the requests' methods and bodies (a POST's answer stays, as a capture of its URL)."""
    op.execute("DROP VIEW attachments")
    op.execute("DROP VIEW captures")
    op.execute("DROP TABLE files_fts")
    op.drop_index("ix_file_link_file_id", table_name="file_link")
    op.drop_index("ix_site_file_current_blob_id", table_name="site_file")
    for table in ("file_link", "site_file", "file_chunk", "file_blob"):
        op.drop_table(table)
    with op.batch_alter_table("capture") as batch:
        batch.drop_column("request_body")
        batch.drop_column("method")
        batch.drop_column("omitted")
    op.execute(_view(EARLIER_CAPTURES_VIEW))
