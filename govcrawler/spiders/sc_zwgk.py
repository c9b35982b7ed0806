"""sc_zwgk: the Chinese 政务公开 of www.sc.gov.cn: government documents, their lists, the gazette.

Start: the Chinese home page `/10462/index.shtml` (its top bar and navigation lead to the
政务公开 channel; SITE-ZH names no 政务公开 index of its own, and the home page is the one page
the section is sure to be linked from). Besides it, the static lists of SITE-ZH §0 are seeded
(`SEEDS`), and the six series of 省政府政策文件 are read from the list API (`POST` with a JSON
body, SITE-ZH §1.1; `govcrawler.extract.zhapi`), whose `results[].url` feed detail requests;
each answer is captured as a list page is, with its method and query (`capture.method`,
`capture.request_body`).

Scope (`scope_prefixes`): the 政务公开 paths of SITE-ZH §1/§2 (the `c1…` channels, 政府文件,
the 2014–18 tree and 政策解读 under `10464`, 政府信息公开 `10778` and its 制度, the policy
library, the gazette database, the old 信息公开 system, the list API), disjoint from the
English spider's. Only www.sc.gov.cn is requested: a department's `*.sc.gov.cn` link is counted
`links/department`, any other host (a mirror) `links/offsite`.

Followed: every in-scope link of a home, channel or list page, by URL shape
(`zhlists.page_kind`): a document page (SITE-ZH §2 "accept as documents") is a detail request,
any other page of a column a list; numbered pages `<name>_N.shtml` one by one, from `_2`, while
the pager (its links, `共N页`, the pager script) says more follow, as the English spider does
(`SiteSpider.next_page`). An in-scope page of neither kind is counted
`pages/unclassified/<shape>`, never requested.

Counted: `lists/shape/<shape>` for every list page (`unknown` included: its links are still
followed), `api/pages`, `api/rows`, `api/<problem>` for an answer that is HTML, invalid JSON,
empty or whose count disagrees, and for each document: `coverage/documents`,
`coverage/document/<field>`, `documents/layout/<a|b|c|none>`, `documents/block_expected` and
`documents/block_missing` (pages whose kind has a metadata block, and those where none was
found: 解读, gazette and 规章库 pages have none by design), `documents/validity_source/<static|
script|red_notice|none>`, `documents/unparsed/<field>` (a date, 文号 or validity published in
no form we read: kept raw), `boilerplate/sentinel_in_body` (a body line still carrying a SITE-ZH
§3.6 sentinel). `govcrawler.runs.coverage` judges them against earlier runs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar
from urllib.parse import urlsplit

import scrapy
from scrapy.http import JsonRequest, Response, TextResponse

from govcrawler.exceptions import ExtractionError
from govcrawler.extract.docfields import unread_fields
from govcrawler.extract.document import document_from_page
from govcrawler.extract.listing import page_links
from govcrawler.extract.model import Document
from govcrawler.extract.urls import article_ref, list_column_id, list_page_number
from govcrawler.extract.zhapi import API_REFERER, API_URL, SERIES, api_query, read_answer
from govcrawler.extract.zhlists import page_kind, read_list
from govcrawler.items import DocumentPage, Fetch, ListPage, UnreadablePage
from govcrawler.spiders.site import LIST_PRIORITY, NEXT_PAGE_PRIORITY, SiteSpider, fetch_of

SITE = "https://www.sc.gov.cn"
# The static lists of SITE-ZH §0, page 1 of each.
SEEDS = tuple(
    f"{SITE}/10462/{path}.shtml"
    for path in (
        "c102914/gfxwj",
        *(f"c10304{n}/stt_list" for n in range(2, 9)),
        "c108923/zfgz_list",
        "10464/13298/13299/zcjd_list",
        "10464/13298/14097/bmjd_list",
        "c101274/sjhbg_list",
        "c103109/zwgklist00",
        "zfwjts/zfwj",
    )
)
# Pages of these kinds carry no metadata block (SITE-ZH §3.5, §1): 解读, the gazette database,
# the 政府规章库 detail. A missing block elsewhere means the template changed.
BLOCKLESS_PREFIXES = ("/10462/10464/13298/", "/zfgbdb/", "/10462/c108923/")
# Footer and widget lines of SITE-ZH §3.6: one left in a body means boilerplate got through.
SENTINELS = (
    *("主办单位", "主管单位", "承办", "运行维护", "网站标识码", "蜀ICP备", "川公网安备"),
    *("川公安网备号", "版权所有", "网站声明", "网站地图", "联系我们", "责任编辑"),
    *("扫一扫在手机打开当前页", "【字体", "[上一篇]", "[下一篇]", "分享到"),
    *("全国统一刊号", "国际标准刊号", "主管主办", "编辑出版"),
)


class ZwgkSpider(SiteSpider):
    name = "sc_zwgk"
    start_url = f"{SITE}/10462/index.shtml"
    scope_prefixes = (
        *("/10462/c1", "/10462/zfwjts/", "/10462/10464/", "/10462/10778/"),
        *("/10462/zfxxgkzd/", "/10462/scszcwjkss/", "/10462/13241/"),
        *("/zfgbdb/", "/zcwj/xxgk/", "/cms-scsrmzf/"),
    )
    count_departments: ClassVar[bool] = True

    async def start(self) -> AsyncIterator[scrapy.Request]:
        async for request in super().start():
            yield request
        for seed in SEEDS:
            yield self.request(seed, self.parse, priority=LIST_PRIORITY)
        for series, channel in SERIES.items():
            yield self.api_request(series, channel, 1)
        for revisit in self.due_requests():  # known documents due again, linked or not
            yield revisit

    def is_detail_url(self, url: str) -> bool:
        return page_kind(url) == "document"

    def parse(self, response: Response, **kwargs: Any) -> Iterator[scrapy.Request | ListPage]:
        """A home, channel or list page: captured, its shape counted, its in-scope links and
        its pager followed."""
        if not isinstance(response, TextResponse):
            self.count("skipped/not_text")
            return
        yield ListPage(fetch_of(response))
        html = self.text(response)
        listing = read_list(html, response.url)
        self.count(f"lists/shape/{listing.shape}")
        last_new, linked = False, set()
        for link in page_links(html, response.url):
            url = self.site_url(link.href, response.url)
            if url is None or url in linked:
                continue
            linked.add(url)
            kind = page_kind(url)
            if kind == "document":
                self.count(f"links/column/{column_of(url)}")
                last_new = not self.plan.is_known(url)
                yield from self.detail_request(url)
            elif kind == "list":
                if list_page_number(url) is None:  # numbered pages: one by one, below
                    yield self.request(url, self.parse, priority=LIST_PRIORITY)
            else:
                self.count(f"pages/{kind}")
                self.logger.info("not following a page of no known kind (%s): %s", kind, url)
        # The pager's own links (下页, page numbers) are among the page's links: `linked`.
        yield from self.next_page(response, listing.pager.page_count, last_new, linked)

    def api_request(self, series: str, channel: str, page: int, streak: int = 0) -> scrapy.Request:
        """Page `page` of a series from the list API, as the site's own page asks for it."""
        return JsonRequest(
            API_URL,
            data=api_query(channel, page),
            headers={"Referer": API_REFERER},
            callback=self.parse_api,
            errback=self.failed,
            priority=LIST_PRIORITY if page == 1 else NEXT_PAGE_PRIORITY,
            meta={
                "series": (series, channel, page),
                "known_streak": streak,
                "handle_httpstatus_all": True,
            },
        )

    def parse_api(self, response: Response) -> Iterator[scrapy.Request | ListPage]:
        """An answer of the list API: captured (with its query: what a series listed that
        day), its documents requested, its next page asked for while it was full; a bad answer
        counted (`api/<problem>`) and logged."""
        series, channel, page = response.meta["series"]
        self.count("api/pages")
        yield ListPage(fetch_of(response))  # a bad answer too: the archive shows what came
        if response.status != 200:
            self.count(f"api/http_{response.status}")
            self.logger.warning("list API: HTTP %s for %s page %s", response.status, series, page)
            return
        answer = read_answer(response.body, page)
        if answer.problem:
            self.count(f"api/{answer.problem}")
            self.logger.warning("list API: %s answer for %s page %s", answer.problem, series, page)
        if answer.skipped_rows:
            self.count("api/row_without_url")
        last_new = False
        for row in answer.rows:
            self.count("api/rows")
            url = self.site_url(row.url, API_URL)
            if url is None:
                continue
            kind = page_kind(url)
            if kind != "document":
                self.count(f"pages/{kind}")
                continue
            last_new = not self.plan.is_known(url)
            yield from self.detail_request(url)
        if not answer.more:
            return
        streak = 0 if last_new else response.meta.get("known_streak", 0) + 1
        if self.keep_paging(streak):  # as a list's pages (`SiteSpider.next_page`)
            yield self.api_request(series, channel, page + 1, streak)

    def read_detail(self, response: TextResponse, fetch: Fetch) -> Iterator[Any]:
        """A document page: a `DocumentPage` and requests for its attachments, or a counted
        `UnreadablePage`."""
        try:
            document = document_from_page(self.text(response), response.url)
        except ExtractionError as error:
            reason = error.missing.split(" (")[0].replace(" ", "_")
            self.count(f"dropped/{reason}")
            self.logger.warning("no document extracted: %s", error)
            yield UnreadablePage(fetch, reason)
            return
        self.count(f"extraction/{document.extraction_path}")
        self._count_coverage(document)
        yield DocumentPage(document, fetch)
        yield from self.file_requests((a.url, "attachment") for a in document.attachments)

    def _count_coverage(self, document: Document) -> None:
        """How many documents had each field, which layout and validity source (health)."""
        fields = document.fields
        self.count("coverage/documents")
        present = {
            "doc_number": document.doc_number is not None,
            "issuer": fields.issuer,
            "written_on": fields.written_on,
            "published_on": fields.published_on,
            "validity": fields.validity,
        }
        for name, value in present.items():
            if value:
                self.count(f"coverage/document/{name}")
        for name in unread_fields(document):  # published in a form we do not read: kept raw
            self.count(f"documents/unparsed/{name}")
        self.count(f"documents/layout/{document.layout}")
        if not urlsplit(document.url).path.startswith(BLOCKLESS_PREFIXES):
            self.count("documents/block_expected")
            if document.layout == "none":
                self.count("documents/block_missing")
        self.count(f"documents/validity_source/{fields.validity_source or 'none'}")
        if any(carries_sentinel(line) for line in document.body):
            self.count("boilerplate/sentinel_in_body")
            self.logger.info("a footer line reached the body of %s", document.url)


def column_of(url: str) -> str:
    """The column a document is counted under: its URL's column, else its folder's name."""
    ref = article_ref(url)
    return ref.column_id if ref else list_column_id(url)


def carries_sentinel(line: str) -> bool:
    """A footer line: one opening with a sentinel, or a short one holding it (`承办` opens a
    footer line but also occurs in a document's own sentences)."""
    text = line.strip()
    return any(text.startswith(word) or (len(text) <= 40 and word in text) for word in SENTINELS)
