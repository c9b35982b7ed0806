"""STAND-IN for the issue13-metadata module of this name: take theirs at merge."""

from __future__ import annotations

import re

LABELS = (
    "索引号",
    "公文种类",
    "发布机构",
    "发文机关",
    "发文机构",
    "成文日期",
    "发布日期",
    "文号",
    "发文字号",
    "有效性",
    "废止日期",
    "主题分类",
    "主题词",
    "主题",
    "来源",
)
_SP = re.compile(r"[\s\u3000\xa0]+")


def canonical_label(text: str) -> str | None:
    t = _SP.sub("", text or "").rstrip(":：")
    return t if t in LABELS else None


def labelled_fields(text: str) -> dict[str, str]:
    sp = r"[\s\u3000\xa0]*"
    alts = "|".join(
        sp.join(re.escape(c) for c in label) for label in sorted(LABELS, key=len, reverse=True)
    )
    rx = re.compile(rf"({alts}){sp}[:：]?")
    out: dict[str, str] = {}
    ms = list(rx.finditer(text))
    for i, m in enumerate(ms):
        end = ms[i + 1].start() if i + 1 < len(ms) else len(text)
        out.setdefault(canonical_label(m[1]) or "", text[m.end() : end].strip())
    return out
