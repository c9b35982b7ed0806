"""What the spiders hand to the pipelines. Each item type has its path through them
(`govcrawler.pipelines.PATHS`): a new type needs one, or the pipelines refuse it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from govcrawler.extract.model import Article, Document


@dataclass(frozen=True)
class Fetch:
    """A response as received, kept as a raw capture in the archive."""

    url: str
    final_url: str
    status: int
    fetched_at: datetime
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class ArticlePage:
    """An extracted article and the response it came from."""

    article: Article
    fetch: Fetch


@dataclass(frozen=True)
class PageGone:
    """A 404 or 410 for an article URL: the archive marks the article withdrawn."""

    fetch: Fetch


@dataclass(frozen=True)
class NotModified:
    """A 304 to a conditional revisit: the archived article is still what the site shows."""

    fetch: Fetch


@dataclass(frozen=True)
class UnreadablePage:
    """An article URL whose response gave no article; its capture is kept for diagnosis."""

    fetch: Fetch
    reason: str


@dataclass(frozen=True)
class ListPage:
    """A home, channel or list page as fetched: kept as a capture (a revisit when unchanged),
    so the archive shows what the site listed on a given day."""

    fetch: Fetch


@dataclass(frozen=True)
class ColumnLabel:
    """A column's name as the site's navigation shows it, learned from a link to its list."""

    column_id: str
    name: str
    list_url: str


@dataclass
class DocumentPage:
    """An extracted 政务公开 document (SITE-ZH §3) and the response it came from."""

    document: Document
    fetch: Fetch
