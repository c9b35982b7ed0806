"""A document page's links: attachments, its 政策解读 and related documents (SITE-ZH §3.5)."""

from __future__ import annotations

import re
from posixpath import splitext
from urllib.parse import unquote, urlsplit

from parsel import Selector

from govcrawler.extract.blocks import Block
from govcrawler.extract.model import DocumentAttachment, Link
from govcrawler.extract.text import clean_text
from govcrawler.extract.urls import canonical_url, is_page_url, is_site_url

ATTACHMENT_EXTENSIONS = frozenset(
    {"pdf", "doc", "docx", "wps", "ofd", "xls", "xlsx", "et", "zip", "rar", "7z", "txt"}
)
_RELATED = "#xqygb22 li a"
_INTERPRETATION_MARK = "解读"
# The platform's `<div><span>政策解读：</span><a …>` line: a link, not document text.
INTERPRETATION_LINES = "//div[span[starts-with(normalize-space(.), '政策解读')]][a]"
# A 解读's `原文链接：<a …>` line names the document it explains: a related link, not text.
SOURCE_LINES = "//p[starts-with(normalize-space(.), '原文链接')][a]"
_NOT_LINKS = ("javascript:", "mailto:", "#")
_EXTENSION = re.compile(r"\.([A-Za-z0-9]{2,4})$")


def _extension(text: str) -> str | None:
    match = _EXTENSION.search(text.strip())
    return match[1].lower() if match else None


def attachments_of(blocks: list[Block], base_url: str) -> tuple[DocumentAttachment, ...]:
    """Links of the body to files: the extension from the URL, else from the link text."""
    found: dict[str, DocumentAttachment] = {}
    for block in blocks:
        for href, text in block.links:
            url = canonical_url(href, base_url) if not href.startswith(_NOT_LINKS) else None
            if url is None or url in found:
                continue
            path = unquote(urlsplit(url).path)
            extension = _extension(splitext(path)[1] and path) or _extension(text)
            if extension in ATTACHMENT_EXTENSIONS or not is_page_url(url):
                name = text or path.rsplit("/", 1)[-1]
                found[url] = DocumentAttachment(name, url, extension)
    return tuple(found.values())


def _links(nodes: list[Selector], base_url: str) -> list[Link]:
    links: dict[str, Link] = {}
    for node in nodes:
        href = node.attrib.get("href", "")
        url = canonical_url(href, base_url) if not href.startswith(_NOT_LINKS) else None
        title = clean_text(node.attrib.get("title") or node.get())
        if url and is_site_url(url) and is_page_url(url) and url not in links:
            links[url] = Link(title, url)
    return list(links.values())


def related_of(page: Selector, base_url: str) -> tuple[Link, ...]:
    """The related documents box of the gfxwj detail (less the 解读 it lists), and the
    document a 解读 links as its `原文链接`."""
    links = _links([*page.css(_RELATED), *page.xpath(f"{SOURCE_LINES}/a")], base_url)
    return tuple(link for link in links if _INTERPRETATION_MARK not in link.title)


def interpretations_of(page: Selector, base_url: str) -> tuple[Link, ...]:
    """Links to the document's 政策解读: the `政策解读：` line, or a related link named so."""
    nodes = page.xpath(
        f"{INTERPRETATION_LINES}/a | //*[@id='xqygb22']//a[contains(., '{_INTERPRETATION_MARK}')"
        f" or contains(@title, '{_INTERPRETATION_MARK}')]"
    )
    return tuple(_links(nodes, base_url))
