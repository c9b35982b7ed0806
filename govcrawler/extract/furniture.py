"""Page furniture by role: the date line, print/share/font-size widgets, "close window",
previous/next links and breadcrumbs, wherever a template puts them (inside the body container
too).

Two kinds of rule. In the DOM, a widget is known by what it does, not by where it sits: a link
or control that prints, closes the window, resizes the font or shares the page
(`drop_widgets`). In the text, `is_furniture_line` takes a line apart into furniture tokens (a
labelled date, a widget word, a metadata label beside a date) and calls it furniture only
when nothing else is left: so "Updated:2025.03.18 | Print | Close" goes, while a sentence
that mentions printing or closing keeps its other words and stays.
"""

from __future__ import annotations

import re

from lxml import etree

# What a link or control does when it is a page widget (in a javascript: href or an onclick).
_ACTIONS = ("print(", "window.close", "setfont", "fontzoom", "dozoom", "shareto", "addfavorite")
# The candidates, found in one walk over the attribute nodes (B1: a predicate per element, or
# `translate()` on every href, costs a tenth of a millisecond a page); the action is read in
# Python on the few that have one.
_CANDIDATES = etree.XPath(
    "//@href[starts-with(., 'javascript:') or starts-with(., 'JavaScript:')]/.. | //@onclick/.."
)


def drop_widgets(root: etree._Element) -> None:
    """Remove the links and controls that print, close, resize or share the page."""
    for element in _CANDIDATES(root):
        action = f"{element.get('href', '')} {element.get('onclick', '')}".lower()
        if any(name in action for name in _ACTIONS):
            remove_element(element)


def remove_element(element: etree._Element) -> None:
    """Take `element` out of its tree, keeping the text after it (as `lxml.html`'s
    `drop_tree`, for any lxml element)."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


_DATE = (
    r"\d{4}\s*[.\-/年]\s*\d{1,2}\s*[.\-/月]\s*\d{1,2}\s*日?"
    r"(?:\s*\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)?"
)
# Only labels that name a page's publication: a bare "Date:" or "时间：" opens real lines
# of notices ("时间：2025年3月18日" of a meeting) and is left alone.
_DATE_LABELS = (
    r"(?:last\s+)?updated?(?:\s+(?:on|at|time))?|update\s+time|published(?:\s+on)?|"
    r"publish(?:ed)?\s+(?:date|time)|release(?:d)?\s+(?:date|time|on)|posted\s+on|"
    r"发布时间|发布日期|更新时间|更新日期|发表时间|发布于|上传时间"
)
_BYLINES = r"source|author|editor|views|clicks|来源|作者|编辑|责任编辑|浏览次数|点击数|阅读次数"
# Tokens that make a line furniture by themselves.
_STRONG = [
    rf"(?:{_DATE_LABELS})\s*[:：]?\s*{_DATE}",
    r"print(?:\s+(?:this\s+)?(?:page|article))?",
    r"close(?:\s+(?:this\s+)?(?:window|page))?",
    r"share(?:\s+(?:to|this|on))?",
    r"font\s*size",
    r"字号",
    r"字体",
    r"【\s*(?:打印(?:本页|此页)?|关闭(?:本页|窗口|此页)?|收藏(?:本页)?|分享|返回顶部|[大中小])\s*】",
    r"(?:打印(?:本页|此页)?|关闭(?:本页|窗口|此页)?|返回顶部)",
    r"\[\s*(?:print|close|top|back)\s*\]",
]
# Tokens left over from a widget once its strong word is there (the sizes of a font bar, the
# targets of a share bar, a byline beside the date), never furniture alone.
_WEAK = [
    _DATE,
    r"(?:large|medium|small|big|a\s*\+|a\s*-|a)",
    r"[大中小]",
    r"(?:wechat|weibo|qq|qzone|facebook|twitter|linkedin|e-?mail)",
    r"(?:back\s+to\s+)?top",
    rf"(?:{_BYLINES})\s*[:：]\s*[^|｜]{{0,40}}?(?=\s*[|｜]|\s*$|\s+(?:{_BYLINES}|{_DATE_LABELS})\s*[:：])",
]
_SEPARATOR = r"[\s|｜/·•\-–—()\[\]【】:：,，]"


def _alternatives(rules: list[str]) -> re.Pattern[str]:
    """One pattern of whole tokens: a rule never matches inside a word ("share" of
    "shareholders", "a" of "and")."""
    # One lookbehind before the alternation, not one per rule: the same matches (backtracking
    # tries every rule in turn), 6.6x faster on a body line (B1's profile).
    return re.compile(f"(?<![a-z0-9])(?:{'|'.join(f'(?:{rule})' for rule in rules)})(?![a-z])")


_STRONG_RE = _alternatives(_STRONG)
_ANY_TOKEN = _alternatives([*_STRONG, *_WEAK])
# A line made of tokens and separators only, read left to right as a substitution of the
# tokens would find them (a token tried first at every character, atomic, possessive): it
# stops at the first other word, where substituting every token of a long body line, then
# checking what is left, cost 0.3 ms an article (B1's profile).
_ONLY_TOKENS = re.compile(f"(?:(?>{_ANY_TOKEN.pattern})|{_SEPARATOR})*+")
# Whole lines by their opening words: previous/next links and breadcrumbs.
_LEADING = re.compile(
    r"[\[【(]?\s*(?:previous|prev|next)(?:\s+(?:article|story|post|news|page))?\s*[:：]"
    r"|[\[【(]?\s*(?:上一篇|下一篇|上一条|下一条)\s*[:：]?"
    r"|(?:home|首页)\s*[>»›＞]"
    r"|(?:current\s+location|your\s+location|you\s+are\s+here|当前位置|您的位置|您现在的位置)\s*[:：]"
)


def is_furniture_line(comparable: str) -> bool:
    """True for a line (in `comparable_text` form) that is only page furniture."""
    if _LEADING.match(comparable):
        return True
    only_tokens = _ONLY_TOKENS.fullmatch(comparable) is not None
    return only_tokens and _STRONG_RE.search(comparable) is not None
