"""What the spiders hand to the pipelines. Each item type has its path through them
(`govcrawler.pipelines.PATHS`): a new type needs one, or the pipelines refuse it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from govcrawler.extract.model import Article, Document

if TYPE_CHECKING:
    from govcrawler.crawl.spoolfiles import Spooled


@dataclass(frozen=True)
class Fetch:
    """A response as received, kept as a raw capture in the archive."""

    url: str
    final_url: str
    status: int
    fetched_at: datetime
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    # The request it answers: the list API is asked by POST, its query in the body (None
    # for a GET), and the archive tells one query's answers from another's by them.
    method: str = "GET"
    request_body: bytes | None = None


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
    """A home, channel or list page, or an answer of the list API, as fetched: kept as a
    capture (a revisit when unchanged), so the archive shows what the site listed on a given
    day."""

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


@dataclass(frozen=True)
class FileFetch:
    """An attachment or image an archived page links, as fetched: its body streamed to disk
    (`spooled`, `govcrawler.crawl.spool.Spooled`; None when the answer had none to keep, as a
    304 or a redirect), read for its kind and text before it is archived (`read`)."""

    url: str
    final_url: str
    status: int
    fetched_at: datetime
    headers: dict[str, str]
    role: str  # "attachment" or "image"
    spooled: Spooled | None = None
    read: FileRead | None = None


@dataclass(frozen=True)
class FileRead:
    """What a stored file's bytes are and the text read from them (off the crawl's thread)."""

    kind: str  # from the bytes: pdf docx xlsx ... image html text
    media_type: str  # the MIME type the bytes are
    text: str | None = None  # None: not read (an image, a file kept without reading)
    status: str = "not_read"  # ok, no_text_layer, encrypted, corrupt, unsupported, not_read
    pages: int | None = None
    library: str = ""
    reason: str = ""
