"""文号 parsing and finding, over the published forms of SITE-ZH §3.2, §3.3 and §4."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govcrawler.extract.docnumber import (
    DocNumber,
    doc_number_query,
    find_doc_numbers,
    parse_doc_number,
)


@pytest.mark.parametrize(
    ("raw", "normalised", "prefix", "year", "number"),
    [
        ("川府发〔2024〕3号", "川府发〔2024〕3号", "川府发", 2024, 3),
        ("川办规[2023]15号", "川办规〔2023〕15号", "川办规", 2023, 15),
        ("川府函(2021)208号", "川府函〔2021〕208号", "川府函", 2021, 208),
        ("川办函【2019】46号", "川办函〔2019〕46号", "川办函", 2019, 46),
        ("川府规［2022］4号", "川府规〔2022〕4号", "川府规", 2022, 4),
        ("川办发（２０２０）１１号", "川办发〔2020〕11号", "川办发", 2020, 11),
        ("川办发〔2018〕67 号", "川办发〔2018〕67号", "川办发", 2018, 67),
        ("蓉政发 〔2017〕 9 号", "蓉政发〔2017〕9号", "蓉政发", 2017, 9),
        ("蓉政干〔\n 2016〕\n 31 号", "蓉政干〔2016〕31号", "蓉政干", 2016, 31),
        ("川医保\u3000规\xa0〔 20 2 4 〕 2 号", "川医保规〔2024〕2号", "川医保规", 2024, 2),
        ("川发改价格规〔2025〕1号", "川发改价格规〔2025〕1号", "川发改价格规", 2025, 1),
        ("川卫办发〔2015〕102号", "川卫办发〔2015〕102号", "川卫办发", 2015, 102),
        ("川农函〔2026〕07号", "川农函〔2026〕7号", "川农函", 2026, 7),
        ("四川省人民政府令第258号", "四川省人民政府令第258号", "四川省人民政府令", None, 258),
        ("四川省人民政府令\n第 301 号", "四川省人民政府令第301号", "四川省人民政府令", None, 301),
    ],
)
def test_published_forms_parse(raw, normalised, prefix, year, number):
    parsed = parse_doc_number(raw)
    assert parsed == DocNumber(raw, normalised, prefix, year, number, guessed_year=False)


def test_a_bracketless_form_guesses_the_year_and_says_so():
    parsed = parse_doc_number("川办发201912号")
    assert (parsed.normalised, parsed.year, parsed.number) == ("川办发〔2019〕12号", 2019, 12)
    assert parsed.guessed_year


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "有效",
        "第12号",  # a 令 number without its 令 line
        "〔2024〕3号",  # no series
        "川府发〔24〕3号",  # a two-digit year
        "川府发〔1850〕3号",  # no such year on the site
        "蜀ICP备13001288号",
        "川公网安备 51010402000507号",
        "四川省人民政府第3号",  # 第N号 needs a 令
        "川府发〔2024〕3号 川办发〔2024〕4号",
        "川府函〔二〇二三〕19号",  # a year in Chinese numerals (a fixture's 文号 cell)
        "undefined",
    ],
)
def test_what_is_not_one_number_keeps_the_raw_text(raw):
    parsed = parse_doc_number(raw)
    assert parsed == DocNumber(raw, "", None, None, None)


def test_doc_number_query_accepts_a_whole_number_only():
    assert doc_number_query(" 川府发[2024]3号 ") == "川府发〔2024〕3号"
    assert doc_number_query("川府发 2024") is None
    assert doc_number_query("关于川府发〔2024〕3号的解读") is None


def normalised_in(text):
    return [number.normalised for number in find_doc_numbers(text)]


def test_numbers_in_a_sentence_are_found_with_their_series_only():
    text = (
        "为贯彻落实《四川省人民政府关于印发…的通知》（川府发〔2024〕3号）和"
        "国办发〔2023〕12号文件精神，根据川办函(2022)40号，现将有关事项通知如下。"
    )
    assert normalised_in(text) == ["川府发〔2024〕3号", "国办发〔2023〕12号", "川办函〔2022〕40号"]
    assert find_doc_numbers(text)[0].raw == "川府发〔2024〕3号"


def test_the_issuer_before_a_series_is_not_part_of_it():
    assert normalised_in("四川省医疗保障局川医保规〔2024〕2号") == ["川医保规〔2024〕2号"]
    assert normalised_in("四川省落实国发〔2021〕1号") == ["国发〔2021〕1号"]


def test_an_order_number_over_two_heading_lines():
    lines = "四川省人民政府令\n第 258 号\n《四川省…办法》已经2024年3月5日省政府第40次常务会议通过"
    found = find_doc_numbers(lines)
    assert [n.normalised for n in found] == ["四川省人民政府令第258号"]
    assert found[0].raw == "四川省人民政府令\n第 258 号"


def test_each_number_is_listed_once_in_order_of_first_mention():
    text = "川办发〔2024〕5号。川府发[2024]3号。再次引用川办发（2024）5号。"
    assert normalised_in(text) == ["川办发〔2024〕5号", "川府发〔2024〕3号"]


@pytest.mark.parametrize(
    "text",
    [
        "2024年全省共完成项目1234个，第3号台风过境。",
        "咨询电话：(028)86604546，传真028-86605625。",
        "蜀ICP备13001288号 川公网安备 51010402000507号 网站标识码：5100000062",
        "全省共有20243号",  # no series before the digits
        "经2024年3月5日省政府第40次常务会议审议通过，自2024年5月1日起施行。",
    ],
)
def test_years_phones_and_registrations_are_not_numbers(text):
    assert find_doc_numbers(text) == []


def test_numbers_in_a_script_and_in_split_runs():
    script = "var fileNum='川办发〔2021〕35号';document.write(fileNum);"
    assert normalised_in(script) == ["川办发〔2021〕35号"]
    runs = "川医保 规 〔 20 2 4 〕 2 号"  # inline runs joined with spaces
    assert normalised_in(f"现将{runs}印发") == ["川医保规〔2024〕2号"]
    assert normalised_in("文号：川办发〔2018〕67 号有效性：有效") == ["川办发〔2018〕67号"]


def test_a_bracketless_number_counts_after_a_series_prefix():
    assert normalised_in("根据川办发201912号执行") == ["川办发〔2019〕12号"]


SERIES = st.sampled_from(["川府发", "川府规", "川办函", "川医保规", "川发改价格规", "国办发"])
BRACKETS = st.sampled_from(["〔〕", "[]", "()", "【】", "［］", "（）"])
SPACE = st.sampled_from(["", " ", "\u3000", "\xa0", "\n "])


@given(SERIES, st.integers(1950, 2099), st.integers(1, 999), BRACKETS, st.lists(SPACE, min_size=4))
def test_every_bracket_and_spacing_normalises_the_same(series, year, number, brackets, spaces):
    opening, closing = brackets
    raw = f"{series}{spaces[0]}{opening}{spaces[1]}{year}{closing}{spaces[2]}{number}{spaces[3]}号"
    expected = f"{series}〔{year}〕{number}号"
    assert parse_doc_number(raw).normalised == expected
    assert normalised_in(f"根据{raw}的规定") == [expected]


@given(st.text())
def test_arbitrary_text_never_raises(text):
    parsed = parse_doc_number(text)
    assert parsed.raw == text
    for found in find_doc_numbers(text):
        assert found.normalised == parse_doc_number(found.raw).normalised != ""
