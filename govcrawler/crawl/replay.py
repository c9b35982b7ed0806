"""Replay: the real Scrapy stack served from a saved copy of the site instead of the network.

The copy is laid out as `wget --mirror` saves it: `<root>/<host>/<path>` (a directory URL is
`index.html`, falling back to `index.shtml`; a query string is part of the file name, `name?q`).
Beside a page, `<file>.meta.json` may hold `{"status": 302, "headers": {...}}`, which replay
honours (a saved ETag or Last-Modified answers a matching conditional request with a 304).
A URL with no file is a 404; a URL that would leave the root (`..`, encoded or not) is refused
with a 400 and never read.

A request that is not a plain GET (a POST, or any request with a body) is keyed by method, URL
and body: its file is the GET file's name plus `.<METHOD>-<first 16 hex of sha256(body)>`
(`qryZFWJListByConditionsNew.POST-1f0c…`), its sidecar as for a GET, with the request itself
under `"request"` for a human to read. A GET never reads such a file, and a request with no
file of its own is a 404 like any missing page: it never falls through to a GET file or to
the network.

Several copies overlay one another: `GOVCRAWLER_REPLAY_DIR` may name several directories (a
list, or one string separated by `os.pathsep`; `govcrawler crawl --replay DIR` repeated), and
the first that has a request's file answers it, so a later generation of the site holds only
what changed (`--replay tests/fixtures/site-gen2 --replay tests/fixtures/site`). A page taken
down in an upper copy is a `<file>.meta.json` with a `status` (`{"status": 404}`) and no page
file: it answers that status, empty, instead of falling through to the copy below.

A file request (`meta["govcrawler_file"]`) gets its answer as from the network: the file read
into the spool in chunks, its sidecar's Content-Length taken as declared (crawl/spoolfiles.py).

Enable it with `GOVCRAWLER_REPLAY_DIR` (`govcrawler crawl --replay DIR`): the add-on swaps the
http(s) download handlers and, since no real host is touched, drops the politeness delay. A
directory that is set but cannot be read (any one of several) fails closed (`BadSetting`,
before any request): Scrapy would only log a disabled add-on and crawl the live site instead.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.exceptions import NotConfigured
from scrapy.http import Headers
from scrapy.responsetypes import responsetypes
from scrapy.utils.asyncio import run_in_thread

from govcrawler.crawl import spoolfiles
from govcrawler.exceptions import BadSetting, ReplayRefused

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

META_SUFFIX = ".meta.json"
RESERVED_SUFFIXES = (META_SUFFIX, ".expected.json")
_CONTENT_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".shtml": "text/html",
    ".txt": "text/plain",
    ".xml": "text/xml",
    ".json": "application/json",
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    **spoolfiles.FILE_CONTENT_TYPES,
}


# The name a keyed (non-GET) answer adds to the GET file's: a GET must never be served it.
KEYED_NAME = re.compile(r"\.[A-Z]+-[0-9a-f]{16}$")


def canonical_body(body: bytes) -> bytes:
    """A JSON body spelled one way (sorted keys, no spaces); any other body as sent.

    Key order and spacing are the encoder's choice (the site's script, our spider, a fixture
    written by hand), not part of the query: two spellings of one query must name one file."""
    try:
        value = json.loads(body)
    except ValueError:  # UnicodeDecodeError included: not JSON
        return body
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def request_suffix(method: str, body: bytes = b"") -> str:
    """What a request adds to its file's name: nothing for a GET without a body (the wget
    file), else `.<METHOD>-<digest of the canonical body>`."""
    method = method.upper()
    if method == "GET" and not body:
        return ""
    return f".{method}-{hashlib.sha256(canonical_body(body)).hexdigest()[:16]}"


def saved_request(method: str, body: bytes) -> dict[str, Any]:
    """The sidecar's `"request"`: the method and body, JSON as JSON, else as text."""
    try:
        return {"method": method.upper(), "json": json.loads(body)}
    except ValueError:
        return {"method": method.upper(), "text": body.decode("utf-8", errors="replace")}


def replay_path(root: Path, url: str, method: str = "GET", body: bytes = b"") -> Path | None:
    """The file holding the answer to `method url` (with `body`) under `root`, or None if
    the copy has no such page."""
    resolved_root = root.resolve()
    suffix = request_suffix(method, body)
    for candidate in _candidates(root, url, suffix):
        try:
            resolved = candidate.resolve()
            if not resolved.is_relative_to(resolved_root):
                raise ReplayRefused(url)
            if resolved.is_file() and _answers(resolved.name, suffix):
                return resolved
        except OSError:  # a name too long for the file system, say: no such page
            continue
    return None


def withdrawn_status(root: Path, url: str, method: str = "GET", body: bytes = b"") -> int | None:
    """The status an upper copy gives a page it holds no file for: its `<file>.meta.json`
    alone (`{"status": 404}`: the page was taken down); None when it has no such sidecar."""
    resolved_root = root.resolve()
    for candidate in _candidates(root, url, request_suffix(method, body)):
        sidecar = candidate.with_name(candidate.name + META_SUFFIX)
        try:
            if not sidecar.resolve().is_relative_to(resolved_root) or not sidecar.is_file():
                continue
            status = json.loads(sidecar.read_text(encoding="utf-8")).get("status")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(status, int) and not candidate.exists():
            return status
    return None


def _candidates(root: Path, url: str, suffix: str) -> list[Path]:
    parts = urlsplit(url)
    segments = unquote(parts.path).split("/")
    if any(seg in (".", "..") or "\\" in seg or "\x00" in seg for seg in segments):
        raise ReplayRefused(url)
    host = (parts.hostname or "").lower()
    relative = "/".join(seg for seg in segments if seg)
    base = root / host / relative
    if parts.query:
        candidates = [base.with_name(f"{base.name}?{parts.query}")]
    elif parts.path.endswith("/") or not relative:
        candidates = [base / "index.html", base / "index.shtml"]
    else:
        candidates = [base]
    return [path.with_name(path.name + suffix) for path in candidates]


def replay_dirs(value: Any) -> list[str]:
    """The directories of `GOVCRAWLER_REPLAY_DIR`, upper first: a list, or one string
    separated by `os.pathsep`."""
    items = value.split(os.pathsep) if isinstance(value, str) else list(value or [])
    return [str(item) for item in items if str(item).strip()]


def _answers(name: str, suffix: str) -> bool:
    """A file of the copy is a page, not a sidecar; a GET's page is not a keyed answer."""
    return not name.endswith(RESERVED_SUFFIXES) and (bool(suffix) or not KEYED_NAME.search(name))


def read_sidecar(page: Path) -> dict[str, Any]:
    """The saved status and headers of a page (empty when none were saved)."""
    sidecar = page.with_name(page.name + META_SUFFIX)
    if not sidecar.is_file():
        return {}
    data = json.loads(sidecar.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def not_modified(request: Request, saved: dict[str, str]) -> bool:
    """A conditional request the saved validators satisfy, as a server would answer it:
    `If-None-Match` against the saved ETag, else `If-Modified-Since` against Last-Modified."""
    headers = {key.lower(): value for key, value in saved.items()}
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        return if_none_match.decode("latin-1") == headers.get("etag")
    since, modified = request.headers.get("If-Modified-Since"), headers.get("last-modified")
    if since is None or modified is None:
        return False
    try:
        return parsedate_to_datetime(modified) <= parsedate_to_datetime(since.decode("latin-1"))
    except (TypeError, ValueError):
        return False


class ReplayDownloadHandler(BaseDownloadHandler):
    """Answers http(s) requests from the files of a saved copy of the site."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        roots = replay_dirs(crawler.settings.get("GOVCRAWLER_REPLAY_DIR"))
        if not roots:
            raise NotConfigured("GOVCRAWLER_REPLAY_DIR is not set")
        self.roots = [Path(root) for root in roots]
        assert crawler.stats is not None
        self.stats = crawler.stats
        self.spool = spoolfiles.crawl_spool(crawler)

    async def download_request(self, request: Request) -> Response:
        if spoolfiles.is_file_request(request):  # no body unless a file answers (not a retry's)
            request.meta[spoolfiles.SPOOLED_META] = spoolfiles.empty_body(None)
        return await run_in_thread(self._serve, request)

    def _serve(self, request: Request) -> Response:
        try:
            for root in self.roots:
                path = replay_path(root, request.url, request.method, request.body)
                if path is not None:
                    return self._page(request, path)
                status = withdrawn_status(root, request.url, request.method, request.body)
                if status is not None:
                    self.stats.inc_value("replay/withdrawn")
                    return self._response(request, status, {"Content-Type": "text/html"}, b"")
        except ReplayRefused:
            logger.warning("replay refused a path outside the copy: %s", request.url)
            self.stats.inc_value("replay/refused")
            return self._response(request, 400, {}, b"")
        self.stats.inc_value("replay/missing")
        if request_suffix(request.method, request.body):
            logger.debug("replay has no saved answer to %s %s", request.method, request.url)
        return self._response(request, 404, {"Content-Type": "text/html"}, b"")

    def _page(self, request: Request, path: Path) -> Response:
        saved = read_sidecar(path)
        headers = {"Content-Type": _CONTENT_TYPES.get(path.suffix.lower(), "text/html")}
        headers.update(saved.get("headers") or {})
        status = int(saved.get("status", 200))
        if status == 200 and not_modified(request, headers):
            self.stats.inc_value("replay/not_modified")
            return self._response(request, 304, {}, b"")
        self.stats.inc_value("replay/served")
        if spoolfiles.is_file_request(request):  # streamed to the spool as live (crawl/spool.py)
            spooled = spoolfiles.spool_saved(self.spool, request.url, path, headers)
            request.meta[spoolfiles.SPOOLED_META] = spooled
            return self._response(request, status, headers, b"")
        return self._response(request, status, headers, path.read_bytes())

    @staticmethod
    def _response(request: Request, status: int, headers: dict[str, str], body: bytes) -> Response:
        scrapy_headers = Headers(headers)
        respcls = responsetypes.from_args(headers=scrapy_headers, url=request.url, body=body)
        return respcls(
            url=request.url, status=status, headers=scrapy_headers, body=body, request=request
        )


def check_replay_dir(root: Any, gateway: str | None = None) -> None:
    """Raise `BadSetting` unless every directory of `root` (`replay_dirs`) is a readable
    directory and no gateway is set too (the gateway's handler would win, and the "offline"
    run would go to the network)."""
    if gateway:
        raise BadSetting(
            f"GOVCRAWLER_REPLAY_DIR ({root}) and GOVCRAWLER_GATEWAY ({gateway}) are both set: "
            "set only one"
        )
    roots = replay_dirs(root)
    if not roots:
        raise BadSetting("GOVCRAWLER_REPLAY_DIR names no directory")
    for directory in roots:
        if not Path(directory).is_dir():
            raise BadSetting(
                f"GOVCRAWLER_REPLAY_DIR: no directory {directory} (a saved copy of the site, "
                "such as tests/fixtures/site)"
            )
        if not os.access(directory, os.R_OK | os.X_OK):
            raise BadSetting(f"GOVCRAWLER_REPLAY_DIR: cannot read the directory {directory}")


class ReplayAddon:
    """Routes http(s) downloads to `ReplayDownloadHandler` when a replay directory is set."""

    def update_settings(self, settings: BaseSettings) -> None:
        root = settings.get("GOVCRAWLER_REPLAY_DIR")
        if not root:
            raise NotConfigured
        check_replay_dir(root, settings.get("GOVCRAWLER_GATEWAY"))
        handler = "govcrawler.crawl.replay.ReplayDownloadHandler"
        # "spider" priority: above the project's polite defaults, below `-s` on the command line.
        settings.set("DOWNLOAD_HANDLERS", {"http": handler, "https": handler}, "spider")
        settings.set("DOWNLOAD_DELAY", 0, "spider")
        settings.set("AUTOTHROTTLE_ENABLED", False, "spider")
        settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", 16, "spider")
