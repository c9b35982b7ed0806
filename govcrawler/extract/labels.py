"""Label-by-label reading of a document's metadata block (SITE-ZH §3.1).

Labels are padded with spaces (`索 引 号 :`, `文      号：`), spelt several ways (发文机关,
发文字号, 主题词) and often joined into one paragraph, so each value ends at the next label, never
at the end of the line. Values are returned as published, stripped; an empty value or `--` is "".
"""

from __future__ import annotations

import re
import unicodedata
from types import MappingProxyType

# Canonical label -> every spelling seen (spaces stripped).
_SPELLINGS = {
    "索引号": ("索引号",),
    "公文种类": ("公文种类",),
    "发布机构": ("发布机构", "发文机关", "发文机构"),
    "成文日期": ("成文日期",),
    "发布日期": ("发布日期", "发布时间"),  # 发布时间: department pages (SITE-ZH §4)
    "文号": ("文号", "发文字号"),
    "有效性": ("有效性",),
    "废止日期": ("废止日期",),
    "主题分类": ("主题分类", "主题词", "主题"),
    "来源": ("来源",),
}
CANONICAL_LABELS = tuple(_SPELLINGS)
LABEL_SYNONYMS = MappingProxyType(
    {spelling: label for label, spellings in _SPELLINGS.items() for spelling in spellings}
)
# Labels of other provinces and crawlers: they end a value but are not returned, and count only
# with a separator (so 关键词 inside a sentence cuts nothing).
_OTHER_LABELS = ("关键词", "实施日期", "联合发文单位", "印发日期")

_SEPARATOR = r"\s*[:：]"
_BOUNDARY = r"(?:^|(?<=[\s•·●|｜]))"
_SPACES = re.compile(r"\s+")
_EMPTY_VALUES = {"", "-", "--", "—", "——", "－－"}
_VALUE_EDGES = " \t\r\n\u3000\xa0•·●|｜"


def _spaced(label: str) -> str:
    """`索引号` as a pattern that allows spaces between its characters."""
    return r"\s*".join(re.escape(character) for character in label)


def _alternation(labels: list[str]) -> str:
    return "|".join(_spaced(label) for label in sorted(labels, key=len, reverse=True))


_KNOWN = _alternation(list(LABEL_SYNONYMS))
_OTHER = _alternation(list(_OTHER_LABELS))
_LABEL = re.compile(
    rf"{_BOUNDARY}(?P<k1>{_KNOWN})(?:{_SEPARATOR})?|(?P<k2>{_KNOWN}){_SEPARATOR}"
    rf"|(?P<other>{_OTHER}){_SEPARATOR}"
)
_CELL_EDGES = ":：•·●|｜"


def _compact(text: str) -> str:
    return _SPACES.sub("", unicodedata.normalize("NFKC", text or ""))


def canonical_label(text: str) -> str | None:
    """The canonical label a cell or `<b>` holds on its own (`索  引  号：` -> 索引号), or None.

    >>> canonical_label("文      号："), canonical_label("发文机关"), canonical_label("四川省")
    ('文号', '发布机构', None)
    """
    return LABEL_SYNONYMS.get(_compact(text).strip(_CELL_EDGES))


def _value(text: str) -> str:
    value = text.strip(_VALUE_EDGES)
    return "" if value in _EMPTY_VALUES else value


def labelled_fields(text: str) -> dict[str, str]:
    """Canonical label -> value for every known label in `text`, in order of appearance; a
    label printed twice (a body printed twice) keeps its first non-empty value.

    >>> labelled_fields("发布机构:四川省人民政府成文日期:2024-03-05 文  号：川府发〔2024〕3号")
    {'发布机构': '四川省人民政府', '成文日期': '2024-03-05', '文号': '川府发〔2024〕3号'}
    """
    text = text or ""
    matches = list(_LABEL.finditer(text))
    if not matches:
        return {}
    fields: dict[str, str] = {}
    ends = [following.start() for following in matches[1:]] + [len(text)]
    for match, end in zip(matches, ends, strict=True):
        spelling = match.group("k1") or match.group("k2")
        if spelling is None:
            continue
        label = LABEL_SYNONYMS[_compact(spelling)]
        value = _value(text[match.end() : end])
        if not fields.get(label):
            fields[label] = value
    return fields
