"""Captures of every kind: `capture.kind` says what a response was (`page`: an article's or a
document's URL; `list`: a home, channel or list page), and the `captures` view shows it, so
that what a column listed on a given day can be read from the archive.

Frozen: this revision carries what it needs and imports nothing from `storage` or `govcrawler`.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

EARLIER_CAPTURES = "page"  # before this revision only article pages were captured
VIEW_COLUMNS = """SELECT c.id,
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
       c.headers"""
VIEW = f"CREATE VIEW captures AS\n{VIEW_COLUMNS},\n       c.kind\nFROM capture AS c\n"
EARLIER_VIEW = f"CREATE VIEW captures AS\n{VIEW_COLUMNS}\nFROM capture AS c\n"
# PostgreSQL's comparison is a boolean, SQLite's 0/1 (as revision 0002 wrote it).
POSTGRESQL = ("c.revisit_of IS NOT NULL AS", "CAST(c.revisit_of IS NOT NULL AS INTEGER) AS")


def _view(sql: str) -> str:
    if op.get_bind().dialect.name == "postgresql":
        return sql.replace(*POSTGRESQL)
    return sql


def upgrade() -> None:
    op.execute("DROP VIEW captures")
    with op.batch_alter_table("capture") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default=EARLIER_CAPTURES)
        )
    with op.batch_alter_table("capture") as batch:  # new rows always say their kind
        batch.alter_column("kind", existing_type=sa.String(length=16), server_default=None)
    op.execute(_view(VIEW))


def downgrade() -> None:
    op.execute("DROP VIEW captures")
    with op.batch_alter_table("capture") as batch:
        batch.drop_column("kind")
    op.execute(_view(EARLIER_VIEW))
