"""Chinese list pages: their shape, rows and pager (extract/zhlists); the list API's answers
(extract/zhapi). Small HTML and JSON written from SITE-ZH §1, §1.1, §3.5."""

from __future__ import annotations

import json

import pytest

from govcrawler.extract.zhapi import api_query, read_answer
from govcrawler.extract.zhlists import ListRow, page_kind, read_list

SITE = "https://www.sc.gov.cn"
NAV = (
    '<div class="nav"><ul><li><a href="/10462/index.shtml">首页</a></li>'
    '<li><a href="/10462/10464/index.shtml">政务公开</a></li></ul></div>'
)


def html(body: str) -> str:
    return f"<html><body>{NAV}{body}</body></html>"


def test_the_old_dash_table_reads_title_href_and_date_and_skips_spacer_rows() -> None:
    page = html(
        '<table id="dash-table"><tr><td><img src="dot.gif"></td><td><span><font>'
        '<a href="/10462/c103044//2019/3/26/a4e57db73ea06c56e21e0aeabbe6081b.shtml" '
        'title="四川省人民政府关于印发若干措施的通知">四川省人民政府关于印发…</a></font></span></td>'
        '<td><font>(03-26)</font></td></tr><tr><td colspan="3"><img src="spacer.gif"></td></tr>'
        "</table>"
    )
    listing = read_list(page, f"{SITE}/10462/c103044/stt_list.shtml")
    assert listing.shape == "dash_table"
    assert listing.rows == (
        ListRow(
            "四川省人民政府关于印发若干措施的通知",
            f"{SITE}/10462/c103044//2019/3/26/a4e57db73ea06c56e21e0aeabbe6081b.shtml",
            None,
            "(03-26)",
        ),
    )


def test_biaobody_rows_give_the_doc_number_and_date_and_the_pager_its_count() -> None:
    page = html(
        '<div class="biaobody"><ul><li><div class="lie1">1</div><div class="lie2">'
        '<a href="/10462/c102914/2023/5/16/8e2f4c1a9b7d4e3f8a6c5b2d1e0f9a87.shtml" '
        'title="关于印发若干措施的通知">关于印发若干措施的通知</a></div>'
        '<div class="lie3">川府规〔2023〕3号</div><div class="lie4">2023-05-16</div>'
        "</li></ul></div>"
        '<div class="pagination"><ul class="m-pagination-page"><li><a>1</a></li>'
        '<li><a href="gfxwj_2.shtml">2</a></li><li><a href="gfxwj_2.shtml">下一页</a></li></ul>'
        '<div class="pagination_index"><span>共 2 页</span></div></div>'
    )
    listing = read_list(page, f"{SITE}/10462/c102914/gfxwj.shtml")
    assert listing.shape == "biaobody"
    assert [(r.title, r.doc_number, r.date) for r in listing.rows] == [
        ("关于印发若干措施的通知", "川府规〔2023〕3号", "2023-05-16")
    ]
    assert listing.pager.page_count == 2
    assert listing.pager.next_href == f"{SITE}/10462/c102914/gfxwj_2.shtml"


def test_the_regulation_library_reads_its_title_attribute_and_the_promulgation_date() -> None:
    page = html(
        '<div class="yxgzul"><ul><li><div class="p1"><a href="/10462/c108923/2020/9/4/'
        '6ede50ad332268f6f718b8ab408dbec6.shtml" title="四川省大型群众性活动安全管理办法">'
        '四川省大型…</a></div><div class="p2">四川省人民政府　2020年9月4日'
        "四川省人民政府令第341号公布</div></li></ul></div>"
    )
    listing = read_list(page, f"{SITE}/10462/c108923/zfgz_list.shtml")
    assert listing.shape == "yxgzul"
    assert listing.rows[0].title == "四川省大型群众性活动安全管理办法"
    assert listing.rows[0].date == "2020年9月4日"


def test_gazette_issue_list_and_issue_page() -> None:
    issues = html(
        '<div class="zwgklist00"><ul><li><a href="/10462/c103109/gbml/2023-12.shtml">'
        "2023年第12期</a></li></ul></div>"
    )
    listing = read_list(issues, f"{SITE}/10462/c103109/zwgklist00.shtml")
    assert listing.shape == "gazette_issues"
    assert [row.href for row in listing.rows] == [f"{SITE}/10462/c103109/gbml/2023-12.shtml"]
    issue = html(
        '<table><tr><td class="left"><a class="yh_14heix" target="_blank" '
        'href="/zfgbdb/detail/224506163c67dbbc2b70222c3ecab097.shtml">关于同意建立制度的函</a></td>'
        '<td class="right">川办函〔2023〕57号</td></tr></table>'
    )
    assert read_list(issue, f"{SITE}/10462/c103109/gbml/2023-12.shtml").shape == "gazette_issue"


def test_interpretation_lists_and_the_pager_script() -> None:
    page = html(
        '<ul class="list-ul"><li><a href="/10462/10464/13298/13299/2023/5/17/'
        'c4d9e0a1b2f34c5d8e9f0a1b2c3d4e5f.shtml">政策解读</a><span class="date">2023-05-17</span>'
        "</li></ul><div id=\"page_div\"></div><script>createPageHTML('page_div',3,1,"
        "'zcjd_list','shtml',14);</script>"
    )
    listing = read_list(page, f"{SITE}/10462/10464/13298/13299/zcjd_list.shtml")
    assert listing.shape == "interpretations"
    assert listing.rows[0].date == "2023-05-17"
    assert listing.pager.page_count == 3
    # The same markup elsewhere is a plain list of links.
    assert read_list(page, f"{SITE}/10462/zfwjts/zfwj.shtml").shape == "links"


def test_a_list_of_no_known_markup_is_unknown_and_still_gives_its_links() -> None:
    page = html(
        '<div class="zcwj-box"><dl><dt><a href="/10462/zfwjts/2025/12/16/'
        'c9ff5e8499dfa22b6590af50c889f0ab.shtml">关于做好市场保供稳价工作的通知</a></dt>'
        "<dd>2025-12-16</dd></dl></div>"
    )
    listing = read_list(page, f"{SITE}/10462/c111441/list_ft.shtml")
    assert listing.shape == "unknown"
    assert f"{SITE}/10462/zfwjts/2025/12/16/c9ff5e8499dfa22b6590af50c889f0ab.shtml" in [
        row.href for row in listing.rows
    ]


def test_navigation_li_is_not_a_list_and_the_old_pager_next_link_is_read() -> None:
    page = html(
        '<div id="page_div"><span class="arrow"><a href="stt_list_2.shtml">下页</a></span></div>'
    )
    listing = read_list(page, f"{SITE}/10462/c103046/stt_list.shtml")
    assert listing.shape == "unknown"  # the site's navigation alone is no list
    assert listing.pager.next_href == f"{SITE}/10462/c103046/stt_list_2.shtml"
    assert listing.pager.page_count is None


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("/10462/zfwjts/2025/4/22/9c3e5a7b1d2f4e6a8b0c2d4e6f8a0b1c.shtml", "document"),
        ("/10462/10464/10684/10693/2014/7/4/10305112.shtml", "document"),
        ("/zfgbdb/detail/224506163c67dbbc2b70222c3ecab097.shtml", "document"),
        ("/zcwj/xxgk/NewT.aspx?i=20150605103012-356621-00-000", "document"),
        ("/10462/c102914/gfxwj_2.shtml", "list"),
        ("/10462/10464/index.shtml", "list"),
        ("/10462/zfwjts/2021/3/5/content_2021030512.shtml", "unclassified/dated"),
        ("/cms-scsrmzf/qryZFWJListByConditionsNew", "unclassified/api"),
        ("/zcwj/xxgk/Search.aspx", "unclassified/script"),
    ],
)
def test_page_kinds_by_url_shape(url: str, kind: str) -> None:
    assert page_kind(SITE + url) == kind


def row(n: int) -> dict[str, str]:
    return {
        "url": f"{SITE}/10462/zfwjts/2025/1/{n}/{n:032x}.shtml",
        "publishedTime": f"2025-01-{n:02d} 10:00:00",
        "wh": f"川府发〔2025〕{n}号",
        "title": f"四川省人民政府关于第{n}项工作的通知",
    }


def answer(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def test_a_full_api_page_asks_for_the_next_and_a_short_one_ends_the_series() -> None:
    full = read_answer(answer({"results": [row(n) for n in range(1, 11)]}), 1)
    assert (len(full.rows), full.more, full.problem) == (10, True, None)
    assert full.rows[0].doc_number == "川府发〔2025〕1号"
    short = read_answer(answer({"results": [row(11)]}), 2)
    assert (len(short.rows), short.more, short.problem) == (1, False, None)


def test_a_count_that_agrees_ends_the_series_even_after_a_full_page() -> None:
    last = read_answer(answer({"results": [row(n) for n in range(1, 11)], "total": 20}), 2)
    assert (last.more, last.problem) == (False, None)


@pytest.mark.parametrize(
    ("body", "page", "problem"),
    [
        (
            "<!DOCTYPE html><html><body>系统繁忙</body></html>".encode(),
            1,
            "html",
        ),
        (b'{"results": [{"url": "https://www.sc.gov.cn/10462/', 1, "invalid_json"),
        (b'{"results": []}', 1, "empty"),
        (b'{"code": 500, "msg": "error"}', 1, "not_a_list"),
        (answer({"results": [row(n) for n in range(1, 11)], "total": 3}), 1, "count_mismatch"),
        (answer({"results": [row(1)], "pageCount": 1}), 2, "count_mismatch"),
    ],
)
def test_a_bad_answer_is_a_problem_never_an_exception(body: bytes, page: int, problem: str) -> None:
    result = read_answer(body, page)
    assert result.problem == problem
    assert not result.more


def test_rows_without_a_url_are_skipped_and_counted() -> None:
    result = read_answer(answer({"results": [row(1), {"title": "无链接"}, "x"]}), 1)
    assert [r.url for r in result.rows] == [row(1)["url"]]
    assert result.skipped_rows == 2


def test_the_query_is_the_sites_own() -> None:
    assert api_query("973183bdfdc94e9c9060f0707db6dd47", 2) == {
        "keyWord": "",
        "wh": "",
        "fwzh": "",
        "pageSize": 10,
        "pageNum": 2,
        "channelId": ["973183bdfdc94e9c9060f0707db6dd47"],
    }
