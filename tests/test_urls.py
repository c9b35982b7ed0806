from datetime import date

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from govcrawler.extract.urls import (
    article_ref,
    canonical_url,
    in_scope,
    is_page_url,
    is_site_url,
    list_column_id,
    numbered_page_url,
)

SITE = "https://www.sc.gov.cn"
SCOPE = ["/10462/10758/10760/", "/10462/newsdlb/"]


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("http://www.sc.gov.cn/10462/10758/index.shtml", f"{SITE}/10462/10758/index.shtml"),
        ("/10462//10758/10760/index.shtml", f"{SITE}/10462/10758/10760/index.shtml"),
        ("../10760/index.shtml#top", f"{SITE}/10462/10758/10760/index.shtml"),
        ("HTTPS://WWW.SC.GOV.CN:443/10462/", f"{SITE}/10462/"),
        ("index_2.shtml", f"{SITE}/10462/10758/10760/index_2.shtml"),
        ("http://english.www.gov.cn/", "http://english.www.gov.cn/"),
    ],
)
def test_canonical_url_folds_the_forms_that_circulate(href: str, expected: str) -> None:
    assert canonical_url(href, f"{SITE}/10462/10758/10760/index.shtml") == expected


@pytest.mark.parametrize("href", ["javascript:void(0)", "mailto:office@sc.gov.cn", "ftp://x/y"])
def test_canonical_url_refuses_what_is_not_a_web_page(href: str) -> None:
    assert canonical_url(href, f"{SITE}/10462/10758/index.shtml") is None


def test_canonical_url_is_idempotent() -> None:
    once = canonical_url("http://www.sc.gov.cn/10462//10758/./10760/x.shtml?b=2&a=1")
    assert once is not None
    assert canonical_url(once) == once


def test_article_ref_reads_both_id_eras_and_unpadded_dates() -> None:
    old = article_ref(f"{SITE}/10462/10758/10760/10765/2016/5/12/10441831.shtml")
    new = article_ref(
        f"{SITE}/10462/10758/10760/10766/2024/1/30/1801a292946f4bddb355c7c6657eb126.shtml"
    )
    assert old is not None and new is not None
    assert (old.canonical_id, old.column_id, old.url_date) == (
        "10441831",
        "10765",
        date(2016, 5, 12),
    )
    assert (new.canonical_id, new.column_id, new.url_date) == (
        "1801a292946f4bddb355c7c6657eb126",
        "10766",
        date(2024, 1, 30),
    )


@pytest.mark.parametrize(
    "url",
    [
        f"{SITE}/10462/10758/10760/10765/index_2.shtml",
        f"{SITE}/10462/10758/10760/10765/2016/5/12/1044183.shtml",  # 7 digits
        f"{SITE}/10462/10758/10760/10765/2016/13/12/10441831.shtml",  # month 13
        f"{SITE}/10462/10758/10760/10765/2022/9/26/1801A292946F4BDDB355C7C6657EB126.shtml",
        "https://www.sc-gov-cn.mirror-news.top/10462/10758/10760/10765/2016/5/12/10441831.shtml",
    ],
)
def test_article_ref_rejects_other_shapes_and_hosts(url: str) -> None:
    assert article_ref(url) is None


def test_scope_is_by_host_and_path_prefix() -> None:
    assert in_scope(f"{SITE}/10462/10758/10760/10765/index.shtml", SCOPE)
    assert in_scope(f"{SITE}/10462/newsdlb/2022/10/8/{'a' * 32}.shtml", SCOPE)
    assert not in_scope(f"{SITE}/10462/10758/10759/10763/index.shtml", SCOPE)
    assert not in_scope("https://sc.gov.cn.example.top/10462/10758/10760/", SCOPE)
    assert is_site_url("http://www.sc.gov.cn/x") and not is_site_url("https://sc.gov.cn/x")


def test_documents_and_images_are_not_pages() -> None:
    assert not is_page_url(f"{SITE}/10462/files/P020240130.pdf")
    assert not is_page_url(f"{SITE}/10462/W0201.JPG")
    assert is_page_url(f"{SITE}/10462/10758/10760/10765/index.shtml")


def test_numbered_pages_follow_the_cms_naming() -> None:
    first = f"{SITE}/10462/10758/10760/10766/gzbg.shtml"
    assert numbered_page_url(first, 1) == first
    assert numbered_page_url(first, 3) == f"{SITE}/10462/10758/10760/10766/gzbg_3.shtml"
    assert numbered_page_url(f"{SITE}/a/gzbg_2.shtml", 4) == f"{SITE}/a/gzbg_4.shtml"
    assert list_column_id(first) == "10766"
    assert list_column_id(f"{SITE}/10462/10758/10760/") == "10760"


# --- properties -------------------------------------------------------------------------------

HREFS = st.one_of(
    st.text(max_size=80),
    st.builds(
        lambda scheme, host, path, query: f"{scheme}{host}{path}{query}",
        st.sampled_from(["", "http://", "https://", "//", "HTTP://", "ftp://", "javascript:"]),
        st.sampled_from(["www.sc.gov.cn", "WWW.SC.GOV.CN:8080", "sc-gov-cn.mirror.top", ""]),
        st.text(alphabet="/.%2e5cabc_-10462的?#\\", max_size=40),
        st.sampled_from(["", "?a=1", "?utm_source=x&b=2", "#top"]),
    ),
)


@given(HREFS, st.sampled_from([None, f"{SITE}/10462/10758/index.shtml", f"{SITE}/a/b/c/"]))
# Found by this test: a bracket opening a host made urljoin or w3lib raise.
@example("//[", f"{SITE}/10462/10758/index.shtml")
@example("//[]", f"{SITE}/10462/10758/index.shtml")
@example("//[::1]:8080/a", None)
def test_canonical_url_never_raises_and_is_idempotent(href: str, base: str | None) -> None:
    once = canonical_url(href, base)
    if once is not None:
        assert canonical_url(once) == once
        if is_site_url(once):
            assert once.startswith(f"{SITE}/")  # one scheme, no port, for the site


def test_a_malformed_host_is_no_url_and_an_ipv6_host_keeps_its_brackets() -> None:
    assert canonical_url("//[", f"{SITE}/10462/10758/index.shtml") is None
    assert canonical_url("//[]") is None
    assert canonical_url("http://[::1]:8080/a") == "http://[::1]:8080/a"
