"""The metadata block of a document page: which of SITE-ZH §3.1's layouts it is, and its values.

(a) `<li>` bullets of the new template, (b) the platform's `<td><b>label</b></td><td>value</td>`
table, (c) the old UCAP grid inside `td.box td.box`. Labels are matched by `labels.canonical_label`
(every spacing and colon of §3.1), each value ending at its own cell or at the next label.
A block in none of these shapes (a `<dl>`, a short `<div>` of labelled values) is still read, as
layout "none": the page is counted as unknown, its values are not lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from parsel import Selector

from govcrawler.extract.labels import canonical_label, labelled_fields
from govcrawler.extract.text import clean_text

# Canonical labels (and the synonyms of §3.1) to the field each fills.
FIELD_OF_LABEL = {
    "索引号": "index_number",
    "公文种类": "doc_type",
    "发布机构": "issuer",
    "发文机关": "issuer",
    "发文机构": "issuer",
    "成文日期": "written_on",
    "发布日期": "published_on",
    "文号": "doc_number",
    "发文字号": "doc_number",
    "有效性": "validity",
    "废止日期": "abolished_on",
    "主题分类": "subject",
    "主题词": "subject",
    "主题": "subject",
    "来源": "source",
}
# A block needs this many labelled values to count as metadata (not a sentence that names one).
MIN_LABELS = 3
_EMPTY_VALUES = {"", "--", "-", "无"}
_BR = re.compile(r"(?i)<br\s*/?>")
_BETWEEN_TAGS = re.compile(r">\s+<")


@dataclass
class MetadataBlock:
    layout: str  # "a", "b", "c", "none"
    values: dict[str, str] = field(default_factory=dict)  # field name -> value as published
    nodes: list[Selector] = field(default_factory=list)  # the block's elements, to drop


def metadata_block(page: Selector) -> MetadataBlock:
    """The first layout that gives at least `MIN_LABELS` labelled values; else "none"."""
    for layout, reader in (("c", _ucap_grid), ("b", _label_table), ("a", _bullets)):
        block = reader(page)
        if block is not None and len(block.values) >= MIN_LABELS:
            block.layout = layout
            return block
    return _unknown_block(page) or MetadataBlock("none")


def _text(node: Selector) -> str:
    """The node's text, inline runs joined (`<span>川办</span> <span>规</span>`: one 文号)."""
    return clean_text(_BR.sub(" ", _BETWEEN_TAGS.sub("><", node.get())))


def _add(values: dict[str, str], label: str | None, value: str) -> bool:
    name = FIELD_OF_LABEL.get(label or "")
    if name is None:
        return False
    value = value.strip()
    if name not in values or not values[name]:
        values[name] = "" if value in _EMPTY_VALUES else value
    return True


def _cell_pairs(rows: list[Selector]) -> dict[str, str]:
    """Label cells and the cell after each, row by row."""
    values: dict[str, str] = {}
    for row in rows:
        cells = [_text(cell) for cell in row.xpath("./td | ./th")]
        index = 0
        while index < len(cells):
            label = canonical_label(cells[index])
            if label and _add(values, label, cells[index + 1] if index + 1 < len(cells) else ""):
                index += 2
            else:
                index += 1
    return values


def _ucap_grid(page: Selector) -> MetadataBlock | None:
    for css in ("td.box td.box table", 'td[bgcolor="#fbfbfb"] table'):
        for table in page.css(css):
            values = _cell_pairs(table.xpath("./tr | ./tbody/tr"))
            if len(values) >= MIN_LABELS:
                return MetadataBlock("c", values, [table])
    return None


def _label_table(page: Selector) -> MetadataBlock | None:
    for table in page.xpath("//table[.//td/b]"):
        if table.xpath(".//table"):
            continue  # a layout table holding others: the inner one is the block
        values = _cell_pairs(table.xpath("./tr | ./tbody/tr"))
        if len(values) >= MIN_LABELS:
            return MetadataBlock("b", values, [table])
    return None


def _bullets(page: Selector) -> MetadataBlock | None:
    for listing in page.xpath("//ul[li]"):
        values: dict[str, str] = {}
        for item in listing.xpath("./li"):
            for label, value in labelled_fields(_text(item)).items():
                _add(values, label, value)
        if len(values) >= MIN_LABELS:
            return MetadataBlock("a", values, [listing])
    return None


# A block of unknown shape is short: a longer element is a body that names labels in sentences.
UNKNOWN_BLOCK_MAX_CHARS = 400


def _unknown_block(page: Selector) -> MetadataBlock | None:
    """The smallest `<dl>` or leaf `<div>` holding `MIN_LABELS` labelled values, as "none"."""
    best: tuple[int, MetadataBlock] | None = None
    for node in page.xpath("//dl | //div[not(.//div) and not(.//table) and not(.//ul)]"):
        text = _text(node)
        if len(text) > UNKNOWN_BLOCK_MAX_CHARS:
            continue
        values: dict[str, str] = {}
        for label, value in labelled_fields(text).items():
            _add(values, label, value)
        if len(values) >= MIN_LABELS and (best is None or len(text) < best[0]):
            best = (len(text), MetadataBlock("none", values, [node]))
    return best[1] if best else None


# The 政府规章库 detail prints its maker and dates under the title (SITE-ZH §1):
# `四川省人民政府　2020年8月28日公布　2020年11月1日施行`.
_REGULATION_DATES = ".zfgztit_ssdate"
_PROMULGATED = re.compile(
    r"^(?P<maker>\D*?)\s*(?P<date>\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日)\s*公布"
)


def regulation_values(page: Selector) -> dict[str, str]:
    """发布机构 and 成文日期 (the 公布 date) of a 政府规章库 detail; {} on other pages."""
    match = _PROMULGATED.match(clean_text(page.css(_REGULATION_DATES).get() or ""))
    if match is None:
        return {}
    values = {"written_on": match["date"]}
    if match["maker"].strip():
        values["issuer"] = match["maker"].strip()
    return values
