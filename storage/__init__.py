"""govcrawler's archive: SQLAlchemy models and the functions that write and read it.

Importable on its own (no Scrapy, no govcrawler): `import storage` is all a researcher needs.
"""

from storage.archive import (
    ArticleRecord,
    Outcome,
    Result,
    content_digest,
    count_aliases,
    count_articles,
    record_article,
    record_column,
    record_gone,
    record_not_modified,
)
from storage.captures import CaptureRecord, capture_body, record_capture
from storage.db import (
    create_archive_engine,
    head_revision,
    open_archive,
    schema_revision,
    session_factory,
    upgrade_archive,
)
from storage.documents import DocumentRecord, quoted_in
from storage.exceptions import ArchiveError
from storage.models import (
    Article,
    ArticleAlias,
    ArticleChange,
    ArticleVersion,
    Base,
    Capture,
    CrawlRun,
    DocumentReference,
    DocumentVersion,
    NearDuplicate,
    NearDuplicateBand,
    SiteColumn,
)
from storage.writing import ArchiveSession

__all__ = [
    "ArchiveError",
    "ArchiveSession",
    "Article",
    "ArticleAlias",
    "ArticleChange",
    "ArticleRecord",
    "ArticleVersion",
    "Base",
    "Capture",
    "CaptureRecord",
    "CrawlRun",
    "DocumentRecord",
    "DocumentReference",
    "DocumentVersion",
    "NearDuplicate",
    "NearDuplicateBand",
    "Outcome",
    "Result",
    "SiteColumn",
    "capture_body",
    "content_digest",
    "count_aliases",
    "count_articles",
    "create_archive_engine",
    "head_revision",
    "open_archive",
    "quoted_in",
    "record_article",
    "record_capture",
    "record_column",
    "record_gone",
    "record_not_modified",
    "schema_revision",
    "session_factory",
    "upgrade_archive",
]
