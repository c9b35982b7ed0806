"""Text cleaning and the line rules that recognise the site's boilerplate.

`clean_text` keeps the published wording (curly or straight apostrophes, punctuation) and only
decodes entities, removes tags and folds whitespace. `is_boilerplate_line` knows every footer
variant of SITE.md, the navigation and the column label; the extractors drop what it flags.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

from w3lib.html import remove_tags, replace_entities

from govcrawler.extract.furniture import is_furniture_line

# Zero-width and BOM characters that editors leave in text; they are never content.
_INVISIBLE = tuple((character, "") for character in "\u200b\u200c\u200d\u2060\ufeff\u00ad")
# The apostrophe and quote styles that comparison folds into one.
_QUOTES = tuple(zip("‘’‛′“”„″", "''''\"\"\"\"", strict=True))
# Per-line results are cached for lines up to this length: the same footer lines come on every
# page, and a page's paragraphs are judged again by the pipeline. Memory stays bounded.
_CACHED_MAX_CHARS = 2000
_CACHE_SIZE = 1024

# Hot path (B1). On non-ASCII text `str.translate` costs about 0.1 µs per character and
# `re.sub(r"\s+", …)` 0.05; `str.replace` of one character, `in` and `str.isprintable` cost
# 1-5 ns. So characters are replaced one by one, and only when present; whitespace is folded with
# `" ".join(text.split())` (the same Unicode whitespace as `\s`) and not at all when the text is
# already folded: every whitespace character but the space is unprintable. tests/test_text.py
# checks both facts over every code point.


def _replaced(text: str, pairs: tuple[tuple[str, str], ...]) -> str:
    for old, new in pairs:
        if old in text:
            text = text.replace(old, new)
    return text


def _folded(text: str) -> str:
    """The same as `re.sub(r"\\s+", " ", text).strip()`."""
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())


def clean_text(fragment: str) -> str:
    """An HTML fragment as text: tags removed, entities decoded, then `tidy_text`.

    >>> clean_text("People&#8217;s <b>Government</b>&nbsp; of\\n Sichuan ")
    'People’s Government of Sichuan'
    """
    fragment = fragment or ""
    if "<" in fragment:
        fragment = remove_tags(fragment)
    if "&" in fragment:
        fragment = replace_entities(fragment)
    return tidy_text(fragment)


def tidy_text(text: str) -> str:
    """Plain text with invisible characters dropped and whitespace folded; `<` and `&` in it
    are text, never markup (so `<1%` or `&lt;p&gt;` as published survive)."""
    return _folded(_replaced(text or "", _INVISIBLE))


def comparable_text(text: str) -> str:
    """A form for comparison only: NFKC, one apostrophe and quote style, lower case."""
    if len(text) <= _CACHED_MAX_CHARS:
        return _comparable_cached(text)
    return _comparable(text)


def _comparable(text: str) -> str:
    text = _replaced(unicodedata.normalize("NFKC", text), _QUOTES)
    return _folded(text).lower()


_comparable_cached = lru_cache(maxsize=_CACHE_SIZE)(_comparable)


def body_digest(paragraphs: list[str] | tuple[str, ...]) -> str:
    """SHA-256 of the comparable body: equal for the same text republished elsewhere."""
    joined = "\n".join(comparable_text(p) for p in paragraphs)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


_APOS = "['’]"
_COLON = "[:：]"
# Footer lines, every variant in SITE.md (2017 English, 2022 English, Chinese), navigation and
# page furniture. Anchored at the start of a line: a footer line may run into the next one
# (the seed joins "Website Identification Code" and "Sichuan ICP No." on one line).
_BOILERPLATE_RULES = [
    # 2022 English footer
    rf"unit in charge\s*{_COLON}\s*general office of sichuan provincial people{_APOS}s government",
    rf"organi[sz]er\s*{_COLON}\s*sichuan provincial big data cent(?:er|re)",
    rf"website operation and maintenance\s*{_COLON}",
    rf"website identification code\s*{_COLON}?\s*\d{{10}}",
    r"sichuan icp (?:no\.?|number)\s*\d+",
    r"sichuan computer information network and internet security record",
    # 2017 English footer
    rf"copyright (?:held by|©|\(c\))?\s*(?:the )?general office of sichuan provincial "
    rf"people{_APOS}s government",
    r"technical support\s*[:：]\s*(?:china |sichuan )?(?:telecom|sichuan telecom)",
    rf"website maintenance\s*{_COLON}\s*sichuan provincial e-administration",
    r"all rights reserved\.?$",
    # Chinese footer
    rf"主办(?:单位)?\s*{_COLON}",
    rf"承办(?:单位)?\s*{_COLON}",
    rf"(?:运行|运维|技术)(?:维护|支持)(?:单位)?\s*{_COLON}",
    rf"网站标识码\s*{_COLON}?",
    r"蜀icp备",
    r"川公网安备",
    r"(?:政府网站找错|我为政府网站找错)",
    # Chinese footers, widgets and the gazette masthead (SITE-ZH §3.6)
    rf"(?:主管单位|版权所有|ICP备案号|运行维护单位)\s*{_COLON}",
    r"政府网站标识码",
    r"川公安?网安?备",
    r"(?:网站声明|网站地图|联系我们)\s*(?:\||$)",
    rf"责任编辑\s*{_COLON}?",
    r"扫一扫在手机(?:上)?打开当前页",
    r"【\s*字体",
    r"\[\s*(?:上一篇|下一篇)\s*\]",
    rf"分享到\s*{_COLON}?",
    r"(?:【?(?:打印|关闭)】?\s*)+$",
    r"(?:全国统一刊号|国际标准刊号|主管主办|编辑出版|广告经营许可证号)",
    # Chinese footer lines of no known site (www's was never captured): anchored, whole-line
    r"^(?:本网站由)?\S{2,20}主办\s*\S{2,20}承办$",
    r"^建议(?:使用|采用).{0,30}分辨率.{0,12}(?:浏览|访问)",
    r"^本(?:站|网站)(?:已)?支持\s*IPv6",
    r"^(?:政务服务便民热线|服务热线)\s*[:：]?\s*\d{5,}$",
    # navigation, language toggles, column label, widgets
    r"simp\.? chinese\b.*trad\.? chinese",
    r"(?:government\s+)?open governance\s*$",
    r"government\s+open governance\s+services\s+investment\s+tourism",
    r"updated\s*[:：]\s*\d{4}[.\-/]\d{1,2}[.\-/]\d{1,2}\s*$",
    r"font\s*size\s*[:：]?\s*(?:a\+|large|big|\[|$)",
    r"share to\s*[:：]?",
    r"(?:print|close)(?:\s*(?:this page|window))?\s*(?:\|\s*(?:print|close)\s*)*$",
    r"字号\s*[:：]",
    r"【?(?:打印本页|关闭窗口)】?",
]
_BOILERPLATE = re.compile("|".join(f"(?:{rule})" for rule in _BOILERPLATE_RULES), re.IGNORECASE)
_NAV_WORDS = {
    "government",
    "open governance",
    "services",
    "investment",
    "tourism",
    "navigator",
    "home",
    "simp. chinese",
    "trad. chinese",
    "english",
    "print",
    "close",
    "share",
    "top",
}


def is_boilerplate_line(line: str) -> bool:
    """True for a footer, navigation, column-label or widget line: never article text."""
    text = comparable_text(line)
    if not text:
        return True
    if text in _NAV_WORDS:
        return True
    return _BOILERPLATE.match(text) is not None or is_furniture_line(text)


def strip_boilerplate(paragraphs: list[str]) -> list[str]:
    """The paragraphs that are article text, in order; empty ones dropped too.

    A paragraph that holds several lines (a footer block flattened into one) is judged line
    by line, so no footer line survives inside a longer paragraph. Idempotent, and cheap on
    paragraphs it has just seen (per-paragraph results are cached, bounded): a second pass over
    its own output, or over an extracted article's body, costs a cache lookup per paragraph.
    """
    kept: list[str] = []
    for paragraph in paragraphs:
        if len(paragraph) <= _CACHED_MAX_CHARS:
            text = _article_text_cached(paragraph)
        else:
            text = _article_text(paragraph)
        if text:
            kept.append(text)
    return kept


def _article_text(paragraph: str) -> str:
    """The paragraph's article lines, tidied and joined by a space; "" when none is left."""
    lines = [tidy_text(line) for line in paragraph.splitlines()]
    text = " ".join(line for line in lines if line and not is_boilerplate_line(line))
    return paragraph if text == paragraph else text


_article_text_cached = lru_cache(maxsize=_CACHE_SIZE)(_article_text)
