"""The fixture workflow: pages that broke become test fixtures with expected outputs.

`record` fetches pages from the site (or `GOVCRAWLER_GATEWAY`) as the crawler does,
`archived_response` takes one out of the archive (`govcrawler.cli.expected` rewrites their
`<page>.expected.json` from the current extraction). Pages are saved in the replay layout
(`govcrawler/crawl/replay.py`): the body bytes as received, never re-encoded, and `<file>.meta.json`
with status, headers, requested and final URL, fetch time (UTC). Scrapy has already decompressed
a gzip or deflate body, so the file holds the payload, and `Content-Encoding`, `Content-Length`
and hop-by-hop headers are not saved (they describe the transfer, not the saved bytes). A
redirect is saved hop by hop, so a replay of the copy redirects as the site did. A POST (the
list API) is saved under its method, URL and body digest, the request in its sidecar.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import scrapy
from scrapy.http import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from twisted.python.failure import Failure

from govcrawler.cli.expected import json_text
from govcrawler.crawl.replay import (
    META_SUFFIX,
    request_suffix,
    saved_request,
)
from govcrawler.exceptions import FixtureError
from govcrawler.extract.urls import HOST, canonical_url, is_site_url
from storage import Capture, capture_body
from storage.read import find_article

UNSAVED_HEADERS = frozenset(
    {"content-encoding", "content-length", "transfer-encoding", "connection", "keep-alive"}
)
REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class SavedResponse:
    """A response as the replay layout keeps it."""

    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes
    fetched_at: datetime  # aware
    method: str = "GET"
    request_body: bytes = b""

    def sidecar(self) -> dict[str, Any]:
        """The `<file>.meta.json` of the page (replay reads its status and headers)."""
        data = {
            "status": self.status,
            "headers": self.headers,
            "url": self.url,
            "final_url": self.final_url,
            "fetched_at": self.fetched_at.astimezone(UTC).isoformat(),
        }
        if request_suffix(self.method, self.request_body):
            data["request"] = saved_request(self.method, self.request_body)
        return data


def saved_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The headers worth saving with the bytes (see the module docstring)."""
    return {name: value for name, value in headers if name.lower() not in UNSAVED_HEADERS}


def fixture_file(root: Path, url: str, method: str = "GET", body: bytes = b"") -> Path:
    """Where the answer to `method url` lives under `root`: the file `replay_path` reads."""
    parts = urlsplit(url)
    segments = [seg for seg in unquote(parts.path).split("/") if seg]
    unsafe = any(seg in (".", "..") or "\\" in seg or "\x00" in seg for seg in segments)
    if unsafe or not parts.hostname or (parts.query and not segments):
        raise FixtureError(f"cannot save {url} in the replay layout")
    base = root / parts.hostname.lower() / "/".join(segments)
    if parts.query:
        base = base.with_name(f"{base.name}?{parts.query}")
    elif parts.path.endswith("/") or not segments:
        base = base / "index.html"
    return base.with_name(base.name + request_suffix(method, body))


def write_fixture(root: Path, saved: SavedResponse) -> Path:
    """Write the page's bytes and its sidecar under `root`; returns the page's file."""
    page = fixture_file(root, saved.url, saved.method, saved.request_body)
    try:
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_bytes(saved.body)
        page.with_name(page.name + META_SUFFIX).write_text(json_text(saved.sidecar()), "utf-8")
    except OSError as error:
        raise FixtureError(f"cannot write {page}: {error.strerror}") from error
    return page


def saved_line(page: Path, saved: SavedResponse) -> str:
    """One line per saved page: status, size, file, and where a redirect chain ended."""
    line = f"{saved.status}  {len(saved.body):>9,} bytes  {page}"
    return line if saved.final_url == saved.url else f"{line}  (final URL {saved.final_url})"


@dataclass
class Recording:
    saved: list[tuple[Path, SavedResponse]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


class RecordSpider(scrapy.Spider):
    """Fetches each URL once; a redirect on the site is followed hop by hop, each hop kept.

    The first URL goes alone: Scrapy's RobotsTxtMiddleware (2.19) hands the parsed robots.txt
    to only one of the requests waiting for it, so the others go once it is parsed. With
    `post`, each URL is sent that JSON body; a 307 or 308 repeats it, other redirects GET.
    `referer` is sent with each URL's first request (the list API wants its page's).
    """

    name = "fixtures_record"

    def __init__(
        self,
        urls: Sequence[str],
        post: bytes | None = None,
        referer: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.chains: dict[str, list[SavedResponse]] = {url: [] for url in urls}
        self.waiting = list(urls[1:])
        self.failures: list[str] = []
        self.post, self.referer = post, referer

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in list(self.chains)[:1]:
            yield self._request(url, origin=url, post=self.post)

    def _request(self, url: str, origin: str, post: bytes | None = None) -> scrapy.Request:
        meta = {"dont_redirect": True, "handle_httpstatus_all": True, "origin": origin}
        headers = {"Referer": self.referer} if self.referer and url == origin else {}
        if post is not None:
            headers["Content-Type"] = "application/json"
        method = "GET" if post is None else "POST"
        return scrapy.Request(
            url, self.parse, method, headers, post, errback=self.failed, dont_filter=True, meta=meta
        )

    def _release(self) -> list[scrapy.Request]:
        waiting, self.waiting = self.waiting, []
        return [self._request(url, origin=url, post=self.post) for url in waiting]

    def parse(self, response: Response) -> list[scrapy.Request]:
        chain = self.chains[response.meta["origin"]]
        chain.append(saved_response(response))
        location = response.headers.get("Location")
        target = canonical_url(location.decode("latin-1"), response.url) if location else None
        hops_left = len(chain) <= self.settings.getint("REDIRECT_MAX_TIMES")
        if response.status in REDIRECTS and target and is_site_url(target) and hops_left:
            post = self.post if response.status in (307, 308) else None
            return [self._request(target, origin=response.meta["origin"], post=post)]
        return self._release()

    def failed(self, failure: Failure) -> list[scrapy.Request]:
        url = failure.request.url  # type: ignore[attr-defined]  # set by Scrapy for errbacks
        self.failures.append(f"{url}: {failure.getErrorMessage()}")
        return self._release()


def saved_response(response: Response) -> SavedResponse:
    headers = saved_headers(
        (key.decode("latin-1"), b", ".join(values).decode("latin-1"))
        for key, values in response.headers.items()
    )
    now = datetime.now(UTC)
    request = response.request
    method, sent = (request.method, request.body) if request is not None else ("GET", b"")
    url, status, body = response.url, response.status, response.body
    return SavedResponse(url, url, status, headers, body, now, method, sent)


def site_urls(urls: Iterable[str]) -> list[str]:
    """The canonical form of each URL (http:// becomes https://); only www.sc.gov.cn."""
    wanted = [(url, canonical_url(url)) for url in urls]
    for url, canonical in wanted:
        if canonical is None or not is_site_url(canonical):
            raise FixtureError(f"only pages of {HOST} can be recorded, not {url!r}")
    return list(dict.fromkeys(canonical for _, canonical in wanted if canonical))


def record(
    urls: Iterable[str],
    root: Path,
    delay: float,
    post: bytes | None = None,
    referer: str | None = None,
) -> Recording:
    """Fetch the pages with the crawler's settings (User-Agent, robots.txt, delay, gateway)
    and save each response, every redirect hop included, under `root`; with `post`, send
    each URL a POST of that JSON body instead of a GET (see `RecordSpider`)."""
    from scrapy.crawler import CrawlerProcess

    from govcrawler.cli import logs
    from govcrawler.cli.runner import crawl_and_wait, crawl_settings

    wanted = site_urls(urls)
    overrides = {
        "GOVCRAWLER_REPLAY_DIR": "",  # from the site (or its gateway), never from a copy
        "ITEM_PIPELINES": {},  # nothing is archived...
        "EXTENSIONS": {},  # ...nor recorded as a crawl run
        "DOWNLOAD_DELAY": delay,
        "AUTOTHROTTLE_START_DELAY": delay,
        # Each page's fate is one line of the command's own ("not recorded: URL: why"):
        # Scrapy's log would only repeat it, tracebacks included.
        "LOG_ENABLED": False,
    }
    settings = crawl_settings(overrides)
    logs.install(settings)  # one line per error on the terminal, never a traceback
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(RecordSpider)
    crawl_and_wait(process, crawler, urls=wanted, post=post, referer=referer)
    spider = crawler.spider
    assert isinstance(spider, RecordSpider)
    result = Recording(failures=list(spider.failures))
    for url, chain in spider.chains.items():
        if not chain and not any(failure.startswith(f"{url}: ") for failure in spider.failures):
            result.failures.append(f"{url}: no answer (the crawl stopped before it)")
    for chain in spider.chains.values():
        for hop in (replace(hop, final_url=chain[-1].url) for hop in chain):
            result.saved.append((write_fixture(root, hop), hop))
    return result


def archived_response(session: Session, article: str) -> SavedResponse:
    """The latest capture of a URL (any URL of an article, http:// too), else of the URL of
    the article it names, or of the article with that archive id."""
    capture = latest_capture(session, article)
    if capture is None:
        raise FixtureError(f"no capture of {article!r} in the archive (give an id or a URL)")
    try:
        body = capture_body(session, capture)
    except LookupError as error:
        raise FixtureError(str(error)) from error
    headers = saved_headers(capture.headers.items())
    return SavedResponse(
        capture.url, capture.final_url, capture.status, headers, body, capture.fetched_at
    )


def latest_capture(session: Session, article: str) -> Capture | None:
    newest = (Capture.fetched_at.desc(), Capture.id.desc())
    key: int | str | None = int(article) if article.strip().isdigit() else canonical_url(article)
    if isinstance(key, str):
        own = session.scalar(select(Capture).where(Capture.url == key).order_by(*newest).limit(1))
        if own is not None:
            return own
    found = find_article(session, key) if key is not None else None
    for where in (Capture.url == found.url, Capture.article_id == found.id) if found else ():
        capture = session.scalar(select(Capture).where(where).order_by(*newest).limit(1))
        if capture is not None:
            return capture
    return None
