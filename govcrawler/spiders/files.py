"""The files an archived page links (its images and attachments): which are requested, and what
their answers mean, for every spider of the site (`FileRequests`, a part of `SiteSpider`).

A file of www.sc.gov.cn is requested when the archive does not have it, or when its revisit is
due (`GOVCRAWLER_FILE_REVISIT_DAYS`, conditional on its validators), through the same
middlewares as pages (robots, pace, the site-only guard); its body is streamed to disk by the
download handler (`govcrawler.crawl.spool`). A file elsewhere is counted and never requested.
Within a run each file is requested once, however many pages link it (Scrapy's duplicate filter);
a page's files are requested at its fellow pages' priority, so they are fetched as the pages are.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import scrapy

from govcrawler.crawl.spool import FILE_META, SPOOLED_META
from govcrawler.extract.urls import canonical_url, is_site_url
from govcrawler.items import FileFetch
from govcrawler.spiders.fetch import fetch_of

if TYPE_CHECKING:
    from scrapy.http import Response

# A page's files at the priority of its fellow pages, above the list's next page: below it,
# every file waited for the whole section to be read, and the queue held one waiting request
# per file (B6: 417 MB at 45,000 pages and 85,710 files, against 152 MB flat at the same
# priority on the diagnostic site).
FILE_PRIORITY = 0
FILE_STATUSES = [304, 404, 410, 301, 302, 303, 307, 308]
MAX_FILE_REDIRECTS = 3


class FileRequests:
    """The file policy of `SiteSpider` (which provides `plan`, `settings`, `request`, `count`,
    `logger`)."""

    plan: Any
    settings: Any
    logger: Any

    def request(self, url: str, callback: Any, **kwargs: Any) -> scrapy.Request:
        raise NotImplementedError

    def count(self, key: str) -> None:
        raise NotImplementedError

    def file_requests(self, links: Iterable[tuple[str, str]]) -> Iterator[scrapy.Request]:
        """Requests for a page's files, given as (URL, role "image" or "attachment")."""
        if not self.settings.getbool("GOVCRAWLER_FETCH_FILES", True):
            return
        for url, role in links:
            yield from self.file_request(url, role)

    def file_request(self, href: str, role: str, hops: int = 0) -> Iterator[scrapy.Request]:
        url = canonical_url(href)
        if url is None or not is_site_url(url):
            self.count("files/offsite")
            return
        if not self.plan.file_wanted(url):
            self.count("files/known_skipped")
            return
        yield self.request(
            url,
            self.parse_file,
            priority=FILE_PRIORITY,
            headers=self.plan.file_conditional_headers(url),
            meta={
                FILE_META: role,
                "file_redirects": hops,
                "handle_httpstatus_list": FILE_STATUSES,
                "dont_redirect": True,  # a file's redirect is recorded, then followed here
            },
        )

    def parse_file(self, response: Response) -> Iterator[Any]:
        """A file's answer, as a `FileFetch` to archive; an on-site redirect is followed."""
        role = response.meta[FILE_META]
        spooled = response.meta.get(SPOOLED_META)
        self.count(f"files/status/{response.status}")  # (an omitted body: the spool counts it)
        yield file_fetch(response, role, spooled)
        if 300 <= response.status < 400 and response.status != 304:
            yield from self._follow_file_redirect(response, role)

    def _follow_file_redirect(self, response: Response, role: str) -> Iterator[scrapy.Request]:
        location = response.headers.get("Location")
        target = canonical_url(location.decode("latin-1"), response.url) if location else None
        if target is None or not is_site_url(target):
            self.count("files/refused/offsite_redirect")
            self.logger.info("not following the file %s to %s", response.url, target)
            return
        hops = response.meta.get("file_redirects", 0) + 1
        if hops > MAX_FILE_REDIRECTS:
            self.count("files/refused/redirect_limit")
            return
        yield from self.file_request(target, role, hops)


def file_fetch(response: Response, role: str, spooled: Any) -> FileFetch:
    """The archive's item of a file's answer."""
    fetch = fetch_of(response)
    return FileFetch(
        url=fetch.url,
        final_url=fetch.final_url,
        status=fetch.status,
        fetched_at=fetch.fetched_at,
        headers=fetch.headers,
        role=role,
        spooled=spooled,
    )
