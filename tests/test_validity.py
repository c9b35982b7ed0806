"""有效性 vocabulary, the `file_status`/`losetime` script and epoch dates (SITE-ZH §3.4)."""

import zoneinfo
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govcrawler.extract import validity
from govcrawler.extract.validity import (
    VALIDITY_WORDS,
    epoch_date,
    normalise_validity,
    validity_from_notice,
    validity_from_script,
)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("有效", "有效"),
        ("现行有效", "有效"),
        ("有 效", "有效"),
        ("\u3000有效\xa0", "有效"),
        ("失效", "失效"),
        ("废止", "失效"),
        ("已废止", "失效"),
        ("尚未施行", "尚未施行"),
        ("：尚未施行。", "尚未施行"),
        ("", None),
        ("--", None),
        ("已修改", None),  # not seen on the site: the caller counts it
        ("部分失效", None),
        ("有效期五年", None),
    ],
)
def test_normalise_validity(word, expected):
    assert normalise_validity(word) == expected


def test_the_vocabulary_maps_onto_the_three_values_www_shows():
    assert set(VALIDITY_WORDS.values()) == {"有效", "失效", "尚未施行"}
    assert all(normalise_validity(word) == value for word, value in VALIDITY_WORDS.items())


# The script of SITE-ZH §3.4, with our own values.
SCRIPT = """
var tTimeStamp = Date.parse(new Date()) / 1000;
var losetime = '{losetime}';
var file_status = '{status}';
if(file_status!= null || file_status != ""){{ $('#file_status').parent().append(file_status); }}
else if(losetime == null || losetime == "" || losetime == 0 || losetime < tTimeStamp){{
  $('#file_status').parent().append("失效"); }}
else {{ $('#file_status').parent().append("有效"); }}
"""


@pytest.mark.parametrize(
    ("status", "losetime", "expected"),
    [
        ("尚未施行", "1924963200", ("尚未施行", "1924963200")),
        ("有效", "", ("有效", None)),
        ("失效", "1704038400000", ("失效", "1704038400000")),
        ("", "", (None, None)),
        (" 有效 ", "0", ("有效", "0")),
    ],
)
def test_validity_from_the_inline_script(status, losetime, expected):
    assert validity_from_script(SCRIPT.format(status=status, losetime=losetime)) == expected


def test_script_variants():
    assert validity_from_script('var file_status="失效";var losetime=1704038400;') == (
        "失效",
        "1704038400",
    )
    assert validity_from_script("let file_status = '有效'") == ("有效", None)
    assert validity_from_script("document.write('有效');") == (None, None)
    assert validity_from_script("") == (None, None)
    # a comparison is not an assignment
    assert validity_from_script('if (file_status == "有效") {}') == (None, None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1893427200", date(2030, 1, 1)),  # 2030-01-01 00:00 +08:00 is still 2029 in UTC
        ("1893427200000", date(2030, 1, 1)),
        ("1893427199", date(2029, 12, 31)),
        ("1704038400", date(2024, 1, 1)),
        (" 1704038400 ", date(2024, 1, 1)),
        ("１７０４０３８４００", date(2024, 1, 1)),
        ("", None),
        ("0", None),
        ("170403840", None),  # 9 digits
        ("17040384000", None),  # 11 digits
        ("2024-01-01", None),
        ("9999999999999", date(2286, 11, 21)),
    ],
)
def test_epoch_date(value, expected):
    assert epoch_date(value) == expected


def test_without_tzdata_a_fixed_offset_is_used(monkeypatch):
    monkeypatch.setattr(zoneinfo, "available_timezones", set)
    assert validity._shanghai() == timezone(timedelta(hours=8), "CST")


# 10 digits: from 2001-09-09 on, all of it after China's last DST (1991).
@given(st.integers(10**9, 4102444800))
def test_the_fixed_offset_agrees_with_asia_shanghai(seconds):
    moment = datetime.fromtimestamp(seconds, UTC)
    fixed = moment.astimezone(timezone(timedelta(hours=8))).date()
    assert fixed == moment.astimezone(zoneinfo.ZoneInfo("Asia/Shanghai")).date()
    assert epoch_date(str(seconds)) == fixed


@pytest.mark.parametrize(
    ("notice", "expected"),
    [
        ("本文件已于2020年12月31日失效", ("失效", date(2020, 12, 31))),
        ("该规范性文件自2019年6月1日起废止。", ("失效", date(2019, 6, 1))),
        ("已 废 止", ("失效", None)),
        ("本文件有效期至2025年12月31日", (None, None)),
        ("本文件现行有效", ("有效", None)),
        ("自2030年1月1日起施行（尚未施行）", ("尚未施行", date(2030, 1, 1))),
        ("", (None, None)),
    ],
)
def test_validity_from_the_red_notice(notice, expected):
    assert validity_from_notice(notice) == expected


@given(st.text())
def test_arbitrary_input_never_raises(text):
    validity_from_notice(text)
    normalise_validity(text)
    validity_from_script(text)
    epoch_date(text)
