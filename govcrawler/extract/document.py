"""Document pages of the Chinese 政务公开: HTML in, `Document` out (SITE-ZH §3).

The metadata block is read first (`docmeta`: layout a, b, c or none) and dropped, with the page's
furniture and the heading, so that neither is read as body text. The body comes from the first
§3.3 container present (else the generic main-text method); the red-head lines that open it
(issuer, title lines, 文号) are metadata and are dropped too. What the block does not give comes
from the fallbacks of SITE-ZH §0: a 文号 on the heading lines, the signature date, the URL date.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from parsel import Selector

from govcrawler.exceptions import ExtractionError
from govcrawler.extract import generic
from govcrawler.extract.blocks import Block, blocks_of
from govcrawler.extract.docbody import body_lines, red_head_end
from govcrawler.extract.docfields import document_fields, heading_number
from govcrawler.extract.doclinks import (
    INTERPRETATION_LINES,
    SOURCE_LINES,
    attachments_of,
    interpretations_of,
    related_of,
)
from govcrawler.extract.docmeta import metadata_block, regulation_values
from govcrawler.extract.labels import labelled_fields
from govcrawler.extract.model import Document
from govcrawler.extract.text import clean_text, tidy_text
from govcrawler.extract.urls import ArticleRef, article_ref

# (template, body container), in the order of SITE-ZH §3.3 and its fallback chain.
DOCUMENT_CONTAINERS: tuple[tuple[str, str], ...] = (
    ("cmsArticleContent", "#cmsArticleContent ucapcontent"),
    ("cmsArticleContent", "#cmsArticleContent"),
    ("articlecontent", "#articlecontent"),
    ("contText", ".contText"),
    ("TRS_UEDITOR", ".TRS_UEDITOR"),
    ("artleft", "div.artleft"),
    ("zoom", "#zoom"),
)
META_NAMES = (
    *("ArticleTitle", "PubDate", "ColumnName", "ContentSource"),
    *("SiteName", "SiteDomain", "SiteIDCode", "Url"),
)
_FURNITURE = (
    "script, style, noscript, iframe, form, select, button, input, nav, header, footer, "
    "#articleattribute, #xqygb22, .zrbj, [class*=share], [class*=print], [id*=footer], "
    "[class*=footer], [class*=crumb], [class*=menu], [class*=nav], [id*=nav]"
)
_HEADINGS = "ucaptitle, .zfgztit, h1, #articlecontent h2, div.title, h2"
_RED_NOTICE = '#cmsArticleContent font[color="red"], #cmsArticleContent font[color="#ff0000"]'
_LINE_BREAK = re.compile(r"(?i)<br\s*/?>|</?(?:p|div)\b[^>]*>")
_STRAY_END_TAGS = re.compile(r"</(?:body|html)\s*>", re.IGNORECASE)
_BETWEEN_TAGS = re.compile(r">\s+<")
_TITLE_SUFFIX = re.compile(r"\s*[-_|]\s*四川省(?:人民政府|政府信息公开)[^-_|]*$")
_GAZETTE_PATH = re.compile(r"^/zfgbdb/detail/([0-9a-f]{32})\.shtml$")
_CRUMB_START = "当前位置"
# Fewer paragraphs than this in one element is no body: the main-text method decides.
MIN_PARAGRAPHS = 5
_CRUMB_SPLIT = re.compile(r"\s*(?:>|＞|»|›)\s*")


def document_from_page(html: str, url: str) -> Document:
    """The document on a 政务公开 page; raises `ExtractionError` without a title or a body."""
    if not html.strip():
        raise ExtractionError(url, "empty page")
    page = Selector(text=_STRAY_END_TAGS.sub("", html))
    meta = _metas(page)
    scripts = "\n".join(page.xpath("//script/text()").getall())
    related, interpretations = related_of(page, url), interpretations_of(page, url)
    crumbs = _column_path(page)
    notice = " ".join(clean_text(n.get()) for n in page.css(_RED_NOTICE)) or None
    page.css(_RED_NOTICE).drop()
    bar_source = _bar_source(page)
    page.xpath(f"{INTERPRETATION_LINES} | {SOURCE_LINES}").drop()
    block = metadata_block(page)
    if bar_source and not block.values.get("source"):
        block.values["source"] = bar_source
    for name, value in regulation_values(page).items():
        block.values.setdefault(name, value)
    for node in block.nodes:
        node.drop()
    heading = _heading(page)
    page.css(_FURNITURE).drop()
    template, blocks = _body_blocks(page)
    lines = body_lines([b.text for b in blocks if b.text])
    title = _title(meta, heading, lines, page)
    if not title:
        raise ExtractionError(url, "missing title (no heading, ArticleTitle or red head)")
    fields = document_fields(block.values, meta, scripts, notice, lines, url)
    number = heading_number(block.values.get("doc_number"), lines[:6])
    body = lines[red_head_end(lines, title, fields.issuer) :]
    if not body:
        raise ExtractionError(url, "missing body (no paragraph after the red head)")
    ref = article_ref(url) or _gazette_ref(url)
    return Document(
        url=url,
        canonical_id=ref.canonical_id if ref else meta.get("manuscriptId") or url,
        column_id=ref.column_id if ref else None,
        title=title,
        doc_number=number,
        fields=fields,
        body=tuple(body),
        column_path=crumbs,
        attachments=attachments_of(blocks, url),
        interpretations=interpretations,
        related=related,
        meta=tuple(meta.items()),
        template=template,
        layout=block.layout,
        raw_fields=tuple((k, v) for k, v in block.values.items() if v),
    )


def _gazette_ref(url: str) -> ArticleRef | None:
    """The gazette database's `/zfgbdb/detail/<32hex>.shtml` (no date in its path)."""
    match = _GAZETTE_PATH.match(urlsplit(url).path)
    return ArticleRef(match[1], "zfgbdb", None) if match else None


def _metas(page: Selector) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in META_NAMES:
        value = page.xpath(f"//meta[@name='{name}']/@content").get()
        if value and tidy_text(value):
            found[name] = tidy_text(value)
    manuscript = page.css("#manuscriptId::attr(value), #manuscriptId::text").get()
    if manuscript and manuscript.strip():
        found["manuscriptId"] = manuscript.strip()
    return found


def _bar_source(page: Selector) -> str | None:
    """来源 on the old template's attribute bar (`#articleattribute li`: `来源: 省政府办公厅`)."""
    for item in page.css("#articleattribute li"):
        for label, value in labelled_fields(clean_text(item.get())).items():
            if label == "来源" and value.strip():
                return value.strip()
    return None


def _column_path(page: Selector) -> tuple[str, ...]:
    """The breadcrumb's columns (`当前位置：A > B > C`), from its deepest element."""
    nodes = page.xpath(f"//*[starts-with(normalize-space(string(.)), '{_CRUMB_START}')]")
    if not nodes:
        return ()
    text = clean_text(nodes[-1].get()).removeprefix(_CRUMB_START).lstrip(":： ")
    return tuple(part for part in _CRUMB_SPLIT.split(text) if part)


def _heading(page: Selector) -> list[str]:
    """The heading's lines (a title set over two or three lines); the heading is dropped."""
    for node in page.css(_HEADINGS):
        lines = [clean_text(part) for part in _LINE_BREAK.split(node.get())]
        lines = [line for line in lines if line]
        if lines:
            node.drop()
            return lines
    return []


def _body_blocks(page: Selector) -> tuple[str, list[Block]]:
    for template, css in DOCUMENT_CONTAINERS:
        found = page.css(css)
        if found:
            # Inline runs (`<span>川医保</span> <span>规</span>`) are one text: join them.
            squeezed = Selector(text=_BETWEEN_TAGS.sub("><", found[0].get()))
            return template, blocks_of(squeezed)
    dense = _densest_container(page)
    if dense is not None:
        return "unknown", blocks_of(Selector(text=_BETWEEN_TAGS.sub("><", dense.get())))
    return "unknown", generic.main_blocks(page)


def _densest_container(page: Selector) -> Selector | None:
    """The element with the most paragraphs of its own, when it has `MIN_PARAGRAPHS`: a red
    head, body and signature are sibling `<p>`s, and the main-text method drops a signature
    line repeating the issuer (a duplicate to it)."""
    best, most = None, MIN_PARAGRAPHS - 1
    for node in page.xpath("//body//*[p]"):
        count = len(node.xpath("./p"))
        if count > most:
            best, most = node, count
    return best


def _title(meta: dict[str, str], heading: list[str], lines: list[str], page: Selector) -> str:
    """`ArticleTitle` (issuer and title lines, as SITE-ZH §3.2), else the heading's lines
    joined, else the red head's lines before its 文号, else `<title>` less the site name."""
    if meta.get("ArticleTitle"):
        return meta["ArticleTitle"]
    if heading:
        return "".join(heading)
    for index, line in enumerate(lines[:6]):
        if index and heading_number(None, [line]) is not None:
            return "".join(lines[:index])
    fallback = clean_text(page.css("title").get() or "")
    return _TITLE_SUFFIX.sub("", fallback)
