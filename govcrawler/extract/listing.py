"""Channel and list pages: the links they hold and how many pages a list has."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

from parsel import Selector

from govcrawler.extract.text import clean_text

# The CMS draws its pager with a script call such as
# createPageHTML('page_div', 3, 1, 'gzbg', 'shtml', 11): (div, page count, current page, ...).
_PAGER_CALL = re.compile(r"createPageHTML\s*\(([^)]*)\)", re.IGNORECASE)
_PAGE_COUNT_VARS = re.compile(
    r"\b(?:countPage|pageCount|totalPage|totalPages|page_count)\s*[=:]\s*['\"]?(\d+)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Link:
    href: str
    text: str


def page_links(html: str, page_url: str | None = None) -> list[Link]:
    """Every `<a href>` of the page with its text, in document order.

    With `page_url`, hrefs are made absolute against the document's base: its `<base href>`
    if it has one (itself resolved against `page_url`), else `page_url`, as a browser does.
    """
    page = Selector(text=html)
    base = page_url
    declared = (page.xpath("//base/@href").get() or "").strip()
    if page_url and declared:
        base = urljoin(page_url, declared)
    links = []
    for anchor in page.xpath("//a[@href]"):
        href = (anchor.attrib.get("href") or "").strip()
        if href and not href.lower().startswith(("javascript:", "mailto:", "tel:", "#")):
            text = clean_text(anchor.xpath("string()").get() or "")
            links.append(Link(urljoin(base, href) if base else href, text))
    return links


def list_page_count(html: str) -> int | None:
    """The page count a list's pager script declares, or None if it declares none.

    Reads `createPageHTML(...)` (the first integer argument after the element id) or a
    `countPage = N`-style variable; lists whose pager is plain links need neither.
    """
    for call in _PAGER_CALL.findall(html):
        numbers = [int(arg) for arg in re.findall(r"(?<![\w.'\"])(\d+)(?![\w.'\"])", call)]
        if numbers:
            return numbers[0]
    match = _PAGE_COUNT_VARS.search(html)
    return int(match[1]) if match else None
