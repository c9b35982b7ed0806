"""The generic main-text method, for pages whose DOM matches no known template.

trafilatura finds the main text of the pruned page (navigation, widgets and footers already
dropped by the caller); its XML output is turned into the same `Block`s the template path uses.
When it finds nothing (a very short page), every paragraph of the body is taken instead and the
line rules are left to remove what is not article text.
"""

from __future__ import annotations

import logging

from parsel import Selector

from govcrawler.extract.blocks import Block, blocks_of
from govcrawler.extract.text import clean_text

logger = logging.getLogger(__name__)
_TEXT_ELEMENTS = {"p", "head", "item", "quote", "cell", "list", "graphic"}


def main_blocks(page: Selector) -> list[Block]:
    """Blocks of the page's main text, found without knowing its template."""
    import trafilatura  # heavy import, only paid by pages that need it

    pruned = page.get()
    xml = trafilatura.extract(
        pruned,
        output_format="xml",
        include_images=True,
        include_links=True,
        include_tables=True,
        include_comments=False,
        favor_recall=True,
        deduplicate=False,
    )
    if xml:
        blocks = _blocks_from_xml(xml)
        if blocks:
            return blocks
    logger.debug("generic extraction found no main text; taking every body block")
    body = page.css("body")
    return blocks_of(body[0] if body else page)


def _blocks_from_xml(xml: str) -> list[Block]:
    doc = Selector(text=xml, type="xml")
    blocks: list[Block] = []
    for node in doc.xpath("//main/*"):
        tag = node.xpath("name()").get()
        if tag not in _TEXT_ELEMENTS:
            continue
        images = tuple(node.xpath("descendant-or-self::graphic/@src").getall())
        links = tuple(
            (ref.xpath("@target").get() or "", clean_text(ref.xpath("string()").get() or ""))
            for ref in node.xpath(".//ref[@target]")
        )
        text = clean_text(node.xpath("string()").get() or "")
        if text or images or links:
            blocks.append(Block(text, images, links))
    return blocks
