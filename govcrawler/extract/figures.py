"""Captions that the page's structure gives its images, read before the body is cut into blocks.

A `<figure>` is the scope of its images' caption: its `<figcaption>` names them, and nothing
outside the figure does (the paragraph after a figure is body text, however much it looks like
a caption). A layout table names an image in the image's own cell or in the cell below it. The
page shows these as captions, not as paragraphs, so they are taken out of the tree: the body
never repeats them. An image outside both is left to the neighbouring-paragraph rule of
`blocks.media_of`; `alt`/`title` text names an image only when nothing else does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from govcrawler.extract.furniture import remove_element
from govcrawler.extract.text import clean_text

CAPTION_MAX_CHARS = 400
# alt/title text that names a file or says only "a picture", not what it shows.
_NO_NAME = re.compile(
    r"^(?:.*\.(?:jpe?g|png|gif|bmp|webp|svg)|[\w-]*\d{6,}[\w-]*|image|img|photo|picture|pic|"
    r"图片|照片|图像|缩略图)$",
    re.IGNORECASE,
)


@dataclass
class Captions:
    """By an image's `src` as written in the page: the caption its figure or table cell gives
    (`scoped`, None when it gives none: then no neighbouring paragraph is looked at either),
    and its alt/title text (`named`)."""

    scoped: dict[str, str | None] = field(default_factory=dict)
    named: dict[str, str] = field(default_factory=dict)

    def for_image(self, src: str, beside: str | None) -> str | None:
        """The caption of `src`; `beside` is what the neighbouring-paragraph rule found."""
        if src in self.scoped:
            return self.scoped[src] or self.named.get(src)
        return beside or self.named.get(src)


def take_captions(container: etree._Element) -> Captions:
    """The captions of the images under `container`, their elements removed from it."""
    captions = Captions()
    spent: list[etree._Element] = []
    for image in list(container.iter("img")):  # a list: cells are rewritten on the way
        src = image.get("src")
        if not src:
            continue
        name = _own_name(image)
        if name:
            captions.named.setdefault(src, name)
        figure = _within(image, container, "figure")
        if figure is not None:
            captions.scoped[src] = _figcaption(figure, spent)
            continue
        cell = _within(image, container, "td", "th")
        # a cell holding more than a caption's worth of text lays out the body, not the image
        if cell is not None and len(_text(cell)) <= CAPTION_MAX_CHARS:
            captions.scoped[src] = _cell_caption(cell, spent)
    for element in spent:
        _remove(element)
    return captions


def _within(
    element: etree._Element, container: etree._Element, *tags: str
) -> etree._Element | None:
    """The nearest ancestor of `element` with one of `tags`, inside `container` only."""
    for ancestor in element.iterancestors():
        if ancestor is container:
            return None
        if ancestor.tag in tags:
            return ancestor
    return None


def _own_name(image: etree._Element) -> str | None:
    for attribute in ("alt", "title"):
        text = clean_text(image.get(attribute) or "")
        if text and not _NO_NAME.match(text):
            return text
    return None


def _figcaption(figure: etree._Element, spent: list[etree._Element]) -> str | None:
    """The text of the figure's own `<figcaption>` (not one of a figure nested in it)."""
    for caption in figure.iter("figcaption"):
        if next(caption.iterancestors("figure"), None) is figure:
            if caption not in spent:
                spent.append(caption)
            return _text(caption) or None
    return None


def _cell_caption(cell: etree._Element, spent: list[etree._Element]) -> str | None:
    """Text in the image's own cell, else the text of the cell below it (same column)."""
    own = _text(cell)
    if own:
        _keep_only_images(cell)
        return own
    below = _cell_below(cell)
    if below is None or below.find(".//img") is not None:
        return None
    text = _text(below)
    if not text or len(text) > CAPTION_MAX_CHARS:
        return None
    if below not in spent:
        spent.append(below)
    return text


def _cell_below(cell: etree._Element) -> etree._Element | None:
    row = cell.getparent()
    if row is None or row.tag != "tr":
        return None
    column = [child for child in row if child.tag in ("td", "th")].index(cell)
    following = row.getnext()
    while following is not None and following.tag != "tr":
        following = following.getnext()
    if following is None:
        return None
    cells = [child for child in following if child.tag in ("td", "th")]
    return cells[column] if column < len(cells) else None


def _text(element: etree._Element) -> str:
    return clean_text(" ".join(element.itertext()))


def _keep_only_images(cell: etree._Element) -> None:
    """The cell's text is the images' caption: leave the images, drop the rest."""
    images = list(cell.iter("img"))
    for child in list(cell):
        cell.remove(child)
    cell.text = None
    for image in images:
        image.tail = None
        cell.append(image)


def _remove(element: etree._Element) -> None:
    """Take a caption out of the tree; a cell keeps its place in the row, empty."""
    if element.tag in ("td", "th"):
        element.clear()
    else:
        remove_element(element)
