"""A hit's snippet: a window of its body around the first match of the query's terms, every
match in it marked, cut the same way on both backends."""

from __future__ import annotations

import re

from storage.search.index import CJK_RUN

_NONSPACE = re.compile(r"\S+")
ELLIPSIS = "…"


def _window(text: str, start: int, chinese: bool) -> tuple[int, int]:
    """About 30 words (or 80 characters of Chinese) around `start`, no word cut in two."""
    before, after = (20, 60) if chinese else (50, 150)
    begin, end = max(0, start - before), min(len(text), start + after)
    # A word of a spaced script cut at either edge is dropped on the left, finished on the right.
    cut = _NONSPACE.match(text, begin) if begin and not text[begin - 1].isspace() else None
    if cut and not CJK_RUN.search(text, begin, cut.end()):
        begin = min(cut.end(), start)
    cut = _NONSPACE.match(text, end) if not text[end - 1 : end].isspace() else None
    if cut and not CJK_RUN.search(text, end, cut.end()):
        end = min(cut.end(), end + 20)
    return begin, end


class _Marks:
    """The query's terms as one expression, to find in a body and to mark in its snippet."""

    def __init__(self, marks: list[str]) -> None:
        source = "|".join(sorted(marks, key=len, reverse=True)) or "(?!)"
        # The marks are in lower case: searched case-sensitively in a lower-cased body, `re`
        # looks for their first letters as a literal, 6x faster than a case-blind search.
        self.lower = re.compile(source)
        self.anycase = re.compile(source, re.IGNORECASE)

    def first(self, body: str) -> int | None:
        """Where a match in `body` starts (the first one in lower case), or None if none."""
        lowered = body.lower()
        if len(lowered) == len(body):  # one character for one: positions are the body's
            found = self.lower.search(lowered)
            if found or body.isascii():
                return found.start() if found else None
        found = self.anycase.search(body)  # a rarer case pairing (e.g. the Kelvin sign)
        return found.start() if found else None


def _snippet(body: str, pattern: _Marks, mark: tuple[str, str]) -> str:
    """A window of `body` around its first match, every match in it between `mark`."""
    found = pattern.first(body)
    start = found or 0
    begin, end = _window(body, start, found is not None and bool(CJK_RUN.match(body, start)))
    window = " ".join(body[begin:end].split())
    window = pattern.anycase.sub(lambda match: mark[0] + match.group() + mark[1], window)
    before = ELLIPSIS if _NONSPACE.search(body, 0, begin) else ""
    after = ELLIPSIS if _NONSPACE.search(body, end) else ""
    return before + window + after
