"""STAND-IN for the issue13-metadata module of this name: take theirs at merge."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo


def normalise_validity(word: str) -> str | None:
    w = (word or "").strip()
    return {
        "有效": "有效",
        "现行有效": "有效",
        "失效": "失效",
        "废止": "失效",
        "已废止": "失效",
        "尚未施行": "尚未施行",
    }.get(w)


def validity_from_script(script: str) -> tuple[str | None, str | None]:
    f = re.search(r"var\s+file_status\s*=\s*['\"]([^'\"]*)['\"]", script or "")
    lose = re.search(r"var\s+losetime\s*=\s*['\"]([^'\"]*)['\"]", script or "")
    return (f[1] or None) if f else None, (lose[1] or None) if lose else None


def epoch_date(value: object) -> date | None:
    v = str(value).strip()
    if not re.fullmatch(r"\d{10}|\d{13}", v):
        return None
    n = int(v) / (1000 if len(v) == 13 else 1)
    return datetime.fromtimestamp(n, ZoneInfo("Asia/Shanghai")).date()
