"""URL shapes of www.sc.gov.cn: canonical form, article recognition, scope.

Pure functions over strings; the spider asks these what to follow, the pipelines what an
article's identity is. Nothing here knows about Scrapy.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url, safe_url_string

HOST = "www.sc.gov.cn"

# /10462/10758/<column path>/<YYYY>/<M>/<D>/<id>.shtml: 8-digit ids up to 2018, 32-hex after.
_ARTICLE_PATH = re.compile(
    r"^(?P<prefix>/(?:[\w-]+/)*?(?P<column>[\w-]+))/"
    r"(?P<year>(?:19|20)\d\d)/(?P<month>1[0-2]|0?[1-9])/(?P<day>3[01]|[12]\d|0?[1-9])/"
    r"(?P<id>\d{8}|[0-9a-f]{32})\.s?html?$"
)
# Pages a crawler must never treat as HTML pages to follow.
_NON_PAGE_SUFFIXES = (
    ".pdf",
    ".doc",
    ".docx",
    ".xls",
    ".xlsx",
    ".ppt",
    ".pptx",
    ".zip",
    ".rar",
    ".7z",
    ".wps",
    ".ofd",
    ".jpg",
    ".jpeg",
    ".png",
    ".gif",
    ".bmp",
    ".webp",
    ".svg",
    ".mp4",
    ".mp3",
    ".flv",
    ".css",
    ".js",
    ".ico",
    ".txt",
    ".xml",
    ".json",
)


@dataclass(frozen=True)
class ArticleRef:
    """What an article URL says about the article."""

    canonical_id: str
    column_id: str
    url_date: date | None


def canonical_url(url: str, base: str | None = None) -> str | None:
    """The one form of a site URL we request and store, or None if it is not a web URL.

    Resolves `url` against `base`, folds doubled slashes and dot segments, forces
    `https://www.sc.gov.cn` for the site's own pages (both schemes circulate; any port),
    drops the fragment, the query of an article page, and sorts any other query. URLs of other
    hosts are returned canonicalised but keep their host (`is_site_url` tells them apart).
    """
    raw = (url or "").strip()
    try:  # a malformed host (`//[`, `//[]`) is a ValueError in any of these steps
        parts = urlsplit(safe_url_string(urljoin(base, raw) if base else raw))
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    path = _fold_path(parts.path)
    if host == HOST:
        # The site answers on https alone: any scheme or port of it is the https page, and an
        # article page is static, so a query string (?utm_source=…) names the same article.
        query = "" if _ARTICLE_PATH.match(unquote(path)) else parts.query
        return canonicalize_url(urlunsplit(("https", host, path, query, "")))
    name = f"[{host}]" if ":" in host else host  # an IPv6 address keeps its brackets
    netloc = name if port in (None, 80, 443) else f"{name}:{port}"
    try:
        return canonicalize_url(urlunsplit((parts.scheme, netloc, path, parts.query, "")))
    except ValueError:  # what urlsplit let through and w3lib's stricter parser refuses
        return None


def _fold_path(path: str) -> str:
    if not path:
        return "/"
    folded = posixpath.normpath(re.sub(r"/{2,}", "/", path))
    if folded in (".", "//"):
        folded = "/"
    if path.endswith("/") and not folded.endswith("/"):
        folded += "/"
    return folded


def is_site_url(url: str) -> bool:
    """True for a URL on www.sc.gov.cn (any scheme): the only host ever requested."""
    try:
        return (urlsplit(url).hostname or "").lower() == HOST
    except ValueError:
        return False


def article_ref(url: str) -> ArticleRef | None:
    """The id, column and URL date of an article URL; None for any other URL."""
    parts = urlsplit(url)
    if (parts.hostname or "").lower() != HOST:
        return None
    match = _ARTICLE_PATH.match(unquote(parts.path))
    if match is None:
        return None
    try:
        url_date: date | None = date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError:
        url_date = None
    return ArticleRef(canonical_id=match["id"], column_id=match["column"], url_date=url_date)


def in_scope(url: str, prefixes: tuple[str, ...] | list[str]) -> bool:
    """True for a site URL whose path starts with one of the in-scope path prefixes."""
    if not is_site_url(url):
        return False
    path = urlsplit(url).path
    return any(path.startswith(prefix) for prefix in prefixes)


def is_page_url(url: str) -> bool:
    """True for a URL that may hold an HTML page (not a document, image or script)."""
    return not urlsplit(url).path.lower().endswith(_NON_PAGE_SUFFIXES)


def numbered_page_url(list_url: str, number: int) -> str:
    """URL of page `number` of a paginated list whose first page is `list_url`.

    The CMS names page 1 `<stem>.<ext>` and page N `<stem>_N.<ext>` (no `_1`).
    """
    parts = urlsplit(list_url)
    directory, _, filename = parts.path.rpartition("/")
    stem, dot, ext = (filename or "index.shtml").rpartition(".")
    stem = re.sub(r"_\d+$", "", stem)
    name = f"{stem}.{ext}" if number <= 1 else f"{stem}_{number}{dot}{ext}"
    return urlunsplit((parts.scheme, parts.netloc, f"{directory}/{name}", "", ""))


def list_column_id(list_url: str) -> str:
    """The column a list or channel page belongs to: its directory's last segment."""
    segments = urlsplit(list_url).path.split("/")
    if "." in segments[-1]:
        segments = segments[:-1]
    return next((seg for seg in reversed(segments) if seg), "")


_NUMBERED_PAGE = re.compile(r"_(\d+)\.s?html?$", re.IGNORECASE)


def list_page_number(url: str) -> int | None:
    """N for page N of a paginated list (`<stem>_N.shtml`); None for any other URL."""
    match = _NUMBERED_PAGE.search(urlsplit(url).path)
    return int(match[1]) if match and article_ref(url) is None else None
