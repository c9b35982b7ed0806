"""Dates of the Chinese pages (SITE-ZH §4) and the signature date closing a body."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govcrawler.extract.zhdates import date_from_text, signature_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-05", date(2024, 3, 5)),
        ("2019-11-28", date(2019, 11, 28)),
        ("2024年3月5日", date(2024, 3, 5)),
        ("2016年12月31日", date(2016, 12, 31)),
        ("2017年06月08日 09时30分", date(2017, 6, 8)),
        ("2017年06月08日 00时00分【字体：大 中 小】", date(2017, 6, 8)),
        ("发布时间: 2023年04月17日", date(2023, 4, 17)),
        ("发布时间：2023-04-17 16:05:32", date(2023, 4, 17)),
        ("2022-09-26 10:15:00", date(2022, 9, 26)),
        ("２０２１年１０月９日", date(2021, 10, 9)),
        ("2021 年 10 月 9 日", date(2021, 10, 9)),
        ("2022.09.26", date(2022, 9, 26)),
        ("已经2024年2月27日四川省人民政府第45次常务会议审议通过", date(2024, 2, 27)),
        ("二○二四年三月五日", date(2024, 3, 5)),  # ○ U+25CB
        ("二〇二三年十月十日", date(2023, 10, 10)),  # 〇 U+3007
        ("二Ｏ二二年十一月二十一日", date(2022, 11, 21)),  # Ｏ U+FF2F
        ("二零二一年十二月三十一日", date(2021, 12, 31)),
        ("二○一九年一月二十日", date(2019, 1, 20)),
        ("二○一八年五月十六日", date(2018, 5, 16)),
        ("2024年2月30日", None),
        ("2023年2月29日", None),
        ("2024-13-01", None),
        ("二○二四年二月三十日", None),
        ("二○二四年十三月一日", None),
        ("二○二四年三月四十日", None),
        ("2024年3月", None),
        ("(03-05)", None),  # an old list row's day without its year
        ("电话 028-8660-4546", None),
        ("网站标识码：5100000062", None),
        ("", None),
    ],
)
def test_date_from_text(text, expected):
    assert date_from_text(text) == expected


def test_the_first_real_date_wins():
    assert date_from_text("2024年2月30日印发，2024年3月1日起施行") == date(2024, 3, 1)
    assert date_from_text("2023-05-06 发布，2023年5月1日成文") == date(2023, 5, 6)


BODY = [
    "各市（州）人民政府，省政府各部门、各直属机构，有关单位：",
    "现将《四川省…实施方案》印发给你们，请认真贯彻执行。",
    "",
    "四川省人民政府",
    "2024年3月5日",
    "（此件公开发布）",
]


def test_the_signature_date_closes_the_body():
    assert signature_date(BODY) == date(2024, 3, 5)
    assert signature_date([*BODY[:4], "　　二○二四年三月五日　　"]) == date(2024, 3, 5)
    assert signature_date([*BODY[:5], "附件：1.名单", "2.分工方案"]) == date(2024, 3, 5)


def test_a_date_inside_a_sentence_is_no_signature():
    assert signature_date(["本方案自2024年5月1日起施行，有效期5年。"]) is None
    assert signature_date([]) is None
    assert signature_date(["四川省人民政府", "2024年2月30日"]) is None


def test_a_date_far_above_the_end_is_no_signature():
    lines = ["2024年3月5日", *(f"第{n}段正文。" for n in range(8))]
    assert signature_date(lines) is None


@given(st.dates(date(1949, 1, 1), date(2099, 12, 31)))
def test_every_printed_form_of_a_date_reads_back(day):
    forms = [
        day.isoformat(),
        f"{day.year}年{day.month}月{day.day}日",
        f"{day.year}年{day.month:02d}月{day.day:02d}日 00时00分",
        f"发布时间:{day.isoformat()} 08:00:00",
        f"{chinese_year(day.year)}年{chinese_small(day.month)}月{chinese_small(day.day)}日",
    ]
    assert [date_from_text(form) for form in forms] == [day] * len(forms)
    assert signature_date(["四川省人民政府", forms[1]]) == day


def chinese_year(year):
    return "".join("○一二三四五六七八九"[int(digit)] for digit in str(year))


def chinese_small(number):
    digits = "○一二三四五六七八九"
    tens, units = divmod(number, 10)
    head = "" if tens <= 1 else digits[tens]
    return (head + "十" if tens else "") + (digits[units] if units else "")


@given(st.text())
def test_arbitrary_text_never_raises(text):
    date_from_text(text)
    signature_date(text.splitlines())
