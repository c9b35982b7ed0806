"""STAND-IN for the issue13-metadata module of this name: take theirs at merge."""

from __future__ import annotations

import re
from datetime import date

_D = re.compile(r"(\d{4})\s*[-年./]\s*(\d{1,2})\s*[-月./]\s*(\d{1,2})")


def date_from_text(text: str) -> date | None:
    m = _D.search(text or "")
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def signature_date(lines: list[str]) -> date | None:
    for line in reversed(lines):
        if re.fullmatch(r"\s*\d{4}年\d{1,2}月\d{1,2}日\s*", line):
            return date_from_text(line)
    return None
