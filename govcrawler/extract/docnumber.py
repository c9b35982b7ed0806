"""文号 (document numbers): parse one, find every one a text mentions, normalise (SITE-ZH §4).

`川府发〔2024〕3号` is the canonical shape; reprints use `[]`, `()`, `【】`, full-width forms,
spaces anywhere (split inline runs, a space before 号) or no brackets at all. 省政府令 are numbered
`四川省人民政府令第N号`, often over two heading lines. Nothing here raises on any input.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class DocNumber:
    raw: str
    normalised: str
    prefix: str | None
    year: int | None
    number: int | None
    guessed_year: bool = False


_HAN = "[\u4e00-\u9fff]"
_DIGIT = "[0-9０-９]"
_OPEN = "[〔\\[［【(（]"
_CLOSE = "[〕\\]］】)）]"
_YEAR = rf"{_DIGIT}(?:\s*{_DIGIT}){{3}}"
_SEQ = rf"{_DIGIT}(?:\s*{_DIGIT}){{0,5}}"
# A prefix is a run of Han characters (spaces allowed between them: split runs); in free text the
# run may start too early ("根据川办发…"), which `_trimmed_start` corrects.
_PREFIX = rf"{_HAN}(?:\s*{_HAN}){{0,11}}"
_BRACKETED = (
    rf"(?P<bp>{_PREFIX})\s*{_OPEN}\s*(?P<by>{_YEAR})\s*{_CLOSE}\s*第?\s*(?P<bs>{_SEQ})\s*号"
)
_ORDER = rf"(?P<op>{_PREFIX})\s*第\s*(?P<os>{_SEQ})\s*号"
_BARE = rf"(?P<np>{_PREFIX})\s*(?P<nd>{_DIGIT}(?:\s*{_DIGIT}){{4,9}})\s*号"
_ANY = re.compile(f"{_BRACKETED}|{_ORDER}|{_BARE}")
# Free text is searched for what follows a prefix (a bracket, 第 or digits, then 号), and the
# prefix read backwards from there: `_ANY.finditer` over a long body tries a prefix at every Han
# character (~35 ms per 20,000 characters).
_TAIL = re.compile(
    rf"(?P<bracket>{_OPEN}\s*{_YEAR}\s*{_CLOSE}\s*第?\s*{_SEQ}\s*号)"
    rf"|(?P<order>第\s*{_SEQ}\s*号)|{_DIGIT}(?:\s*{_DIGIT}){{4,9}}\s*号"
)
_HAN_CHAR = re.compile(_HAN)
_PREFIX_CHARS = 12

# Plausible years: a phone or ICP number read as "year" falls outside (5101…, 1300…).
_FIRST_YEAR, _LAST_YEAR = 1949, 2099
# In free text a bracket-less number counts only after a prefix naming a document series.
_SERIES_ENDINGS = ("发", "规", "函", "字")
# Words that end the sentence part before a 文号 in free text ("根据川办发…", "和国办发…").
_STOP_WORDS = (
    *("根据", "按照", "依据", "依照", "参照", "对照", "贯彻", "落实", "执行", "印发", "转发"),
    *("废止", "修订", "修改", "文号", "字号", "的", "和", "与", "及", "或", "即", "并", "见", "以"),
    "号",
)
# Sichuan series start with 川 (川府发, 川医保规); the 川 of 四川 is the issuer's name instead.
_SERIES_ANCHOR = re.compile("(?<!四)川")
_ORDER_ANCHOR = re.compile("四川省")
_SPACES = re.compile(r"\s+")


def _compact(raw: str) -> str:
    return _SPACES.sub("", unicodedata.normalize("NFKC", raw))


def _unparsed(raw: str) -> DocNumber:
    return DocNumber(raw=raw, normalised="", prefix=None, year=None, number=None)


def _order_prefix_ok(prefix: str) -> bool:
    return prefix.endswith("令") and len(prefix) >= 2


def _from_match(raw: str, match: re.Match[str]) -> DocNumber:
    """The parts of a whole-string match (its groups hold NFKC-ed, space-free text)."""
    if match.group("bp") is not None:
        prefix, year, seq = match.group("bp"), int(match.group("by")), int(match.group("bs"))
        guessed = False
    elif match.group("op") is not None:
        prefix, number = match.group("op"), int(match.group("os"))
        if not _order_prefix_ok(prefix):
            return _unparsed(raw)
        return DocNumber(raw, f"{prefix}第{number}号", prefix, None, number)
    else:
        prefix, digits = match.group("np"), match.group("nd")
        year, seq, guessed = int(digits[:4]), int(digits[4:]), True
    if not _FIRST_YEAR <= year <= _LAST_YEAR:
        return _unparsed(raw)
    return DocNumber(raw, f"{prefix}〔{year}〕{seq}号", prefix, year, seq, guessed)


def parse_doc_number(raw: str) -> DocNumber:
    """The parts of one 文号; an unparsable one keeps `raw` with `normalised` "".

    >>> parse_doc_number("川办发 [2024] 3 号").normalised
    '川办发〔2024〕3号'
    """
    compact = _compact(raw or "")
    match = _ANY.fullmatch(compact)
    if match is None:
        return _unparsed(raw or "")
    return _from_match(raw or "", match)


def doc_number_query(text: str) -> str | None:
    """The normalised 文号 when `text` (a search query, a cell) is one and nothing else."""
    parsed = parse_doc_number(text)
    return parsed.normalised or None


def _trimmed_start(text: str, start: int, end: int, order: bool) -> int:
    """Where the prefix really begins inside the Han run `text[start:end]`."""
    run = text[start:end]
    anchors = list((_ORDER_ANCHOR if order else _SERIES_ANCHOR).finditer(run))
    if anchors:
        return start + anchors[-1].start()
    cut = 0
    for word in _STOP_WORDS:
        found = run.rfind(word)
        if found >= 0:
            cut = max(cut, found + len(word))
    return start + cut


def _run_start(text: str, end: int, limit: int) -> int:
    """The start of the run of Han characters (spaces between allowed) that ends at `end`."""
    start, position, count = end, end, 0
    while position > limit and count < _PREFIX_CHARS:
        character = text[position - 1]
        if _HAN_CHAR.match(character):
            count += 1
            start = position - 1
        elif not character.isspace():
            break
        position -= 1
    return start


def _candidate(text: str, tail: re.Match[str], limit: int) -> DocNumber | None:
    order = tail.group("order") is not None
    start = _run_start(text, tail.start(), limit)
    start = _trimmed_start(text, start, tail.start(), order)
    prefix = _compact(text[start : tail.start()])
    bare = tail.group("bracket") is None and not order
    if len(prefix) < 2 or (bare and not prefix.endswith(_SERIES_ENDINGS)):
        return None
    found = parse_doc_number(text[start : tail.end()])
    return found if found.normalised else None


def find_doc_numbers(text: str) -> list[DocNumber]:
    """Every 文号 `text` mentions, in order of first mention, each normalised form once.

    >>> [n.normalised for n in find_doc_numbers("据（川府发〔2024〕3号）和川办函(2023)12号")]
    ['川府发〔2024〕3号', '川办函〔2023〕12号']
    """
    text = text or ""
    found: dict[str, DocNumber] = {}
    taken = 0  # the end of the last number found: numbers never overlap
    for tail in _TAIL.finditer(text):
        number = _candidate(text, tail, taken)
        if number is not None:
            taken = tail.end()
            found.setdefault(number.normalised, number)
    return list(found.values())
