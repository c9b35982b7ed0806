"""Reading views: `article_list` and `document_list`, a list of articles and one of documents
with the few columns a researcher reads a list by (an excerpt of the body instead of the body).

`articles` and `documents` keep every column for queries; Datasette shows these two first (a
row of `articles` in a browser is the whole body, thousands of pixels tall). Both are built on
the tables, not on those views, so that a later revision can replace either view alone.

Frozen: this revision carries what it needs and imports nothing from `storage` or `govcrawler`.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

EXCERPT_CHARACTERS = 160
# The body's start on one line: paragraphs joined by a space, an ellipsis when there is more.
EXCERPT = (
    f"replace(replace(substr(v.body, 1, {EXCERPT_CHARACTERS}), char(10) || char(10), ' '), "
    f"char(10), ' ') || CASE WHEN length(v.body) > {EXCERPT_CHARACTERS} THEN '…' ELSE '' END"
)

ARTICLE_LIST_VIEW = f"""
CREATE VIEW article_list AS
SELECT a.id,
       a.published_on,
       v.title,
       COALESCE(c.name, v.page_column_name) AS column_name,
       {EXCERPT} AS excerpt,
       v.language,
       a.published_year AS year,
       a.url
FROM article AS a
JOIN article_version AS v ON v.id = a.current_version_id
LEFT JOIN site_column AS c ON c.column_id = a.column_id
"""

DOCUMENT_LIST_VIEW = f"""
CREATE VIEW document_list AS
SELECT a.id,
       d.published_on,
       d.doc_number,
       v.title,
       d.issuer,
       d.validity,
       {EXCERPT} AS excerpt,
       d.doc_series,
       CAST(strftime('%Y', d.published_on) AS INTEGER) AS year,
       d.abolished_on,
       v.version_no AS versions,
       a.url
FROM article AS a
JOIN article_version AS v ON v.id = a.current_version_id
JOIN document_version AS d ON d.version_id = a.current_version_id
"""

VIEWS = {"article_list": ARTICLE_LIST_VIEW, "document_list": DOCUMENT_LIST_VIEW}
POSTGRESQL_EXPRESSIONS = {
    "char(10)": "chr(10)",
    "CAST(strftime('%Y', d.published_on) AS INTEGER)": (
        "CAST(EXTRACT(YEAR FROM d.published_on) AS INTEGER)"
    ),
}


def _views(dialect: str) -> list[str]:
    views = list(VIEWS.values())
    if dialect == "postgresql":
        for sqlite, postgresql in POSTGRESQL_EXPRESSIONS.items():
            views = [view.replace(sqlite, postgresql) for view in views]
    return views


def upgrade() -> None:
    for view in _views(op.get_bind().dialect.name):
        op.execute(view)


def downgrade() -> None:
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {name}")
