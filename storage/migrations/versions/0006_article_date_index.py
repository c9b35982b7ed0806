"""An index of articles by publication date, for searches and queries that filter by date.

A search that matches most of the archive and is filtered by date walks the index's matches
newest first until it has its hits; for an old date range that meant walking every newer match
(Sichuan in 2015: 180 ms at 140,000 articles, ~1.3 s at a million). `storage.search` now reads
the range of article ids the dates cover from this index and walks only those matches. The
`articles` view filtered by date alone (the way Datasette and pandas users filter) uses it too.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEX = "ix_article_published_on"


def upgrade() -> None:
    op.create_index(INDEX, "article", ["published_on"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="article")
