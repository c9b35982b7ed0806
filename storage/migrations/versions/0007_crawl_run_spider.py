"""The spider of each crawl run: recovery and the health baselines are per spider.

A crash of one spider must not make another one read every list page again, and one spider's
columns must not be missed in another one's health checks. Every run before this revision was
a run of the English spider, `sc_open_governance`. The index serves "the latest runs of this
spider".

Frozen: this revision carries what it needs and imports nothing from `storage` or `govcrawler`.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

EARLIER_RUNS = "sc_open_governance"  # the only spider before this revision
INDEX = "ix_crawl_run_spider_started_at"


def upgrade() -> None:
    with op.batch_alter_table("crawl_run") as batch:
        batch.add_column(
            sa.Column("spider", sa.String(length=64), nullable=False, server_default=EARLIER_RUNS)
        )
    with op.batch_alter_table("crawl_run") as batch:  # new rows always name their spider
        batch.alter_column("spider", existing_type=sa.String(length=64), server_default=None)
        batch.create_index(INDEX, ["spider", "started_at"])


def downgrade() -> None:
    with op.batch_alter_table("crawl_run") as batch:
        batch.drop_index(INDEX)
        batch.drop_column("spider")
