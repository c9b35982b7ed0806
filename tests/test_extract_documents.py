"""Document pages: the traps of SITE-ZH §0 and bad input, on small pages written here."""

from __future__ import annotations

from pathlib import Path

import pytest

from govcrawler.exceptions import ExtractionError
from govcrawler.extract.document import document_from_page
from govcrawler.extract.encoding import page_text
from govcrawler.extract.text import is_boilerplate_line
from govcrawler.spiders.sc_open_governance import OpenGovernanceSpider
from tests.conftest import SITE_COPY, fixture_pages

URL = "https://www.sc.gov.cn/10462/zfwjts/2023/6/2/0b1c2d3e4f5a4b6c8d9e0f1a2b3c4d5e.shtml"
DOCUMENTS = fixture_pages(page_type="document")


def page(bullets: str, body: str, script: str = "") -> str:
    """A new-template document page: title, layout (a) bullets, body, an inline script."""
    return f"""<html><head><meta name="ArticleTitle" content="四川省人民政府关于做好防汛工作的通知">
<script>{script}</script></head><body><div class="crumb">当前位置：政务公开 &gt; 政府文件</div>
<ul>{bullets}</ul><div class="contText">{body}</div></body></html>"""


BULLETS = (
    "<li>索 引 号 : 008282882/2023-00200</li><li>发布机构:四川省人民政府</li>"
    "<li>发布日期:2023-06-02</li><li>文  号:{number}</li><li>有 效 性 :{validity}</li>"
)
BODY = (
    "<p>各市（州）人民政府：</p><p>　　入汛以来，全省降雨偏多，各地要压实防汛责任。</p>"
    "<p>四川省人民政府</p><p>2023年5月30日</p>"
)


@pytest.mark.parametrize(
    ("path", "dashed"),
    [
        ("10462/10464/10684/10693/2014/7/4/10305112.shtml", "2014—2016年"),
        ("10462/10464/10684/10695/2015/12/8/10362039.shtml", "2015—2016年度"),
    ],
)
def test_a_gb2312_declared_page_with_gb18030_characters_decodes_whole(
    path: str, dashed: str
) -> None:
    raw = (SITE_COPY / "www.sc.gov.cn" / path).read_bytes()
    assert b"charset=gb2312" in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("gb2312")  # the trap is real: 體 and — are outside GB2312
    text, encoding = page_text(raw, "text/html")
    assert encoding == "gb18030"
    assert "繁體" in text and dashed in text and "\ufffd" not in text


def test_a_page_matching_no_layout_still_yields_a_document_from_the_fallbacks() -> None:
    html = (
        "<html><body><div id='zoom'><p>四川省人民政府</p><p>关于做好防汛工作的通知</p>"
        f"<p>川府函(2023)88 号</p>{BODY}</div>"
        "<script>var file_status = '有效';</script></body></html>"
    )
    document = document_from_page(html, URL)
    assert document.layout == "none"
    assert document.title == "四川省人民政府关于做好防汛工作的通知"
    assert document.doc_number is not None
    assert document.doc_number.normalised == "川府函〔2023〕88号"
    assert str(document.fields.written_on) == "2023-05-30"  # the signature date
    assert str(document.fields.published_on) == "2023-06-02"  # the URL date
    assert (document.fields.validity, document.fields.validity_source) == ("有效", "script")
    assert document.body[0] == "各市（州）人民政府：" and "四川省人民政府" in document.body


def test_the_script_literal_is_what_the_page_shows_over_the_static_cell() -> None:
    bullets = BULLETS.format(number="川府函〔2023〕88号", validity="有效")
    script = "var losetime = '1735660800'; var file_status = '失效';"
    fields = document_from_page(page(bullets, BODY, script), URL).fields
    assert (fields.validity, fields.validity_raw, fields.validity_source) == (
        "失效",
        "失效",
        "script",
    )
    assert str(fields.abolished_on) == "2025-01-01"  # midnight in Asia/Shanghai


def test_a_leaked_epoch_in_the_abolition_cell_is_a_date() -> None:
    bullets = BULLETS.format(number="川府函〔2023〕88号", validity="")
    bullets += "<li>废止日期:1735660800000</li>"
    assert str(document_from_page(page(bullets, BODY), URL).fields.abolished_on) == "2025-01-01"


def test_bad_metadata_values_are_kept_as_published_and_never_guessed() -> None:
    bullets = BULLETS.format(number="见附件", validity="部分有效")
    bullets += "<li>成文日期:二〇二三年某月</li>"
    document = document_from_page(page(bullets, BODY), URL)
    assert document.doc_number is not None
    assert (document.doc_number.raw, document.doc_number.normalised) == ("见附件", "")
    assert document.doc_number.prefix is None and document.doc_number.year is None
    assert document.fields.validity is None and document.fields.validity_raw == "部分有效"
    assert document.fields.validity_source == "static"


def test_a_twice_printed_body_keeps_one_printing_and_its_signature() -> None:
    bullets = BULLETS.format(number="川府函〔2023〕88号", validity="有效")
    printing = "<p>四川省人民政府</p><p>川府函〔2023〕88号</p>" + BODY
    body = printing + "<p>责任编辑：王芳</p><p>扫一扫在手机打开当前页</p>" + printing
    document = document_from_page(page(bullets, body), URL)
    assert list(document.body) == [
        "各市（州）人民政府：",
        "入汛以来，全省降雨偏多，各地要压实防汛责任。",
        "四川省人民政府",
        "2023年5月30日",
    ]


@pytest.mark.parametrize(
    ("html", "missing"),
    [
        ("", "empty page"),
        ("<html><body><div class='contText'><p>各市（州）人民政府：</p></div></body></html>", "ti"),
        (page(BULLETS.format(number="川府函〔2023〕88号", validity=""), ""), "body"),
    ],
)
def test_a_page_without_a_document_raises_naming_the_url_and_what_is_missing(
    html: str, missing: str
) -> None:
    with pytest.raises(ExtractionError) as raised:
        document_from_page(html, URL)
    assert URL in str(raised.value) and missing in raised.value.missing


@pytest.mark.parametrize(
    "line",
    [
        "主管单位：四川省人民政府办公厅",
        "政府网站标识码：5100000103  蜀ICP备：19006488号",
        "川公安网备号 51010402000715号",
        "版权所有：四川省医疗保障局 地址：成都市青羊区太升南路155号",
        "四川省医疗保障局 | 网站声明 | 联系我们 | 网站地图",
        "责任编辑：王芳",
        "扫一扫在手机打开当前页",
        "【字体：大 中 小】",
        "[上一篇]:关于做好防汛工作的通知",
        "分享到：",
        "打印 关闭",
        "全国统一刊号 CN51—1727/D",
        "编辑出版 四川省人民政府公报室",
        "本网站由四川省人民政府办公厅主办　四川省大数据中心承办",
        "四川省人民政府办公厅主办 四川省大数据中心承办",
        "建议使用1920×1080以上分辨率浏览本网站",
        "本站支持IPv6访问",
        "政务服务便民热线：12345",
    ],
)
def test_chinese_footer_and_widget_lines_are_boilerplate(line: str) -> None:
    assert is_boilerplate_line(line) or line.startswith("四川省医疗保障局")


@pytest.mark.parametrize(
    "line",
    [
        "各地要严格落实版权所有者的合法权益。",
        "省政府办公厅负责联系我们省与兄弟省份的协作事宜。",
        "打印机、复印机等办公设备纳入政府集中采购目录。",
        "由省政府办公厅主办、省大数据中心承办的全省政务公开培训班在成都举行。",
        "建议使用1920×1080分辨率的显示器。",
        "群众可拨打12345政务服务便民热线反映问题。",
    ],
)
def test_document_sentences_naming_a_sentinel_word_are_kept(line: str) -> None:
    assert not is_boilerplate_line(line)


def test_the_english_spider_never_reaches_the_document_pages() -> None:
    scope = OpenGovernanceSpider.scope_prefixes
    paths = [page.url.removeprefix("https://www.sc.gov.cn") for page in DOCUMENTS]
    assert paths and not any(path.startswith(scope) for path in paths)
    english = ("/10462/10758/", *scope)  # its home and its scope (the Chinese lists link them)
    others = [
        path
        for path in SITE_COPY.rglob("*")
        if path.is_file()
        and path.suffix in (".shtml", ".html")
        and not _is_document(path)
        and ("/" + path.relative_to(SITE_COPY / "www.sc.gov.cn").as_posix()).startswith(english)
    ]
    assert others
    for other in others:
        text = other.read_bytes().decode("utf-8", errors="replace")
        assert not any(path in text for path in paths), other


def _is_document(path: Path) -> bool:
    return any(page.path == path for page in DOCUMENTS)


def test_fixtures_update_uses_the_document_extractor() -> None:
    from govcrawler.cli import expected

    changes = expected.update_expected([page.path for page in DOCUMENTS], write=False)
    assert [change.page for change in changes if change.diff or change.error] == []
    assert {expected.page_type(page.path) for page in DOCUMENTS} == {"document"}


FOOTER_OF_UNKNOWN_SHAPE = (
    "<div class='bottom-info'><p>四川省人民政府办公厅主办　四川省大数据中心承办</p>"
    "<p>政务服务便民热线：12345</p><p>本站支持IPv6访问</p></div>"
)


def test_a_metadata_block_of_unknown_shape_is_read_but_counted_as_no_layout() -> None:
    html = (
        "<html><body><div class='info'><dl><dt>索引号：</dt><dd>008282882/2023-00200</dd>"
        "<dt>发布机构：</dt><dd>四川省人民政府</dd><dt>文号：</dt><dd>川府函〔2023〕88号</dd>"
        "<dt>发布日期：</dt><dd>2023-06-02</dd></dl></div>"
        "<div class='contText'><p>四川省人民政府</p><p>关于做好防汛工作的通知</p>"
        f"<p>川府函〔2023〕88号</p>{BODY}</div></body></html>"
    )
    document = document_from_page(html, URL)
    assert document.layout == "none"
    assert document.fields.index_number == "008282882/2023-00200"
    assert document.fields.issuer == "四川省人民政府"
    assert (
        document.doc_number is not None and document.doc_number.normalised == "川府函〔2023〕88号"
    )
    assert not any("008282882" in line for line in document.body)


def test_without_a_known_container_the_densest_one_keeps_the_signature_not_the_footer() -> None:
    html = (
        "<html><body><div class='today'>2026-12-07</div><div class='xl-body'>"
        f"<p>四川省人民政府</p><p>关于做好防汛工作的通知</p><p>川府函〔2023〕88号</p>{BODY}"
        f"<p>（此件公开发布）</p></div>{FOOTER_OF_UNKNOWN_SHAPE}</body></html>"
    )
    document = document_from_page(html, URL)
    assert (document.template, document.title) == (
        "unknown",
        "四川省人民政府关于做好防汛工作的通知",
    )
    assert list(document.body[-3:]) == ["四川省人民政府", "2023年5月30日", "（此件公开发布）"]
    assert not any("12345" in line or "承办" in line for line in document.body)


def test_an_interpretation_links_its_document_by_its_source_line() -> None:
    target = "/10462/zfwjts/2023/6/2/0b1c2d3e4f5a4b6c8d9e0f1a2b3c4d5e.shtml"
    html = (
        "<html><head><meta name='ArticleTitle' content='一图读懂防汛工作通知'></head><body>"
        "<div class='contText'><p>省政府近日印发通知，对防汛工作作出部署。</p>"
        f"<p>原文链接：<a href='{target}'>四川省人民政府关于做好防汛工作的通知</a></p></div>"
        "</body></html>"
    )
    url = "https://www.sc.gov.cn/10462/10464/13298/13299/2023/6/3/1a2b3c4d5e6f4a7b8c9d0e1f2a3b4c5d.shtml"
    document = document_from_page(html, url)
    assert [(link.title, link.url) for link in document.related] == [
        ("四川省人民政府关于做好防汛工作的通知", "https://www.sc.gov.cn" + target)
    ]
    assert list(document.body) == ["省政府近日印发通知，对防汛工作作出部署。"]


def test_a_government_order_is_dated_by_the_governors_signature() -> None:
    html = (
        "<html><head><meta name='ArticleTitle' content='四川省城镇燃气安全管理办法'></head><body>"
        "<div id='zoom'><p>四川省人民政府令</p><p>第320号</p>"
        "<p>《四川省城镇燃气安全管理办法》已经省政府常务会议审议通过，现予公布。</p>"
        "<p>省长　周建国</p><p>2017年9月5日</p><p>四川省城镇燃气安全管理办法</p>"
        + "".join(f"<p>第{n}条　本条内容。</p>" for n in "一二三四五六七")
        + "</div></body></html>"
    )
    document = document_from_page(html, URL)
    assert str(document.fields.written_on) == "2017-09-05"
    assert document.doc_number is not None
    assert document.doc_number.normalised == "四川省人民政府令第320号"


def test_a_gazette_database_page_is_identified_by_its_id() -> None:
    html = (
        "<html><head><meta name='ArticleTitle' content='四川省人民政府关于做好防汛工作的通知'>"
        "<meta name='PubDate' content='2023-06-30 00:00:00'></head><body><div id='zoom'>"
        f"<p>四川省人民政府</p><p>关于做好防汛工作的通知</p><p>川府函〔2023〕88号</p>{BODY}</div>"
        "</body></html>"
    )
    url = "https://www.sc.gov.cn/zfgbdb/detail/224506163c67dbbc2b70222c3ecab097.shtml"
    document = document_from_page(html, url)
    assert (document.canonical_id, document.column_id) == (
        "224506163c67dbbc2b70222c3ecab097",
        "zfgbdb",
    )
    assert str(document.fields.published_on) == "2023-06-30"


def test_a_regulation_library_detail_gives_its_maker_and_promulgation_date() -> None:
    html = (
        "<html><head><meta name='ArticleTitle' content='四川省城镇燃气安全管理办法'></head><body>"
        "<div class='zfgztit'>四川省城镇燃气安全管理办法</div>"
        "<div class='zfgztit_ssdate'>四川省人民政府　2017年9月5日公布　2017年11月1日施行</div>"
        "<div id='zoom'><p>第一条　为了加强城镇燃气安全管理，制定本办法。</p>"
        "<p>第二条　本办法自2017年11月1日起施行。</p></div></body></html>"
    )
    url = "https://www.sc.gov.cn/10462/c108923/2017/9/12/6ede50ad332268f6f718b8ab408dbec6.shtml"
    document = document_from_page(html, url)
    assert document.fields.issuer == "四川省人民政府"
    assert str(document.fields.written_on) == "2017-09-05"
    assert document.layout == "none" and len(document.body) == 2
