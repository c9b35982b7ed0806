"""The words of SQLite's search index, for reading a prefix as the words it stands for.

FTS5 answers a prefix query (`invest*`) by merging the whole lists of articles of every word in
the range before it returns its first hit: a prefix found in most articles cost 55 ms at 71,000
articles and grows with the archive (benchmarks/RESULTS.md, B3). `articles_fts_words` lists
the index's words (its Chinese terms aside); `storage.search` reads `invest*` as `investing OR
investment OR investors`, which FTS5 walks newest first and stops. The table is filled here
from the index's own vocabulary (`fts5vocab`), then by the write path as articles are indexed.

PostgreSQL needs no such table (its index is not FTS5): nothing changes there.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

CREATE = "CREATE TABLE articles_fts_words (term TEXT NOT NULL PRIMARY KEY) WITHOUT ROWID"
# Chinese as `storage.fulltext.CJK_RUN` has it at this revision: those terms are not words.
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
BATCH = 5000


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    connection = op.get_bind()
    op.execute(CREATE)
    op.execute(
        "CREATE VIRTUAL TABLE temp.articles_fts_vocabulary USING fts5vocab(main, articles_fts, row)"
    )
    terms = connection.execute(sa.text("SELECT term FROM temp.articles_fts_vocabulary"))
    insert = sa.text("INSERT INTO articles_fts_words (term) VALUES (:term)")
    while batch := terms.fetchmany(BATCH):
        words = [{"term": term} for (term,) in batch if not CJK.search(term)]
        if words:
            connection.execute(insert, words)
    op.execute("DROP TABLE temp.articles_fts_vocabulary")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE articles_fts_words")
