"""What the archive keeps of a 政务公开 document beside its article content (SITE-ZH §3).

A document is an article with metadata: the same identity, versions, captures and aliases, plus
one `document_version` row per version holding these values. `cited_numbers` and
`quoted_titles` are what its body refers to (the `document_citations` and
`document_interpretations` views resolve them against the archive).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass(frozen=True)
class DocumentRecord:
    """A document's metadata as the archive stores it (the crawler's extraction, flattened)."""

    doc_number_raw: str | None = None  # 文号 as published
    doc_number: str | None = None  # normalised (`川府发〔2024〕3号`); None when it does not parse
    doc_series: str | None = None  # the prefix (`川府发`, `四川省人民政府令`)
    doc_year: int | None = None
    doc_seq: int | None = None
    doc_number_guessed: bool = False  # a bracket-less number whose year was guessed
    index_number: str | None = None  # 索引号
    doc_type: str | None = None  # 公文种类
    issuer: str | None = None  # 发布机构 / 发文机关
    written_on: date | None = None  # 成文日期
    published_on: date | None = None  # 发布日期
    validity: str | None = None  # 有效性, normalised (有效, 失效, 尚未施行)
    validity_raw: str | None = None
    validity_source: str | None = None  # static, script, red_notice
    abolished_on: date | None = None  # 废止日期
    subject: str | None = None  # 主题分类
    source: str | None = None  # 来源
    layout: str = "none"  # a, b, c (SITE-ZH §3.1) or none
    column_path: list[str] = field(default_factory=list)
    interpretations: list[dict[str, str]] = field(default_factory=list)  # {"title", "url"}
    related: list[dict[str, str]] = field(default_factory=list)  # {"title", "url"}
    meta: dict[str, str] = field(default_factory=dict)
    is_interpretation: bool = False  # a 政策解读 page (its column or its title says so)
    cited_numbers: list[tuple[str, str]] = field(default_factory=list)  # (raw, normalised)
    quoted_titles: list[str] = field(default_factory=list)  # 《…》 in its body

    def as_row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}
