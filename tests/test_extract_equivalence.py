"""The faster forms in govcrawler/extract/article.py select exactly what the plain ones select.

Checked on every page of the saved site and of the hostile suite: the furniture and heading
XPaths against the CSS selector lists they stand for, and the meta tags read in one walk against
one `//meta[@name='…']/@content` query per name, before and after the furniture is dropped.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from parsel import Selector

from govcrawler.extract import article
from govcrawler.extract.text import tidy_text

FIXTURES = Path(__file__).parent / "fixtures"
PAGES = sorted(
    path
    for path in FIXTURES.rglob("*")
    if path.is_file() and path.suffix in (".shtml", ".html", ".htm")
)


def _page(path: Path) -> Selector:
    html = path.read_bytes().decode("utf-8", errors="replace")
    return Selector(text=article._STRAY_END_TAGS.sub("", html) or "<html></html>")


def _meta_by_query(page: Selector, name: str) -> str | None:
    value = page.xpath(f"//meta[@name='{name}']/@content").get()
    return tidy_text(value) or None if value else None


def test_there_are_pages_to_check() -> None:
    assert len(PAGES) >= 100


@pytest.mark.parametrize("path", PAGES, ids=lambda path: path.relative_to(FIXTURES).as_posix())
def test_fast_selections_equal_the_plain_ones(path: Path) -> None:
    page = _page(path)
    for fast, plain in (
        (article._FURNITURE_XPATH, article._FURNITURE),
        (article._HEADINGS_XPATH, article._HEADINGS),
    ):
        assert [node.root for node in page.xpath(fast)] == [node.root for node in page.css(plain)]
    metas = article._NAMED_METAS(page.root)
    names = {element.get("name") for element in metas}
    for name in names | {"ArticleTitle", "PubDate", "ColumnName"}:
        assert article._meta(metas, name) == _meta_by_query(page, name)
    page.css(article._FURNITURE).drop()
    for name in names | {"ColumnName"}:
        assert article._meta(metas, name, page.root) == _meta_by_query(page, name)
    visible = page.xpath("//body//text()[not(ancestor::script)]").getall()
    assert article._VISIBLE_TEXT(page.root) == visible


def test_a_meta_tag_inside_dropped_furniture_is_not_read() -> None:
    page = Selector(
        text='<html><body><header><meta name="ColumnName" content="Nav"></header>'
        '<meta name="ColumnName" content=" News "></body></html>'
    )
    metas = article._NAMED_METAS(page.root)
    assert article._meta(metas, "ColumnName") == "Nav"
    page.xpath(article._FURNITURE_XPATH).drop()
    assert article._meta(metas, "ColumnName", page.root) == "News"
    assert _meta_by_query(page, "ColumnName") == "News"
