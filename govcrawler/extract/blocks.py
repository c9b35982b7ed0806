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
CAPTION_MAX_CHARS = 400


@dataclass(frozen=True)
class Block:
    text: str
    images: tuple[str, ...] = ()
    links: tuple[tuple[str, str], ...] = ()


def blocks_of(container: Selector) -> list[Block]:
    """The container's blocks in reading order; image-only and link-bearing blocks kept."""
    blocks = []
    for fragment in _BOUNDARY.split(container.get()):
        images = tuple(htmllib.unescape(src) for src in _IMG_SRC.findall(fragment))
        links = tuple(
            (htmllib.unescape(href), clean_text(text)) for href, text in _LINK.findall(fragment)
        )
        text = clean_text(fragment)
        if text or images or links:
            blocks.append(Block(text, images, links))
    return blocks


def media_of(
    blocks: list[Block], base_url: str, body: set[str]
) -> tuple[list[Image], list[str], list[Attachment]]:
    """Images with their captions, the caption paragraphs, and the attached documents.

    A caption is the text of an image's own block, or else of the next block when that
    block holds only a short text; a body paragraph ending in a photo credit
    (`[Photo/Xinhua]`, `(Photo from …)`) is a caption too.
    """
    images: list[Image] = []
    captions: list[str] = []
    attachments: list[Attachment] = []
    for index, block in enumerate(blocks):
        for src in block.images:
            url = canonical_url(src, base_url)
            if url:
                caption = _caption_for(blocks, index, body)
                images.append(Image(url, caption))
                if caption and caption not in captions:
                    captions.append(caption)
        if block.text in body and _PHOTO_CREDIT.search(block.text) and block.text not in captions:
            captions.append(block.text)
        for href, text in block.links:
            url = canonical_url(href, base_url)
            if url and _DOCUMENT.search(url) and all(a.url != url for a in attachments):
                attachments.append(Attachment(url, text or url.rsplit("/", 1)[-1]))
    order = {text: position for position, text in enumerate(b.text for b in blocks)}
    captions.sort(key=lambda text: order.get(text, 0))
    return images, captions, attachments


def _caption_for(blocks: list[Block], index: int, body: set[str]) -> str | None:
    for candidate in (blocks[index], blocks[index + 1] if index + 1 < len(blocks) else None):
        if candidate is None or (candidate is not blocks[index] and candidate.images):
            return None
        if candidate.text in body and len(candidate.text) <= CAPTION_MAX_CHARS:
            return candidate.text
    return None
