from govcrawler.extract.listing import list_page_count, page_links


def test_page_count_is_read_from_the_pager_script() -> None:
    html = (
        "<div id='page_div'></div>"
        "<script>createPageHTML('page_div',12, 1,'gzbg','shtml',117);</script>"
    )
    assert list_page_count(html) == 12


def test_page_count_from_a_count_variable() -> None:
    assert list_page_count("<script>var countPage = 4;var currentPage = 0;</script>") == 4


def test_a_list_with_link_pager_declares_no_count() -> None:
    assert list_page_count('<a href="index_2.shtml">2</a><a href="index_3.shtml">Next</a>') is None


def test_links_keep_order_and_text_and_skip_scripts_and_mail() -> None:
    html = """<ul><li><a href="/10462/a.shtml">Sichuan <b>holds</b> meeting</a></li>
    <li><a href="javascript:void(0)">Print</a></li><li><a href="mailto:x@sc.gov.cn">Mail</a></li>
    <li><a href=" http://www.sc.gov.cn/10462/b.shtml ">Tourism</a></li>
    <li><a>no href</a></li></ul>"""
    links = page_links(html)
    assert [(link.href, link.text) for link in links] == [
        ("/10462/a.shtml", "Sichuan holds meeting"),
        ("http://www.sc.gov.cn/10462/b.shtml", "Tourism"),
    ]
