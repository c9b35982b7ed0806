"""A body container as an ordered list of text blocks, and the media found in them.

The container is serialised once and cut at block-level tags: cheaper than walking the tree,
and it keeps the order of paragraphs, images and links as the reader sees them. Regular
expressions are safe here because they only ever read lxml's own serialisation (attributes in
double quotes, quotes escaped).
"""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass

from parsel import Selector

from govcrawler.extract.figures import CAPTION_MAX_CHARS, Captions
from govcrawler.extract.model import Attachment, Image
from govcrawler.extract.text import clean_text
from govcrawler.extract.urls import canonical_url

_BOUNDARY = re.compile(
    r"<br\s*/?>|</?(?:p|div|li|ul|ol|h[1-6]|tr|td|th|table|tbody|thead|section|article|main|"
    r"aside|blockquote|center|figure|figcaption|dl|dd|dt|ucapcontent|ucaptitle|pre|hr)\b[^>]*>",
    re.IGNORECASE,
)
_IMG_SRC = re.compile(r"<img\b[^>]*?\bsrc=\"([^\"]*)\"", re.IGNORECASE)
_LINK = re.compile(r"<a\b[^>]*?\bhref=\"([^\"]*)\"[^>]*>(.*?)</a>", re.IGNORECASE | re.DOTALL)
_DOCUMENT = re.compile(
    r"\.(?:pdf|docx?|xlsx?|pptx?|wps|ofd|zip|rar|7z|txt|csv)(?:$|\?)", re.IGNORECASE
)
_PHOTO_CREDIT = re.compile(
    r"(?:\[\s*photo\s*/[^\]]+\]|\(\s*photo (?:from|by|provided by|courtesy of) [^)]+\))\s*$",
    re.IGNORECASE,
)
# An opening tag that sets its block apart as a caption: centred, or named for one.
_SET_APART = re.compile(
    r"^<(?:center\b|[^>]*(?:text-align:\s*center|align=\"center\"|class=\"(?:[^\"]*[\s_-])?"
    r"(?:caption|pic|photo|img)))",
    re.IGNORECASE,
)
# What a line of attachment links says besides the links themselves.
_ATTACHMENT_LABEL = re.compile(
    r"^(?:(?:attachments?|annex(?:es)?|appendix|enclosures?|downloads?|附件|相关附件|附件下载|下载)"
    r"\s*\d*\s*[:：]?)?[\d.、()（）\s]*(?:[(（]\s*[\d.]+\s*[kmg]?b\s*[)）])?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Block:
    text: str
    images: tuple[str, ...] = ()
    links: tuple[tuple[str, str], ...] = ()
    set_apart: bool = False  # shown as a caption would be (see `_SET_APART`)


def blocks_of(container: Selector) -> list[Block]:
    """The container's blocks in reading order; image-only and link-bearing blocks kept."""
    blocks = []
    serialised = container.get()
    opening, start = "", 0
    for boundary in (*_BOUNDARY.finditer(serialised), None):
        end = boundary.start() if boundary else len(serialised)
        block = _block(serialised[start:end], bool(_SET_APART.match(opening)))
        if block:
            blocks.append(block)
        if boundary:
            opening, start = boundary.group(0), boundary.end()
    return blocks


def _block(fragment: str, set_apart: bool) -> Block | None:
    images = tuple(htmllib.unescape(src) for src in _IMG_SRC.findall(fragment))
    links = tuple(
        (htmllib.unescape(href), clean_text(text)) for href, text in _LINK.findall(fragment)
    )
    text = clean_text(fragment)
    return Block(text, images, links, set_apart) if text or images or links else None


def is_attachment_line(block: Block, base_url: str) -> bool:
    """A block that only lists attachments ("Attachment: <link>", "附件：1. <link>"): its
    text belongs to `Article.attachments`, not to the body."""
    rest = block.text
    found = False
    for href, text in block.links:
        if not text or "." not in href:  # cheap before the URL is resolved
            continue
        url = canonical_url(href, base_url)
        if url and _DOCUMENT.search(url):
            rest, found = rest.replace(text, " "), True
    return found and bool(_ATTACHMENT_LABEL.match(rest.strip()))


def media_of(
    blocks: list[Block], base_url: str, body: set[str], named: Captions | None = None
) -> tuple[list[Image], list[str], list[Attachment]]:
    """Images with their captions, the caption paragraphs, and the attached documents.

    A caption is what the image's figure or table cell gives (`named`, see `figures`), else
    the text of the image's own block, or of the next block when that one is short and set
    apart as a caption (centred) or ends in a photo credit, else the image's alt/title text;
    a body paragraph ending in a photo credit (`[Photo/Xinhua]`, `(Photo from …)`) is a
    caption too.
    """
    named = named or Captions()
    images: list[Image] = []
    captions: list[str] = []
    attachments: list[Attachment] = []
    for index, block in enumerate(blocks):
        for src in block.images:
            url = canonical_url(src, base_url)
            if url:
                caption = named.for_image(src, _caption_for(blocks, index, body))
                images.append(Image(url, caption))
                if caption and caption not in captions:
                    captions.append(caption)
        if block.text in body and _PHOTO_CREDIT.search(block.text) and block.text not in captions:
            captions.append(block.text)
        for href, text in block.links:
            url = canonical_url(href, base_url)
            if url and _DOCUMENT.search(url) and all(a.url != url for a in attachments):
                attachments.append(Attachment(url, text or url.rsplit("/", 1)[-1]))
    return images, captions, attachments


def _caption_for(blocks: list[Block], index: int, body: set[str]) -> str | None:
    own = blocks[index]
    if own.text in body and len(own.text) <= CAPTION_MAX_CHARS:
        return own.text
    after = blocks[index + 1] if index + 1 < len(blocks) else None
    if after is None or after.images or after.text not in body:
        return None
    if len(after.text) > CAPTION_MAX_CHARS:
        return None
    # An ordinary paragraph after an image is body text: only one shown as a caption is one.
    return after.text if after.set_apart or _PHOTO_CREDIT.search(after.text) else None
