"""The article's current date on its own row, indexed with its column; the search index
without prefix indexes.

`article.published_on` and `article.published_year` repeat the current version's date (the
write path keeps them in step), so "a column's articles of a year, newest first" — the query a
researcher or Datasette runs on the `articles` view — is one index range,
`(column_id, published_year, published_on)`, instead of a scan of the column joined with its
versions (50 ms at 30,000 articles and growing linearly: benchmarks/RESULTS.md, B3). The
`articles` view takes `published_on` and `year` from the article row.

SQLite's `articles_fts` is rebuilt without `prefix='2 3'`: those indexes of every term's two-
and three-character prefixes held 55 % of the index (8.4 KB of 8.4 KB+3.8 KB per article of
6.7 KB of text) and served only queries of two- or three-character prefixes (`in*`); a longer
prefix (`invest*`) or a single Chinese character (`"四"*`) is a range of the main index either
way.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

INDEX = "ix_article_column_id_published_year"

ARTICLES_VIEW = """
CREATE VIEW articles AS
SELECT a.id,
       a.url,
       v.title,
       a.published_on,
       a.published_year AS year,
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

# The view as revision 0002 made it (for downgrade), in each database's SQL.
ARTICLES_VIEW_0002 = {
    dialect: ARTICLES_VIEW.replace("a.published_on,", "v.published_on,").replace(
        "a.published_year AS year", f"CAST({year} AS INTEGER) AS year"
    )
    for dialect, year in (
        ("sqlite", "strftime('%Y', v.published_on)"),
        ("postgresql", "EXTRACT(YEAR FROM v.published_on)"),
    )
}

FTS_0002 = (
    "CREATE VIRTUAL TABLE articles_fts USING fts5("
    "title, body, content='', tokenize='unicode61 remove_diacritics 2', prefix='2 3')"
)
FTS = (
    "CREATE VIRTUAL TABLE articles_fts USING fts5("
    "title, body, content='', tokenize='unicode61 remove_diacritics 2')"
)
REINDEX_BATCH = 2000

YEAR_OF = {
    "sqlite": "CAST(strftime('%Y', published_on) AS INTEGER)",
    "postgresql": "CAST(EXTRACT(YEAR FROM published_on) AS INTEGER)",
}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute("DROP VIEW articles")
    op.add_column("article", sa.Column("published_on", sa.Date(), nullable=True))
    op.add_column("article", sa.Column("published_year", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE article SET published_on = (SELECT v.published_on FROM article_version AS v "
        "WHERE v.id = article.current_version_id)"
    )
    op.execute(f"UPDATE article SET published_year = {YEAR_OF[dialect]}")
    op.create_index(INDEX, "article", ["column_id", "published_year", "published_on"])
    op.execute(ARTICLES_VIEW)
    if dialect == "sqlite":
        _rebuild_search_index(FTS)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute("DROP VIEW articles")
    op.drop_index(INDEX, table_name="article")
    # A plain ALTER TABLE (SQLite 3.35+): a batch copy of `article` would trip on the views.
    op.execute("ALTER TABLE article DROP COLUMN published_year")
    op.execute("ALTER TABLE article DROP COLUMN published_on")
    op.execute(ARTICLES_VIEW_0002.get(dialect, ARTICLES_VIEW_0002["sqlite"]))
    if dialect == "sqlite":
        _rebuild_search_index(FTS_0002)


def _rebuild_search_index(create: str) -> None:
    """A contentless index cannot be altered: made anew from the current versions."""
    connection = op.get_bind()
    op.execute("DROP TABLE articles_fts")
    op.execute(create)
    rows = connection.execute(
        sa.text(
            "SELECT a.id, v.title, v.body FROM article AS a "
            "JOIN article_version AS v ON v.id = a.current_version_id ORDER BY a.id"
        )
    )
    insert = sa.text("INSERT INTO articles_fts (rowid, title, body) VALUES (:id, :title, :body)")
    while batch := rows.fetchmany(REINDEX_BATCH):
        connection.execute(
            insert,
            [{"id": i, "title": _index_text(t), "body": _index_text(b)} for i, t, b in batch],
        )


# The index text as this revision wrote it (storage/fulltext.py `index_text` then, unchanged in
# storage/search/index.py since): Chinese runs as bigrams plus the run's last character.
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def _cjk_terms(run: str) -> str:
    if len(run) == 1:
        return run
    return " ".join([run[i : i + 2] for i in range(len(run) - 1)] + [run[-1]])


def _index_text(value: str) -> str:
    return _CJK_RUN.sub(lambda match: f" {_cjk_terms(match.group())} ", value)
