"""Metadata labels in the three layouts of SITE-ZH §3.1, every spelling, joined or not."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govcrawler.extract.labels import CANONICAL_LABELS, canonical_label, labelled_fields

# (a) the new template's bullets, as the raw page has them (full-width colons, U+3000, NBSP).
BULLETS = (
    "• 索 引 号 : 008282882/2023-00417\n"
    "• 公文种类:\n"
    "• 发布机构：四川省人民政府办公厅\n"
    "• 成文日期:2023-06-12\n"
    "• 发布日期:\u30002023-06-15\n"
    "• 文  号:川办规〔2023〕6号\n"
    "• 有 效 性 :有效\n"
    "• 废止日期:\xa0\n"
)


def test_layout_a_bullets():
    assert labelled_fields(BULLETS) == {
        "索引号": "008282882/2023-00417",
        "公文种类": "",
        "发布机构": "四川省人民政府办公厅",
        "成文日期": "2023-06-12",
        "发布日期": "2023-06-15",
        "文号": "川办规〔2023〕6号",
        "有效性": "有效",
        "废止日期": "",
    }


def test_layout_b_platform_table_as_one_run_of_cells():
    cells = (
        "索  引  号： y41332000/2022-00088 公文种类： 通知 发布机构： 四川省医疗保障局 "
        "成文日期： 2022-11-03 发布日期： 2022-11-07 文      号： 川医保规〔2022〕9号 "
        "有 效  性： 有效"
    )
    assert labelled_fields(cells) == {
        "索引号": "y41332000/2022-00088",
        "公文种类": "通知",
        "发布机构": "四川省医疗保障局",
        "成文日期": "2022-11-03",
        "发布日期": "2022-11-07",
        "文号": "川医保规〔2022〕9号",
        "有效性": "有效",
    }


def test_layout_c_old_grid_without_separators():
    grid = (
        "索引号 008282882/2016-00093 主题 -- 发文机关 四川省人民政府\n"
        "发布日期 2016-04-21 文号 川府发〔2016〕19号 有效性 失效"
    )
    assert labelled_fields(grid) == {
        "索引号": "008282882/2016-00093",
        "主题分类": "",
        "发布机构": "四川省人民政府",
        "发布日期": "2016-04-21",
        "文号": "川府发〔2016〕19号",
        "有效性": "失效",
    }


def test_labels_joined_in_one_paragraph_end_each_value():
    joined = "发文机构:四川省人民政府发文字号:川府函〔2024〕58号成文日期:2024-04-02有效性:有效"
    assert labelled_fields(joined) == {
        "发布机构": "四川省人民政府",
        "文号": "川府函〔2024〕58号",
        "成文日期": "2024-04-02",
        "有效性": "有效",
    }


def test_synonyms_and_other_labels():
    text = (
        "主题词：社会保障 来源: 省政府办公厅 发布时间：2021年08月30日 "
        "关键词：养老 实施日期：2021-10-01"
    )
    assert labelled_fields(text) == {
        "主题分类": "社会保障",
        "来源": "省政府办公厅",
        "发布日期": "2021年08月30日",
    }


def test_a_label_word_inside_a_sentence_is_no_label():
    fields = labelled_fields("来源：四川日报 省委宣传部关于开展主题教育和文号规范工作的来稿")
    assert fields == {"来源": "四川日报 省委宣传部关于开展主题教育和文号规范工作的来稿"}


def test_a_block_printed_twice_keeps_the_first_non_empty_value():
    twice = "文  号: 有效性:有效\n文  号:川府发〔2020〕8号 有效性:失效"
    assert labelled_fields(twice) == {"文号": "川府发〔2020〕8号", "有效性": "有效"}


def test_no_labels():
    assert labelled_fields("") == {}
    assert labelled_fields("各市（州）人民政府，省政府各部门：") == {}


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("索 引 号 :", "索引号"),
        ("索  引  号：", "索引号"),
        ("文      号：", "文号"),
        ("发文字号", "文号"),
        ("有 效  性：", "有效性"),
        ("\u3000发文机关\xa0", "发布机构"),
        ("发文机构:", "发布机构"),
        ("主题", "主题分类"),
        ("主题词：", "主题分类"),
        ("• 废止日期:", "废止日期"),
        ("来源", "来源"),
        ("关键词", None),
        ("四川省人民政府", None),
        ("文号 川府发〔2024〕3号", None),
        ("", None),
    ],
)
def test_canonical_label(cell, expected):
    assert canonical_label(cell) == expected


SPELLINGS = {
    "索引号": ["索 引 号", "索  引  号", "索引号"],
    "发布机构": ["发布机构", "发文机关", "发文机构"],
    "成文日期": ["成文日期"],
    "文号": ["文  号", "文      号", "文号", "发文字号"],
    "有效性": ["有 效 性 ", "有 效  性", "有效性"],
    "废止日期": ["废止日期"],
}
VALUES = {
    "索引号": ["008282882/2025-00031", "y41332000/2019-00102"],
    "发布机构": ["四川省人民政府", "四川省人民政府办公厅", ""],
    "成文日期": ["2025-01-20", "2019-12-30"],
    "文号": ["川府发〔2025〕2号", "川办函(2019)113号", "--"],
    "有效性": ["有效", "失效", "尚未施行"],
    "废止日期": ["", "1893427200"],
}


@st.composite
def metadata_blocks(draw):
    labels = draw(st.permutations(list(SPELLINGS)))
    parts, expected = [], {}
    for label in labels:
        spelling = draw(st.sampled_from(SPELLINGS[label]))
        value = draw(st.sampled_from(VALUES[label]))
        separator = draw(st.sampled_from([":", "：", " : ", "： "]))
        parts.append(f"{spelling}{separator}{value}")
        expected[label] = "" if value == "--" else value
    joiner = draw(st.sampled_from(["", " ", "\n• ", "\u3000", " | "]))
    return joiner.join(parts), expected


@given(metadata_blocks())
def test_any_order_spelling_and_joining_reads_back(block):
    text, expected = block
    assert labelled_fields(text) == expected


@given(st.text())
def test_arbitrary_text_never_raises(text):
    fields = labelled_fields(text)
    assert set(fields) <= set(CANONICAL_LABELS)
    canonical_label(text)
