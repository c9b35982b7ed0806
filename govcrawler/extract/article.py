"""Article pages: HTML in, `Article` out.

Known body containers (SITE.md: the old `#cmsArticleContent`/`<ucapcontent>` template, the newer
`div.contText` and `div.artleft`, the `.TRS_Editor` and `#zoom` of the platform's other sites)
are tried first; a page with none of them goes to the generic main-text method
(`generic.main_blocks`), and the article records which path produced it. Either way the same
DOM pruning and line rules strip navigation, widgets and every footer variant.
"""

from __future__ import annotations

import re
from datetime import date

from lxml import etree
from parsel import Selector

from govcrawler.exceptions import ExtractionError
from govcrawler.extract import generic
from govcrawler.extract.blocks import Block, blocks_of, is_attachment_line, media_of
from govcrawler.extract.figures import Captions, take_captions
from govcrawler.extract.furniture import drop_widgets
from govcrawler.extract.model import Article
from govcrawler.extract.text import clean_text, comparable_text, strip_boilerplate, tidy_text
from govcrawler.extract.urls import article_ref

# (template name, selector of the body container), most specific first.
KNOWN_CONTAINERS: tuple[tuple[str, str], ...] = (
    ("cmsArticleContent", "#cmsArticleContent ucapcontent"),
    ("cmsArticleContent", "#cmsArticleContent"),
    ("contText", "div.contText"),
    ("artleft", "div.artleft .TRS_Editor"),
    ("artleft", "div.artleft"),
    ("TRS_Editor", ".TRS_Editor"),
    ("zoom", "#zoom"),
    # HTML5's own name for an article's content: templates of no CMS we know use it
    ("article", "article"),
)
# Page furniture removed before anything is read: never article text on any template.
_FURNITURE = (
    "script, style, noscript, template, iframe, form, select, button, nav, header, footer, "
    "input, textarea, #articleattribute, [id*=footer], [class*=footer], [class*=share], "
    "[id*=share], [class*=print], [class*=fontsize], [class*=font-size], [class*=breadcrumb], "
    "[class*=crumb], [id*=page_div], [class*=menu], [id*=menu], [class*=nav], [id*=nav], "
    "[class*=lang], [class*=toolbar]"
)
_HEADINGS = "ucaptitle, h1, [class*=title] h2, h2, h3, [class*=title]"


def _selection(tags: tuple[str, ...], *attribute_tests: str) -> str:
    """The XPath of a CSS selector list of tag names and attribute tests, as libxml2 evaluates
    it fastest: a name step per tag, and a predicate on the attribute nodes only (never a
    predicate over every element). The same elements in the same (document) order as
    cssselect's translation, at a fifth of its cost (B1: 1.3 ms per page for the furniture)."""
    steps = [f"descendant-or-self::{tag}" for tag in tags]
    return " | ".join([*steps, *attribute_tests])


def _holds(attribute: str, *parts: str, equals: tuple[str, ...] = ()) -> str:
    """Elements whose `attribute` contains one of `parts` (`[attribute*=part]`) or equals one
    of `equals` (`#id`)."""
    tests = [f". = '{value}'" for value in equals] + [f"contains(., '{part}')" for part in parts]
    return f"descendant-or-self::*/@{attribute}[{' or '.join(tests)}]/.."


# `_FURNITURE` and `_HEADINGS` (`[class*=title] h2` is within `h2`); tests/test_extract_speed.py
# checks on every fixture page that they select what the CSS lists select.
_FURNITURE_XPATH = _selection(
    (
        *("script", "style", "noscript", "template", "iframe", "form", "select", "button"),
        *("nav", "header", "footer", "input", "textarea"),
    ),
    _holds("id", "footer", "share", "page_div", "menu", "nav", equals=("articleattribute",)),
    _holds(
        "class",
        *("footer", "share", "print", "fontsize", "font-size", "breadcrumb", "crumb", "menu"),
        *("nav", "lang", "toolbar"),
    ),
)
_HEADINGS_XPATH = _selection(("ucaptitle", "h1", "h2", "h3"), _holds("class", "title"))
# The visible text, and the named meta tags, each read in one walk straight from lxml
# (parsel wraps every text node in a Selector: 2 ms per page).
_VISIBLE_TEXT = etree.XPath("//body//text()[not(ancestor::script)]", smart_strings=False)
_NAMED_METAS = etree.XPath("//meta[@name]")
_LANG = etree.XPath("/html/@lang", smart_strings=False)
_BR = re.compile(r"(?i)<br\s*/?>")
_UPDATED = re.compile(r"Updated\s*[:：]\s*(\d{4})[.\-/](\d{1,2})[.\-/](\d{1,2})", re.IGNORECASE)
_PUBDATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_TITLE_SUFFIX = re.compile(r"\s*[-_|–—]\s*(?:Sichuan|四川)[^-_|–—]*$")
_STRAY_END_TAGS = re.compile(r"</(?:body|html)\s*>", re.IGNORECASE)
_CLOSED = re.compile(r"</html\s*>", re.IGNORECASE)
_CJK = re.compile(r"[\u3400-\u9fff]")


def article_from_page(html: str, url: str, column_name: str | None = None) -> Article:
    """The article on an article page; raises `ExtractionError` if it has no title or body.

    `url` is the canonical URL the page was fetched from; `column_name` a label learned from
    the navigation, used when the page carries no `ColumnName` meta tag.
    """
    if not html.strip():
        raise ExtractionError(url, "empty page")
    # A browser ignores a `</body>` or `</html>` in the middle of a page (a CMS include leaves
    # them); libxml2 would end the document there and lose the rest of the body.
    page = Selector(text=_STRAY_END_TAGS.sub("", html))
    metas = _NAMED_METAS(page.root)
    title = _title(page, metas)
    published_on, date_source = _published_on(page, metas, url)
    page.xpath(_FURNITURE_XPATH).drop()
    drop_widgets(page.root)
    _drop_headline(page, title)
    template, container = _container(page)
    if container is not None:
        named = take_captions(container.root)
        blocks, path = blocks_of(container), "container"
    else:
        named = take_captions(page.root)
        blocks, path = generic.main_blocks(page), "generic"
    labels = (title, _meta(metas, "ColumnName") or "")
    body, captions, images, attachments = _content(blocks, url, labels, named)
    body = _without_cut_paragraph(html, body)
    if not title:
        raise ExtractionError(url, "missing title")
    if not body:
        raise ExtractionError(url, "missing body")
    ref = article_ref(url)
    return Article(
        url=url,
        canonical_id=ref.canonical_id if ref else _manuscript_id(page) or url,
        column_id=ref.column_id if ref else None,
        column_name=_meta(metas, "ColumnName", page.root) or column_name,
        title=title,
        published_on=published_on,
        date_source=date_source,
        body=tuple(body),
        captions=tuple(captions),
        images=tuple(images),
        attachments=tuple(attachments),
        language=_language(page, body),
        template=template,
        extraction_path=path,
    )


def _container(page: Selector) -> tuple[str, Selector | None]:
    for template, css in KNOWN_CONTAINERS:
        found = page.css(css)
        if found:
            return template, found[0]
    return "unknown", None


def _content(
    blocks: list[Block], url: str, labels: tuple[str, str], named: Captions
) -> tuple[list[str], list[str], list, list]:
    """Body paragraphs, captions, images and attachments from the container's blocks.

    `labels` are the headline and the column's name: a block repeating either inside the
    body container is the page's furniture, not text. A line of attachment links is left to
    the attachments."""
    texts = [b.text for b in blocks if b.text and not is_attachment_line(b, url)]
    kept = set(strip_boilerplate(texts))
    label_keys = {comparable_text(label) for label in labels if label}
    body: list[str] = []
    for text in texts:
        if text in kept and comparable_text(text) not in label_keys and text not in body[-1:]:
            body.append(text)
    images, captions, attachments = media_of(blocks, url, set(body), named)
    return body, captions, images, attachments


def _without_cut_paragraph(html: str, body: list[str]) -> list[str]:
    """A page cut off in transit (no closing `</html>`) ends in a paragraph cut mid-way:
    keep only the paragraphs that were complete."""
    if not body or _CLOSED.search(html[-2048:]):
        return body
    last_close = html.lower().rfind("</p>")
    tail = clean_text(html[last_close + len("</p>") :] if last_close >= 0 else html)
    return body[:-1] if body[-1] in tail else body


def _meta(metas: list, name: str, root: etree._Element | None = None) -> str | None:
    """The content of the first `<meta name=…>` of `metas` that has one (as the XPath
    `//meta[@name='…']/@content` finds it); with `root`, of those still in the page."""
    for element in metas:
        value = element.get("content") if element.get("name") == name else None
        if value is not None and (root is None or _in_page(element, root)):
            return tidy_text(value) or None if value else None
    return None


def _in_page(element: etree._Element, root: etree._Element) -> bool:
    """False for an element dropped from the page (or inside one that was)."""
    ancestors = list(element.iterancestors())
    return (ancestors[-1] if ancestors else element) is root


def _title(page: Selector, metas: list) -> str:
    """The headline as shown; the `ArticleTitle` meta tag or `<title>` when none is shown."""
    meta = _meta(metas, "ArticleTitle")
    shown = [_heading_text(node) for node in page.xpath(_HEADINGS_XPATH)]
    shown = [text for text in shown if text]
    if meta:
        key = comparable_text(meta)
        return next((text for text in shown if comparable_text(text) == key), meta)
    head = page.css("ucaptitle, h1")
    if head and _heading_text(head[0]):
        return _heading_text(head[0])
    fallback = clean_text(page.css("title").get() or "")
    return _TITLE_SUFFIX.sub("", fallback) or (shown[0] if shown else "")


def _drop_headline(page: Selector, title: str) -> None:
    """Remove the element showing the headline, so it is not read as a body paragraph."""
    key = comparable_text(title)
    for node in page.xpath(_HEADINGS_XPATH):
        if key and comparable_text(_heading_text(node)) == key:
            node.drop()


def _heading_text(node: Selector) -> str:
    html = _BR.sub(" ", node.get())
    return clean_text(html)


def _published_on(page: Selector, metas: list, url: str) -> tuple[date | None, str | None]:
    """The `Updated:` line, else meta `PubDate`, else the date in the URL."""
    visible = " ".join(_VISIBLE_TEXT(page.root))
    for source, match in (
        ("updated", _UPDATED.search(visible)),
        ("meta", _PUBDATE.match(_meta(metas, "PubDate") or "")),
    ):
        if match:
            try:
                return date(int(match[1]), int(match[2]), int(match[3])), source
            except ValueError:
                continue
    ref = article_ref(url)
    if ref and ref.url_date:
        return ref.url_date, "url"
    return None, None


def _manuscript_id(page: Selector) -> str | None:
    value = page.css("#manuscriptId::attr(value), #manuscriptId::text").get()
    return value.strip() if value and value.strip() else None


def _language(page: Selector, body: list[str]) -> str:
    declared = next(iter(_LANG(page.root)), "").strip().lower()
    if declared:
        return declared.split("-")[0]
    text = "".join(body)
    return "zh" if text and len(_CJK.findall(text)) > 0.3 * len(text) else "en"
