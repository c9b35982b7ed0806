"""Decoding follows the declared charset and rescues GBK/UTF-8 mix-ups."""

from govcrawler.extract.encoding import page_text

GBK_PAGE = (
    '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
    "</head><body><p>Chengdu (成都) hosted the meeting.</p>"
    "<p>主办单位：四川省人民政府办公厅</p></body></html>"
)


def test_a_gbk_page_is_decoded_by_its_declaration() -> None:
    text, encoding = page_text(GBK_PAGE.encode("gbk"), "text/html")
    assert text == GBK_PAGE
    assert encoding == "gb18030"


def test_gbk_served_as_utf8_is_rescued_by_the_page_declaration() -> None:
    text, _ = page_text(GBK_PAGE.encode("gbk"), "text/html; charset=utf-8")
    assert "成都" in text and "\ufffd" not in text


def test_gbk_with_no_declaration_anywhere_falls_back_to_gb18030() -> None:
    page = "<p>四川省人民政府召开常务会议，研究部署防汛工作。</p>"
    text, encoding = page_text(page.encode("gbk"), None)
    assert text == page
    assert encoding == "gb18030"


def test_utf8_served_as_gbk_stays_utf8() -> None:
    page = "<p>The People’s Government of Sichuan (四川省人民政府)</p>"
    text, encoding = page_text(page.encode("utf-8"), "text/html; charset=gbk")
    assert text == page
    assert encoding == "utf-8"


def test_a_byte_order_mark_wins() -> None:
    text, encoding = page_text("\ufeff<p>四川</p>".encode("utf-8-sig"), "text/html; charset=gbk")
    assert text.endswith("<p>四川</p>")
    assert encoding == "utf-8"


def test_ascii_pages_need_no_guessing() -> None:
    assert page_text(b"<p>Sichuan</p>", "text/html; charset=iso-8859-1")[0] == "<p>Sichuan</p>"


def test_one_stray_byte_in_a_utf8_page_does_not_garble_the_rest() -> None:
    page = "<p>The People’s Government of Sichuan’s capital, Chengdu.</p>".encode()
    stray = page.replace(b"capital", b"capit\xa0al")  # a cp1252 no-break space pasted in
    text, encoding = page_text(stray, "text/html; charset=utf-8")
    assert encoding == "utf-8"
    assert "People’s Government of Sichuan’s" in text
    assert text.count("\ufffd") == 1
