"""The list API of 省政府政策文件 (`newzfwj`, SITE-ZH §1.1): the query and how to read an answer.

`POST /cms-scsrmzf/qryZFWJListByConditionsNew` with a JSON body answers `{"results": [{"url",
"publishedTime", "wh", "title"}, …]}`, `pageSize` rows a page. Only these fields are known; a
count of records or pages, if an answer carries one (`total`, `pageCount`, … [I]), must agree
with its rows. An answer that is not what this expects is a `problem` (`html`,
`invalid_json`, `not_a_list`, `empty`, `count_mismatch`), never an exception. Pure.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

API_URL = "https://www.sc.gov.cn/cms-scsrmzf/qryZFWJListByConditionsNew"
API_REFERER = "https://www.sc.gov.cn/10462/c103041/newzfwj.shtml"
PAGE_SIZE = 10
# The six series' channel ids (SITE-ZH §1.1).
SERIES: dict[str, str] = {
    "川府发": "973183bdfdc94e9c9060f0707db6dd47",
    "川府规": "1c1f2e52f0924af487b00f7d3cfd119d",
    "川府函": "8ed1f7ae4cca4e1abfd6758159e90b20",
    "川办发": "7545541b27b543e388b4e84ce37017e6",
    "川办规": "4634deaa87db498da12f5ca4711f79ea",
    "川办函": "c5207228662c48bda726727268f6356e",
}
_RECORD_COUNTS = ("total", "totalCount", "totalNum", "count")
_PAGE_COUNTS = ("pageCount", "totalPage", "totalPages", "pages")


def api_query(channel_id: str, page: int, page_size: int = PAGE_SIZE) -> dict[str, Any]:
    """The JSON body the site's own page sends for page `page` of a series."""
    return {
        "keyWord": "",
        "wh": "",
        "fwzh": "",
        "pageSize": page_size,
        "pageNum": page,
        "channelId": [channel_id],
    }


@dataclass(frozen=True)
class ApiRow:
    url: str
    title: str | None
    doc_number: str | None
    published: str | None


@dataclass(frozen=True)
class ApiAnswer:
    """The rows of one page, whether a next page is to be asked for, and what was wrong."""

    rows: tuple[ApiRow, ...]
    more: bool
    problem: str | None = None
    skipped_rows: int = 0  # entries without a URL


def read_answer(body: bytes, page: int, page_size: int = PAGE_SIZE) -> ApiAnswer:
    """Page `page` of a series as answered; `more` while the page was full and a count, if
    the answer gives one, says more follow."""
    text = body.decode("utf-8", errors="replace").lstrip("\ufeff \r\n\t")
    if text.startswith("<"):
        return ApiAnswer((), False, "html")
    try:
        value = json.loads(text)
    except ValueError:
        return ApiAnswer((), False, "invalid_json")
    results = value.get("results") if isinstance(value, dict) else None
    if not isinstance(results, list):
        return ApiAnswer((), False, "not_a_list")
    rows = [row for entry in results if (row := _row(entry))]
    skipped = len(results) - len(rows)
    if not results:
        return ApiAnswer((), False, "empty")
    pages = _pages(value, page_size)
    if pages is not None and _disagrees(pages, page, len(results), page_size, value):
        return ApiAnswer(tuple(rows), False, "count_mismatch", skipped)
    more = len(results) >= page_size and (pages is None or page < pages)
    return ApiAnswer(tuple(rows), more, None, skipped)


def _row(entry: Any) -> ApiRow | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
        return None
    url = entry["url"].strip()
    if not url:
        return None
    return ApiRow(
        url,
        _string(entry.get("title")),
        _string(entry.get("wh")),
        _string(entry.get("publishedTime")),
    )


def _string(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _number(value: dict[str, Any], keys: tuple[str, ...]) -> int | None:
    for key in keys:
        found = value.get(key)
        if isinstance(found, int) and not isinstance(found, bool) and found >= 0:
            return found
        if isinstance(found, str) and found.isdigit():
            return int(found)
    return None


def _pages(value: dict[str, Any], page_size: int) -> int | None:
    """The page count the answer claims: given, or from its record count."""
    pages = _number(value, _PAGE_COUNTS)
    if pages is not None:
        return pages
    records = _number(value, _RECORD_COUNTS)
    return None if records is None else math.ceil(records / page_size)


def _disagrees(pages: int, page: int, rows: int, page_size: int, value: dict[str, Any]) -> bool:
    """A page past the claimed last one with rows, a short page before it, or a record count
    that does not give this page's number of rows."""
    if page > pages or (page < pages and rows < page_size):
        return True
    records = _number(value, _RECORD_COUNTS)
    return records is not None and rows != min(page_size, records - (page - 1) * page_size)
