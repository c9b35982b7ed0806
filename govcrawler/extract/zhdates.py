"""Dates as the Chinese pages print them (SITE-ZH §4): `YYYY-MM-DD`, `YYYY年M月D日` (also with
`HH时MM分`), labelled (`发布时间:…`), and in Chinese numerals (`二○二四年三月五日`) on gazette and
print copies. An impossible date (2月30日) is no date; nothing here raises.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date

_FIRST_YEAR, _LAST_YEAR = 1949, 2099
# Zero is printed as ○ (U+25CB), 〇 (U+3007), Ｏ (U+FF2F, O after NFKC) or 零.
_CN_DIGITS = {"〇": 0, "○": 0, "O": 0, "零": 0, "0": 0}
_CN_DIGITS.update(zip("一二三四五六七八九", range(1, 10), strict=True))
_CN_DIGIT = "[〇○O零0一二三四五六七八九]"
_CN_SMALL = "[一二三四五六七八九十]{1,3}"

_NUMERIC = (
    r"(?<!\d)(?P<y>\d{4})\s*(?:年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日"
    r"|(?P<sep>[-/.])(?P<m2>\d{1,2})(?P=sep)(?P<d2>\d{1,2})(?!\d))"
)
_CHINESE = rf"(?P<cy>{_CN_DIGIT}{{4}})\s*年\s*(?P<cm>{_CN_SMALL})\s*月\s*(?P<cd>{_CN_SMALL})\s*日"
_DATE = re.compile(f"{_NUMERIC}|{_CHINESE}")
# A line that is a date and nothing else, as a signature's date line is.
_DATE_LINE = re.compile(rf"[\s(]*(?:{_NUMERIC}|{_CHINESE})[\s)]*")
# The signature sits within the last few lines (after it at most notes like `（此件公开发布）`).
_SIGNATURE_WINDOW = 6


def _small_number(numeral: str) -> int | None:
    """一…九, 十, 十一…十九, 二十…三十一 (month and day numerals)."""
    head, ten, tail = numeral.partition("十")
    if not ten:
        return _CN_DIGITS.get(numeral) if len(numeral) == 1 else None
    tens = _CN_DIGITS.get(head) if head else 1
    units = _CN_DIGITS.get(tail) if tail else 0
    if tens is None or units is None or len(head) > 1 or len(tail) > 1:
        return None
    return tens * 10 + units


def _from_match(match: re.Match[str]) -> date | None:
    if match.group("y") is not None:
        year = int(match.group("y"))
        month = int(match.group("m") or match.group("m2"))
        day = int(match.group("d") or match.group("d2"))
    else:
        year = int("".join(str(_CN_DIGITS[c]) for c in match.group("cy")))
        small_month, small_day = _small_number(match.group("cm")), _small_number(match.group("cd"))
        if small_month is None or small_day is None:
            return None
        month, day = small_month, small_day
    if not _FIRST_YEAR <= year <= _LAST_YEAR:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _normalised(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "")


def date_from_text(text: str) -> date | None:
    """The first real date in `text` (a cell, a `发布时间:` line, a sentence), or None.

    >>> date_from_text("发布时间: 2024年03月05日 10时00分"), date_from_text("二○二四年三月五日")
    (datetime.date(2024, 3, 5), datetime.date(2024, 3, 5))
    """
    for match in _DATE.finditer(_normalised(text)):
        found = _from_match(match)
        if found is not None:
            return found
    return None


def signature_date(lines: Iterable[str]) -> date | None:
    """The date of the line that closes a body (`2024年3月5日` under the issuer), or None.

    Only a line that is a date and nothing else counts, within the last few non-empty lines.
    """
    tail = [line for line in lines if line and line.strip()][-_SIGNATURE_WINDOW:]
    for line in reversed(tail):
        match = _DATE_LINE.fullmatch(_normalised(line))
        if match is not None:
            return _from_match(match)
    return None
