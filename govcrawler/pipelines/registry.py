"""Every item type's path, by type: govcrawler's and those named by `GOVCRAWLER_ITEM_PATHS`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.utils.misc import load_object

from govcrawler.items import (
    ArticlePage,
    ColumnLabel,
    DocumentPage,
    FileFetch,
    ListPage,
    NotModified,
    PageGone,
    UnreadablePage,
)
from govcrawler.pipelines.articles import (
    archive_article,
    archive_gone,
    archive_label,
    archive_list,
    archive_not_modified,
    archive_unreadable,
    clean_article,
    invalid_article,
)
from govcrawler.pipelines.documents import archive_document, clean_document, invalid_document
from govcrawler.pipelines.files import archive_file, file_url, release_file
from govcrawler.pipelines.path import ItemPath

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

PATHS: tuple[ItemPath[Any], ...] = (
    ItemPath(
        ArticlePage,
        url=lambda item: item.article.url,
        clean=clean_article,
        validate=invalid_article,
        dedupe=True,
        archive=archive_article,
    ),
    ItemPath(
        DocumentPage,
        url=lambda item: item.document.url,
        clean=clean_document,
        validate=invalid_document,
        dedupe=True,
        archive=archive_document,
    ),
    ItemPath(PageGone, url=lambda item: item.fetch.url, archive=archive_gone),
    ItemPath(NotModified, url=lambda item: item.fetch.url, archive=archive_not_modified),
    ItemPath(UnreadablePage, url=lambda item: item.fetch.url, archive=archive_unreadable),
    ItemPath(ListPage, url=lambda item: item.fetch.url, archive=archive_list),
    ItemPath(ColumnLabel, url=lambda item: item.list_url, archive=archive_label),
    ItemPath(FileFetch, url=file_url, archive=archive_file, release=release_file),
)


def item_paths(settings: BaseSettings) -> dict[type, ItemPath[Any]]:
    """govcrawler's paths and those named by `GOVCRAWLER_ITEM_PATHS`, by item type."""
    paths = {path.item_type: path for path in PATHS}
    for name in settings.getlist("GOVCRAWLER_ITEM_PATHS"):
        path = load_object(name)
        if not isinstance(path, ItemPath):
            raise ValueError(f"GOVCRAWLER_ITEM_PATHS: {name} is not an ItemPath")
        if path.item_type in paths:
            raise ValueError(f"GOVCRAWLER_ITEM_PATHS: {name} gives a second path for its type")
        paths[path.item_type] = path
    return paths
