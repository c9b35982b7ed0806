"""Item pipelines: clean → validate → dedupe → archive, one path per item type.

Each item type has an `ItemPath` (`path`): what cleaning, validation and de-duplication it gets
(a stage it skips says so, as `None`) and how it is archived. Every pipeline (`stages`) looks
the item's exact type up in the same table (`registry`); a type without a path is a programming
error and raises `TypeError`, never passes through unarchived. Item types of spiders outside
govcrawler bring their paths through `GOVCRAWLER_ITEM_PATHS`. The paths of articles and of
documents are in `articles` and `documents`.
"""

from govcrawler.pipelines.archive import ArchivePipeline
from govcrawler.pipelines.articles import (
    archive_article,
    archive_capture,
    article_record,
    capture_record,
    clean_article,
    invalid_article,
)
from govcrawler.pipelines.documents import (
    archive_document,
    clean_document,
    document_record,
    invalid_document,
)
from govcrawler.pipelines.path import ItemPath, Paths, run_of
from govcrawler.pipelines.registry import PATHS, item_paths
from govcrawler.pipelines.stages import (
    CleanPipeline,
    DedupePipeline,
    ValidatePipeline,
)

__all__ = [
    "PATHS",
    "ArchivePipeline",
    "CleanPipeline",
    "DedupePipeline",
    "ItemPath",
    "Paths",
    "ValidatePipeline",
    "archive_article",
    "archive_capture",
    "archive_document",
    "article_record",
    "capture_record",
    "clean_article",
    "clean_document",
    "document_record",
    "invalid_article",
    "invalid_document",
    "item_paths",
    "run_of",
]
