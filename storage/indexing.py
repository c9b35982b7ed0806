"""The search-index changes of a write transaction, queued and written just before it commits
(`storage.search.index` holds what goes in)."""

from __future__ import annotations

from sqlalchemy import Connection, event
from sqlalchemy.orm import Session

from storage.search import index as fulltext
from storage.writing import ArchiveSession, per_transaction


class SearchIndex:
    """The search-index changes of a transaction, written just before it commits.

    FTS5 flushes its in-memory index to a new on-disk segment whenever a statement opens a
    statement journal (any UPDATE with foreign keys does): an index insert among each
    article's other writes cost ~2 ms and left one small segment per article. Queued and
    written together at commit, a batch makes one segment. What a reader sees in the archive
    and in its index still agrees at every commit; a rollback drops the queue with the rest.
    """

    def __init__(self) -> None:
        self.changes: list[tuple[bool, int, str, str]] = []

    def add(self, article_id: int, title: str, body: str) -> None:
        self.changes.append((True, article_id, title, body))

    def remove(self, article_id: int, title: str, body: str) -> None:
        """`title` and `body` as they were indexed (a contentless index needs them)."""
        self.changes.append((False, article_id, title, body))

    def write(self, db: Connection) -> None:
        changes, self.changes = self.changes, []
        words: set[str] = set()
        for added, article_id, title, body in changes:
            if added:
                words |= fulltext.index_article(db, article_id, title, body)
            else:
                fulltext.unindex_article(db, article_id, title, body)
        fulltext.add_words(db, words)


# Dropped with the transaction however it ends: a reused session must not index articles it
# never committed.
_PENDING_SEARCH = per_transaction("storage.indexing.search_index")


def search_index(session: Session) -> SearchIndex:
    index = session.info.get(_PENDING_SEARCH)
    if index is None:
        index = session.info[_PENDING_SEARCH] = SearchIndex()
    return index


@event.listens_for(ArchiveSession, "before_commit")
def _write_search_index(session: Session) -> None:
    index = session.info.get(_PENDING_SEARCH)
    if index is not None and index.changes:
        index.write(session.connection())
