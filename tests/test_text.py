"""Text cleaning and boilerplate rules, checked against every footer variant of SITE.md."""

import re
import sys
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govcrawler.extract.text import (
    body_digest,
    clean_text,
    comparable_text,
    is_boilerplate_line,
    strip_boilerplate,
    tidy_text,
)

FOOTER_LINES = [
    # 2022 English footer (the seed)
    "Unit in Charge: General Office of Sichuan Provincial People’s Government",
    "Organizer: Sichuan Provincial Big Data Center",
    "Website Operation and Maintenance: China Telecom Sichuan Branch",
    "Website Identification Code: 5100000062 Sichuan ICP No. 13001288",
    "Sichuan ICP No. 13001288",
    "Sichuan Computer Information Network and Internet Security Record No. 51010402000507",
    # 2017 English footer
    "Copyright held by the General Office of Sichuan Provincial People’s Government. "
    "All Rights Reserved.",
    "Technical Support: Sichuan Telecom.",
    "Website Maintenance: Sichuan Provincial E-Administration Extranet Center; Tel:86-28-86601234",
    # Chinese footer
    "主办单位：四川省人民政府办公厅",
    "承办：四川省大数据中心",
    "运行维护：中国电信股份有限公司四川分公司",
    "网站标识码：5100000062",
    "蜀ICP备13001288号",
    "川公网安备 51010402000507号",
    # furniture
    "Simp. Chinese Trad. Chinese",
    "Open Governance",
    "Government Open Governance Services Investment Tourism Navigator",
    "Updated:2022.09.26",
    "Font size: A+ A-",
    "Share to: WeChat Weibo",
    "Print | Close",
]
ARTICLE_LINES = [
    "On September 24, Wang Xiaohui visited Zigong City and Neijiang City for an inspection tour.",
    "The Sichuan Provincial Big Data Center will open 300 data sets to the public this year.",
    "The meeting reviewed the work of the General Office of Sichuan Provincial People’s "
    "Government in 2016.",
    "Open Governance is a priority of the provincial government, the governor said.",
    "四川省人民政府召开常务会议。",
    "Tourism revenue rose 12 percent.",
]


@pytest.mark.parametrize("line", FOOTER_LINES)
def test_every_footer_and_furniture_line_is_boilerplate(line: str) -> None:
    assert is_boilerplate_line(line)
    assert is_boilerplate_line(line.upper() if line.isascii() else line)


@pytest.mark.parametrize("line", ARTICLE_LINES)
def test_article_sentences_are_kept(line: str) -> None:
    assert not is_boilerplate_line(line)


def test_strip_boilerplate_judges_a_flattened_footer_line_by_line() -> None:
    flattened = "\n".join(FOOTER_LINES[:6])
    assert strip_boilerplate([ARTICLE_LINES[0], flattened, ARTICLE_LINES[1]]) == ARTICLE_LINES[:2]


def test_clean_text_decodes_and_folds_but_keeps_the_wording() -> None:
    raw = " People&#8217;s&nbsp;<strong>Government</strong>\u200b of\n\tSichuan's "
    assert clean_text(raw) == "People’s Government of Sichuan's"


def test_body_digest_ignores_apostrophe_style_and_spacing_only() -> None:
    curly = ["The province’s  plan.", "Second."]
    straight = ["The province's plan.", "Second."]
    assert body_digest(curly) == body_digest(straight)
    assert body_digest(curly) != body_digest(["The province's plan.", "Third."])


@given(st.text())
def test_cleaning_never_raises_and_tidying_is_idempotent(text: str) -> None:
    clean_text(text)  # markup in, text out: never raises
    once = tidy_text(text)
    assert tidy_text(once) == once
    paragraphs = strip_boilerplate([text])
    assert strip_boilerplate(paragraphs) == paragraphs


def test_text_that_looks_like_markup_survives_cleaning() -> None:
    published = ["Exports fell <1% while imports rose >2%.", "Quoted from <<Sichuan Daily>>."]
    assert strip_boilerplate(published) == published
    assert clean_text("<p>Exports fell &lt;1% while imports rose &gt;2%.</p>") == published[0]


@given(st.text(), st.text())
def test_comparable_text_is_idempotent(left: str, right: str) -> None:
    once = comparable_text(left + right)
    assert comparable_text(once) == once


@given(
    st.lists(st.sampled_from(ARTICLE_LINES), max_size=5),
    st.sampled_from(FOOTER_LINES),
    st.lists(st.sampled_from(ARTICLE_LINES), max_size=5),
)
def test_no_footer_line_survives_whatever_surrounds_it(
    before: list[str], footer: str, after: list[str]
) -> None:
    kept = strip_boilerplate([*before, footer, *after])
    assert footer not in kept
    assert kept == [*before, *after]


# The fast paths of text.py rest on these facts about Unicode and on these reference forms.
_REFERENCE_SPACES = re.compile(r"\s+")
_REFERENCE_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)


def _reference_tidy(text: str) -> str:
    return _REFERENCE_SPACES.sub(" ", text.translate(_REFERENCE_INVISIBLE)).strip()


def _reference_comparable(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(str.maketrans("‘’‛′“”„″", "''''\"\"\"\""))
    return _REFERENCE_SPACES.sub(" ", text).strip().lower()


def test_regex_whitespace_is_str_whitespace_and_none_but_the_space_is_printable() -> None:
    for code in range(sys.maxunicode + 1):
        character = chr(code)
        assert bool(_REFERENCE_SPACES.fullmatch(character)) == character.isspace(), hex(code)
        if character.isspace() and character != " ":
            assert not character.isprintable(), hex(code)


_TRICKY = st.text(
    st.sampled_from(" \t\n\r\x0b\x0c\x1c\x85\xa0\u2000\u2028\u3000\u200b\u00ad\ufeff‘’′“”″ﬁ①Aa中")
    | st.characters(),
    max_size=60,
)


@given(_TRICKY)
def test_tidy_and_comparable_text_equal_their_reference_forms(text: str) -> None:
    assert tidy_text(text) == _reference_tidy(text)
    assert comparable_text(text) == _reference_comparable(text)
    assert comparable_text(text) == _reference_comparable(text)  # from the cache


@given(st.lists(_TRICKY | st.sampled_from(FOOTER_LINES + ARTICLE_LINES), max_size=6))
def test_strip_boilerplate_is_idempotent(paragraphs: list[str]) -> None:
    once = strip_boilerplate(paragraphs)
    assert strip_boilerplate(once) == once
    assert strip_boilerplate([unicodedata.normalize("NFC", p) for p in once]) == [
        unicodedata.normalize("NFC", p) for p in once
    ]


def test_long_paragraphs_are_judged_without_the_cache() -> None:
    long_line = "Tourism revenue rose 12 percent. " * 200
    footer = FOOTER_LINES[0]
    assert strip_boilerplate([long_line + "\n" + footer]) == [long_line.strip()]
