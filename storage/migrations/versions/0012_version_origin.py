"""Who made a version: `article_version.origin` is `crawl` (the site showed it) or `reextract`
(`govcrawler reextract` read an archived capture again with a newer extraction), and
`article_version.extractor_revision` which extraction made it; `article_change.origin` says the
same of each change, so that our own fix is never listed as an edit by the site. The views
`article_versions` and `field_changes` show them.

Every earlier version and change was a crawl's (`origin` crawl), by an extraction not recorded
(`extractor_revision` NULL). The downgrade drops the columns and keeps every row: a
re-extracted version stays, as a version.

Frozen: this revision carries what it needs and imports nothing from `storage` or `govcrawler`.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

EARLIER_ORIGIN = "crawl"  # before this revision every version was made by a crawl

# As revision 0002 made it, with the two columns at the end.
VERSIONS_COLUMNS = """SELECT v.id AS version_id,
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
       v.id = a.current_version_id AS is_current"""
VERSIONS_FROM = """
FROM article_version AS v
JOIN article AS a ON a.id = v.article_id
"""
ARTICLE_VERSIONS_VIEW = (
    f"CREATE VIEW article_versions AS\n{VERSIONS_COLUMNS},\n       v.origin,\n"
    f"       v.extractor_revision{VERSIONS_FROM}"
)
EARLIER_ARTICLE_VERSIONS_VIEW = (
    f"CREATE VIEW article_versions AS\n{VERSIONS_COLUMNS}{VERSIONS_FROM}"
)

# As revision 0008 made it, with the change's origin at the end.
CHANGES_COLUMNS = """SELECT c.article_id,
       a.url,
       v.title,
       CASE WHEN d.version_id IS NULL THEN 'article' ELSE 'document' END AS kind,
       d.doc_number,
       c.change,
       c.field,
       c.old_value,
       c.new_value,
       c.detected_at,
       c.run_id,
       r.spider,
       c.id AS change_id,
       c.version_id"""
CHANGES_FROM = """
FROM article_change AS c
JOIN article AS a ON a.id = c.article_id
JOIN article_version AS v ON v.id = a.current_version_id
LEFT JOIN document_version AS d ON d.version_id = a.current_version_id
LEFT JOIN crawl_run AS r ON r.id = c.run_id
"""
FIELD_CHANGES_VIEW = (
    f"CREATE VIEW field_changes AS\n{CHANGES_COLUMNS},\n       c.origin{CHANGES_FROM}"
)
EARLIER_FIELD_CHANGES_VIEW = f"CREATE VIEW field_changes AS\n{CHANGES_COLUMNS}{CHANGES_FROM}"

# PostgreSQL's comparison is a boolean, SQLite's 0/1 (as revision 0002 wrote it).
POSTGRESQL = ("v.id = a.current_version_id AS", "CAST(v.id = a.current_version_id AS INTEGER) AS")


def _view(sql: str) -> str:
    if op.get_bind().dialect.name == "postgresql":
        return sql.replace(*POSTGRESQL)
    return sql


def _origin() -> sa.Column[str]:
    # The default stays: dropping it would rebuild article_version on SQLite, under the views
    # that read it; the write path always says the origin anyway.
    return sa.Column("origin", sa.String(length=16), nullable=False, server_default=EARLIER_ORIGIN)


def upgrade() -> None:
    op.execute("DROP VIEW article_versions")
    op.execute("DROP VIEW field_changes")
    op.add_column("article_version", _origin())
    op.add_column("article_version", sa.Column("extractor_revision", sa.Integer(), nullable=True))
    op.add_column("article_change", _origin())
    op.execute(_view(ARTICLE_VERSIONS_VIEW))
    op.execute(_view(FIELD_CHANGES_VIEW))


def downgrade() -> None:
    """Back to 0011: the origins and revisions go, every version and change stays."""
    op.execute("DROP VIEW article_versions")
    op.execute("DROP VIEW field_changes")
    for table, column in (
        ("article_change", "origin"),
        ("article_version", "extractor_revision"),
        ("article_version", "origin"),
    ):
        # Not a batch: SQLite would rebuild the table under the views that read it; its own
        # DROP COLUMN (3.35) keeps the table, as PostgreSQL's does.
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.execute(_view(EARLIER_ARTICLE_VERSIONS_VIEW))
    op.execute(_view(EARLIER_FIELD_CHANGES_VIEW))
