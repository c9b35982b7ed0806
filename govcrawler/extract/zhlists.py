"""List pages of the Chinese 政务公开: which markup a list uses, its rows, its pager.

Shapes (SITE-ZH §1, §1.1, §3.5), tried in this order:

- `dash_table`: the old lists, `table#dash-table tr`, `td a` (`@title`), `td font` `(MM-DD)`;
  rows without a link are spacers.
- `biaobody`: `div.biaobody li`, `div.lie2 a` title, `div.lie3` 文号, `div.lie4` date.
- `yxgzul`: the regulation library, `div.yxgzul li`, `div.p1 a@title`, `div.p2` (maker and
  `YYYY年M月D日 … 公布`).
- `gazette_issue`: an issue of the gazette, `td.left > a.yh_14heix`.
- `gazette_issues`: the list of issues, `.zwgklist00 li a` [I: class of the list's own name].
- `interpretations`: a list under the 政策解读 channel (`/10462/10464/13298/`) of `li` rows
  with a link and a date [I: the markup of these lists was never captured].
- `links`: any other page whose links sit in `li` rows (navigation, landings, plain lists).
- `unknown`: none of these: its links are still returned, and the spider counts the page.

Pure: HTML and the page's URL in, frozen values out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit

from parsel import Selector

from govcrawler.extract.listing import list_page_count
from govcrawler.extract.text import clean_text

SHAPES = (
    "dash_table",
    "biaobody",
    "yxgzul",
    "gazette_issue",
    "gazette_issues",
    "interpretations",
    "links",
    "unknown",
)
INTERPRETATION_PATH = "/10462/10464/13298/"
_TOTAL_PAGES = re.compile(r"共\s*(\d+)\s*页")
_NEXT_TEXT = re.compile(r"^\s*(?:下页|下一页|下一頁|>|›|»)\s*$")
_DATE = re.compile(
    r"(?:19|20)\d\d-\d{1,2}-\d{1,2}|(?:19|20)\d\d年\d{1,2}月\d{1,2}日|\(\d{1,2}-\d{1,2}\)"
)
_SKIPPED_HREF = ("javascript:", "mailto:", "tel:", "#")
# `li` rows of the page's content: not the site's navigation, footer or a pager's links.
_FURNITURE = " or ".join(
    f"contains(concat(' ', @class, ' ', @id), '{word}')"
    for word in ("nav", "topbar", "header", "footer", "pagination", "page_div")
)
_OUTSIDE = f"self::nav or self::header or self::footer or {_FURNITURE}"
_CONTENT_LI = f"//body//li[.//a[@href]][not(ancestor::*[{_OUTSIDE}])]"
# Document pages (SITE-ZH §2 "accept as documents").
_DOCUMENT_PATHS = (
    re.compile(r"^/10462/(?:.+/)?\d{4}/\d{1,2}/\d{1,2}/(?:[0-9]{8}|[0-9a-f]{32})\.shtml$"),
    re.compile(r"^/zfgbdb/detail/[0-9a-f]{32}\.shtml$"),
)
_OLD_SYSTEM = re.compile(r"^/zcwj/xxgk/NewT\.aspx$", re.IGNORECASE)
_DATED = re.compile(r"/\d{4}/\d{1,2}/\d{1,2}/")
_LIST_FILE = re.compile(r"(?:/|\.s?html?)$", re.IGNORECASE)


def page_kind(url: str) -> str:
    """`document`, `list` (any other page of a column: navigation, landing, list) or
    `unclassified/<shape>` for a page neither (`dated`: a date path with an id of no known
    form; `api`: the list API's path; `script`: a server page; `other`)."""
    parts = urlsplit(url)
    path = unquote(parts.path)
    if any(pattern.match(path) for pattern in _DOCUMENT_PATHS):
        return "document"
    if _OLD_SYSTEM.match(path) and parts.query.startswith("i="):
        return "document"
    if _DATED.search(path):
        return "unclassified/dated"
    if path.startswith("/cms-scsrmzf/"):
        return "unclassified/api"
    if _LIST_FILE.search(path):
        return "list"
    return (
        "unclassified/script"
        if path.lower().endswith((".aspx", ".jsp", ".php"))
        else ("unclassified/other")
    )


@dataclass(frozen=True)
class ListRow:
    """One entry of a list: its title and link, and the 文号 and date if the list shows them
    (as shown: `(MM-DD)`, `YYYY-MM-DD` or `YYYY年M月D日`)."""

    title: str
    href: str
    doc_number: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class Pager:
    """What a list says of its other pages: a page count (`共N页` or the pager script) and
    the link of its next page (`下页` / `下一页`), each None when it gives none."""

    page_count: int | None = None
    next_href: str | None = None


@dataclass(frozen=True)
class ListPage:
    shape: str
    rows: tuple[ListRow, ...]
    pager: Pager


def read_list(html: str, url: str) -> ListPage:
    """The shape, rows and pager of a list (or navigation) page at `url`."""
    page = Selector(text=html)
    shape, rows = _rows(page, url)
    return ListPage(shape, tuple(rows), _pager(page, html, url))


def _rows(page: Selector, url: str) -> tuple[str, list[ListRow]]:
    readers = (
        ("dash_table", _dash_table),
        ("biaobody", _biaobody),
        ("yxgzul", _yxgzul),
        ("gazette_issue", _gazette_issue),
        ("gazette_issues", _gazette_issues),
    )
    for shape, reader in readers:
        rows = reader(page, url)
        if rows:
            return shape, rows
    rows = _li_rows(page, url)
    if rows:
        interpretations = INTERPRETATION_PATH in url and any(row.date for row in rows)
        return ("interpretations" if interpretations else "links"), rows
    return "unknown", [row for a in page.xpath("//body//a[@href]") if (row := _row(a, url))]


def _row(
    anchor: Selector, base: str, doc_number: str | None = None, date: str | None = None
) -> ListRow | None:
    href = (anchor.attrib.get("href") or "").strip()
    if not href or href.lower().startswith(_SKIPPED_HREF):
        return None
    title = clean_text(anchor.attrib.get("title") or anchor.xpath("string()").get() or "")
    return ListRow(title, urljoin(base, href), doc_number or None, date or None)


def _text(node: Selector, css: str) -> str | None:
    found = node.css(css)
    return clean_text(found[0].xpath("string()").get() or "") or None if found else None


def _dash_table(page: Selector, url: str) -> list[ListRow]:
    rows = []
    for tr in page.css("table#dash-table tr"):
        anchor = tr.css("td a[href]")
        date = _date(" ".join(tr.css("td font").xpath("string()").getall()))
        if anchor and (row := _row(anchor[0], url, date=date)):
            rows.append(row)
    return rows


def _biaobody(page: Selector, url: str) -> list[ListRow]:
    rows = []
    for li in page.css("div.biaobody li"):
        anchor = li.css("div.lie2 a[href]") or li.css("a[href]")
        date = _text(li, "div.lie4") or _text(li, "div.lie5")
        if anchor and (row := _row(anchor[0], url, _text(li, "div.lie3"), date)):
            rows.append(row)
    return rows


def _yxgzul(page: Selector, url: str) -> list[ListRow]:
    rows = []
    for li in page.css("div.yxgzul li"):
        anchor = li.css("div.p1 a[href]")
        if anchor and (row := _row(anchor[0], url, date=_date(_text(li, "div.p2") or ""))):
            rows.append(row)
    return rows


def _gazette_issue(page: Selector, url: str) -> list[ListRow]:
    return [row for a in page.css("td.left > a.yh_14heix[href]") if (row := _row(a, url))]


def _gazette_issues(page: Selector, url: str) -> list[ListRow]:
    return [row for a in page.css(".zwgklist00 li a[href]") if (row := _row(a, url))]


def _li_rows(page: Selector, url: str) -> list[ListRow]:
    rows = []
    for li in page.xpath(_CONTENT_LI):
        date = _date(" ".join(li.xpath("./*[not(self::a)]//text() | ./text()").getall()))
        if row := _row(li.xpath(".//a[@href]")[0], url, date=date):
            rows.append(row)
    return rows


def _date(text: str) -> str | None:
    match = _DATE.search(text)
    return match[0] if match else None


def _pager(page: Selector, html: str, url: str) -> Pager:
    text = " ".join(page.xpath("//body//text()[not(ancestor::script)]").getall())
    total = _TOTAL_PAGES.search(text)
    count = int(total[1]) if total else list_page_count(html)
    next_href = None
    for anchor in page.xpath("//a[@href]"):
        if _NEXT_TEXT.match(anchor.xpath("string()").get() or ""):
            row = _row(anchor, url)
            next_href = row.href if row else None
            break
    return Pager(count, next_href)
