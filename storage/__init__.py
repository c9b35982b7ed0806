"""govcrawler's archive: SQLAlchemy models and the functions that write and read it.

Importable on its own (no Scrapy, no govcrawler): `import storage` is all a researcher needs.
"""

from storage.archive import (
    ArticleRecord,
    Outcome,
    count_aliases,
    count_articles,
    record_article,
    record_column,
)
from storage.db import (
    create_archive_engine,
    head_revision,
    open_archive,
    schema_revision,
    session_factory,
    upgrade_archive,
)
from storage.errors import ArchiveError
from storage.models import Article, ArticleAlias, Base, SiteColumn

__all__ = [
    "ArchiveError",
    "Article",
    "ArticleAlias",
    "ArticleRecord",
    "Base",
    "Outcome",
    "SiteColumn",
    "count_aliases",
    "count_articles",
    "create_archive_engine",
    "head_revision",
    "open_archive",
    "record_article",
    "record_column",
    "schema_revision",
    "session_factory",
    "upgrade_archive",
]
