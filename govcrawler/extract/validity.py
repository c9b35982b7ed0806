"""有效性 and 废止日期 (SITE-ZH §3.4): the vocabulary, the inline script, the `losetime` epoch.

New templates write 有效性 with inline JS whose first test is always true, so what a browser shows
is the `file_status` literal; `losetime` (epoch seconds, sometimes milliseconds) is where the
10-13-digit 废止日期 values come from.
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from types import MappingProxyType

from govcrawler.extract.zhdates import date_from_text

VALID, EXPIRED, NOT_YET = "有效", "失效", "尚未施行"
# Every word seen on the site or its crawlers, to the three values www shows.
VALIDITY_WORDS = MappingProxyType(
    {
        "有效": VALID,
        "现行有效": VALID,
        "失效": EXPIRED,
        "废止": EXPIRED,
        "已废止": EXPIRED,
        "尚未施行": NOT_YET,
    }
)

_SPACES = re.compile(r"\s+")
_EDGE_PUNCTUATION = " :：,，.。;；()（）[]【】\"'“”"
_FILE_STATUS = re.compile(r"""\bfile_status\s*=\s*(['"])(.*?)\1""", re.DOTALL)
_LOSETIME = re.compile(r"""\blosetime\s*=\s*(?:(['"])(.*?)\1|(\d+))""", re.DOTALL)
_EPOCH = re.compile(r"\d{10}|\d{13}", re.ASCII)
# A validity word inside a sentence (the old red notice); 有效期 is a period, not a status.
_NOTICE_WORD = re.compile("尚未施行|已废止|废止|失效|现行有效|有效(?!期)")


def _shanghai() -> tzinfo:
    # Without tzdata (some slim images) a fixed +08:00 is exact: China has had no DST since 1991.
    if "Asia/Shanghai" in zoneinfo.available_timezones():
        return zoneinfo.ZoneInfo("Asia/Shanghai")
    return timezone(timedelta(hours=8), "CST")


SHANGHAI = _shanghai()


def normalise_validity(word: str) -> str | None:
    """有效, 失效 or 尚未施行 for a word of the vocabulary (spaces, width, edge punctuation
    ignored); None for anything else, which the caller counts.

    >>> normalise_validity(" 现行有效 "), normalise_validity("已废止"), normalise_validity("--")
    ('有效', '失效', None)
    """
    folded = _SPACES.sub("", unicodedata.normalize("NFKC", word or "")).strip(_EDGE_PUNCTUATION)
    return VALIDITY_WORDS.get(folded)


def _literal(match: re.Match[str] | None, *groups: int) -> str | None:
    if match is None:
        return None
    for group in groups:
        value = match.group(group)
        if value is not None:
            return value.strip() or None
    return None


def validity_from_script(script: str) -> tuple[str | None, str | None]:
    """(file_status, losetime) as the page's script assigns them, stripped; None when a variable
    is not assigned or assigned an empty string.

    >>> validity_from_script("var losetime = '1893427200'; var file_status = '尚未施行';")
    ('尚未施行', '1893427200')
    """
    script = script or ""
    status = _literal(_FILE_STATUS.search(script), 2)
    losetime = _literal(_LOSETIME.search(script), 2, 3)
    return status, losetime


def epoch_date(value: str) -> date | None:
    """The Asia/Shanghai date of an epoch: 10 digits are seconds, 13 milliseconds; else None.

    >>> epoch_date("1893427200"), epoch_date("1893427200000")
    (datetime.date(2030, 1, 1), datetime.date(2030, 1, 1))
    """
    digits = unicodedata.normalize("NFKC", value or "").strip()
    if not _EPOCH.fullmatch(digits):
        return None
    seconds = int(digits) / 1000 if len(digits) == 13 else int(digits)
    try:
        return datetime.fromtimestamp(seconds, UTC).astimezone(SHANGHAI).date()
    except (OverflowError, OSError, ValueError):
        return None


def validity_from_notice(text: str) -> tuple[str | None, date | None]:
    """(有效性, its date) from the old template's red notice (`本文件已于2020年12月31日失效`):
    the first vocabulary word, normalised, and the first date; (None, None) without a word.

    >>> validity_from_notice("该文件已于2020年12月31日废止")
    ('失效', datetime.date(2020, 12, 31))
    """
    text = unicodedata.normalize("NFKC", text or "")
    word = _NOTICE_WORD.search(_SPACES.sub("", text))
    if word is None:
        return None, None
    return normalise_validity(word.group()), date_from_text(text)
