"""First schema: articles, their alias URLs, column names, and the `articles` view.

Datetimes are naive UTC text (storage.types.UTCDateTime); the view is the researcher-facing
shape documented in docs/schema.md.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


ARTICLES_VIEW = """
CREATE VIEW articles AS
SELECT a.id,
       a.url,
       a.title,
       a.published_on,
       a.column_id,
       COALESCE(c.name, a.page_column_name) AS column_name,
       a.body,
       a.language,
       a.canonical_id,
       (SELECT COUNT(*) FROM article_alias AS al WHERE al.article_id = a.id) AS alias_count,
       a.first_seen_at,
       a.last_seen_at
FROM article AS a
LEFT JOIN site_column AS c ON c.column_id = a.column_id
"""


def upgrade() -> None:
    op.create_table(
        "article",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("canonical_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("column_id", sa.String(length=64), nullable=True),
        sa.Column("page_column_name", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("captions", sa.JSON(), nullable=False),
        sa.Column("images", sa.JSON(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("extraction_path", sa.String(length=16), nullable=False),
        sa.Column("body_digest", sa.String(length=64), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article")),
        sa.UniqueConstraint("canonical_id", name=op.f("uq_article_canonical_id")),
        sa.UniqueConstraint("url", name=op.f("uq_article_url")),
    )
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_article_body_digest"), ["body_digest"], unique=False)
        batch_op.create_index(batch_op.f("ix_article_column_id"), ["column_id"], unique=False)

    op.create_table(
        "site_column",
        sa.Column("column_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("list_url", sa.Text(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("column_id", name=op.f("pk_site_column")),
    )
    op.create_table(
        "article_alias",
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("canonical_id", sa.String(length=64), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["article.id"],
            name=op.f("fk_article_alias_article_id_article"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("url", name=op.f("pk_article_alias")),
    )
    with op.batch_alter_table("article_alias", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_article_alias_article_id"), ["article_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_article_alias_canonical_id"), ["canonical_id"], unique=False
        )
    op.execute(ARTICLES_VIEW)


def downgrade() -> None:
    op.execute("DROP VIEW articles")
    with op.batch_alter_table("article_alias", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_article_alias_canonical_id"))
        batch_op.drop_index(batch_op.f("ix_article_alias_article_id"))

    op.drop_table("article_alias")
    op.drop_table("site_column")
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_article_column_id"))
        batch_op.drop_index(batch_op.f("ix_article_body_digest"))

    op.drop_table("article")
