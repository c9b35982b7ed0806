"""Body lines of a document page: boilerplate, metadata lines and a second printing removed,
and where the red head (issuer, title lines, 文号) that opens the body ends."""

from __future__ import annotations

import re

from govcrawler.extract.docnumber import parse_doc_number
from govcrawler.extract.labels import canonical_label
from govcrawler.extract.text import comparable_text, strip_boilerplate

_LABEL_HEAD = re.compile(r"^[•·●\s]*([^:：]{2,12})[:：]")
# Red-head lines are short: a body paragraph that happens to sit inside the title is not one.
RED_HEAD_MAX_CHARS = 60
# A tail this long whose every line was already printed is a second printing of the body (a
# signature repeating the issuer line is not).
SECOND_PRINTING_MIN_LINES = 3


def body_lines(texts: list[str]) -> list[str]:
    """The body's lines in order: no boilerplate, no attribute bullet of a print copy, each
    body once (a page that prints it twice, SITE-ZH §3.3, keeps the first printing)."""
    lines = [text for text in strip_boilerplate(texts) if not _is_metadata_line(text)]
    lines = [text for i, text in enumerate(lines) if text not in lines[i - 1 : i]]
    keys = [comparable_text(line) for line in lines]
    for start in range(1, len(lines) - SECOND_PRINTING_MIN_LINES + 1):
        if set(keys[start:]) <= set(keys[:start]):
            return lines[:start]
    return lines


def _is_metadata_line(text: str) -> bool:
    match = _LABEL_HEAD.match(text)
    return match is not None and canonical_label(match[1]) is not None


def red_head_end(lines: list[str], title: str, issuer: str | None) -> int:
    """How many of the first lines are red head: the issuer, part of the title, a 文号 (alone,
    or over two lines as `四川省人民政府令` / `第N号`)."""
    title_key = comparable_text(title).replace(" ", "")
    index = 0
    while index < len(lines):
        line = lines[index]
        key = comparable_text(line).replace(" ", "")
        if len(line) > RED_HEAD_MAX_CHARS:
            break
        if parse_doc_number(line).normalised or (issuer and key == comparable_text(issuer)):
            index += 1
        elif index + 1 < len(lines) and parse_doc_number(line + lines[index + 1]).normalised:
            index += 2
        elif key and key in title_key:
            index += 1
        else:
            break
    return index
