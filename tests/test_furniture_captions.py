"""Issue 15, extraction: page furniture removed by role wherever it sits, and every image with
its own caption.

The scans read every stored body of every fixture (the expected outputs of articles and
documents, and the bodies a real replay crawl archived) with patterns of their own, written
from SITE.md's furniture: not the extractor's rules. The caption checks read the page itself
with lxml: a caption is shown near its image or is that image's alt/title text."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html

from govcrawler.extract import furniture
from govcrawler.extract.article import article_from_page
from govcrawler.extract.text import is_boilerplate_line
from govcrawler.extract.urls import canonical_url
from tests.conftest import fixture_pages

PAGES = fixture_pages(page_type=None)
ARTICLES = [page for page in PAGES if page.page_type == "article"]
WITH_IMAGES = [page for page in ARTICLES if page.expected["images"]]
# A date line: a publication label followed by a date, opening the paragraph.
DATE_LINE = re.compile(
    r"^\W*(?:updated|last updated|published|release date|posted on|发布时间|发布日期|更新时间)"
    r"\s*[:：]?\s*\d{4}",
    re.IGNORECASE,
)
# Widget labels as they are shown: alone, bracketed, or as a bar's label.
WIDGET_LABEL = re.compile(
    r"^\W*(?:print|close|share|print this page|close window|back to top)\W*$"
    r"|\[\s*(?:print|close)\s*\]|【\s*(?:打印|关闭)|关闭窗口|打印本页|字号\s*[:：]\s*大"
    r"|font\s*size\s*[:：]|share to\s*[:：]|^\W*(?:previous|next)\s*[:：]|上一篇|下一篇",
    re.IGNORECASE,
)


def _furniture(paragraph: str) -> list[str]:
    return [p.pattern[:30] for p in (DATE_LINE, WIDGET_LABEL) if p.search(paragraph)]


@pytest.mark.parametrize("page", PAGES, ids=[page.id for page in PAGES])
def test_no_expected_body_holds_a_date_line_or_a_widget_label(page) -> None:
    for paragraph in page.expected["body"]:
        assert not _furniture(paragraph), f"{page.id}: {paragraph[:80]!r}"


@pytest.mark.parametrize("page", ARTICLES, ids=[page.id for page in ARTICLES])
def test_no_expected_body_repeats_an_attachment_link_line(page) -> None:
    names = {attachment["text"] for attachment in page.expected["attachments"]}
    for paragraph in page.expected["body"]:
        rest = paragraph
        for name in names:
            rest = rest.replace(name, "")
        assert rest == paragraph or len(rest.strip(" :：")) > 20, f"{page.id}: {paragraph!r}"


def test_no_body_a_replay_crawl_archived_holds_a_date_line_or_a_widget_label(
    crawled_archive: Path,
) -> None:
    with sqlite3.connect(crawled_archive) as connection:
        rows = connection.execute("SELECT url, body FROM articles").fetchall()
    assert len(rows) >= len(ARTICLES) - 1  # every expected article (the copy may be merged)
    for url, body in rows:
        for paragraph in body.split("\n\n"):
            assert not _furniture(paragraph), f"{url}: {paragraph[:80]!r}"


def _image_elements(page) -> dict[str, list]:
    """The page's `<img>` elements by their absolute URL."""
    tree = lxml_html.fromstring(page.html())
    found: dict[str, list] = {}
    for image in tree.iter("img"):
        url = canonical_url(image.get("src") or "", page.url) or ""
        found.setdefault(url, []).append(image)
    return found


def _near_text(image) -> str:
    """The visible text of the image's figure, table, or the two paragraphs around it."""
    scope = next(image.iterancestors("figure", "table"), None)
    if scope is None:
        block = image.getparent()
        pieces = [block, block.getnext()]
        return " ".join(" ".join(p.itertext()) for p in pieces if p is not None)
    return " ".join(scope.itertext())


def _fold(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("page", WITH_IMAGES, ids=[page.id for page in WITH_IMAGES])
def test_each_image_caption_is_shown_by_its_image_or_named_by_it(page) -> None:
    elements = _image_elements(page)
    for image in page.expected["images"]:
        caption = image["caption"]
        if caption is None:
            continue
        candidates = elements[image["url"]]
        named = {_fold(e.get(a) or "") for e in candidates for a in ("alt", "title")}
        near = " ".join(_fold(_near_text(e)) for e in candidates)
        assert caption in named or caption in near, f"{page.id}: {image['url']}: {caption!r}"
        assert caption in page.expected["captions"], page.id


@pytest.mark.parametrize("page", WITH_IMAGES, ids=[page.id for page in WITH_IMAGES])
def test_a_caption_is_in_the_body_only_where_the_page_shows_it_as_a_paragraph(page) -> None:
    tree = lxml_html.fromstring(page.html())
    shown_as_caption = {
        _fold(" ".join(e.itertext())) for e in tree.iter("figcaption", "td", "th")
    } | {_fold(e.get(a) or "") for e in tree.iter("img") for a in ("alt", "title")}
    paragraphs = {_fold(" ".join(e.itertext())) for e in tree.iter("p")}
    for caption in page.expected["captions"]:
        if caption in page.expected["body"]:
            assert caption in paragraphs and caption not in shown_as_caption, page.id


def test_images_of_one_page_keep_their_own_captions() -> None:
    for page in WITH_IMAGES:
        captions = [i["caption"] for i in page.expected["images"] if i["caption"]]
        assert len(captions) == len(set(captions)), page.id


def test_the_new_templates_are_in_the_fixtures() -> None:
    templates = {page.expected["template"] for page in ARTICLES}
    assert {"article", "zoom"} <= templates
    html5 = [p for p in ARTICLES if p.expected["template"] == "article"]
    assert any("<figcaption>" in p.html() for p in html5)


# Near misses and the rules one by one, on pages of our own.
def _page(body: str, head: str = "") -> str:
    return (
        f"<html><head><title>A headline</title>{head}</head><body><h1>A headline</h1>"
        f"<div class='TRS_Editor'>{body}</div></body></html>"
    )


URL = (
    "https://www.sc.gov.cn/10462/10758/10760/10765/2025/1/2/0123456789abcdef0123456789abcdef.shtml"
)
TEXT = "<p>The province opened a new railway line on January 1, linking two cities.</p>"


@pytest.mark.parametrize(
    "line",
    [
        "Updated:2025.03.18 Print",
        "Updated:2025.03.18 | Print | Close",
        "Updated: 2025.03.18 Source: Sichuan Daily",
        "Release date: 2025-03-18 Views: 1024",
        "发布时间：2023-09-05 10:00 来源：四川日报 【打印】【关闭窗口】",
        "字号：大 中 小",
        "【打印】 【关闭窗口】",
        "Font size: Large Medium Small",
        "Share to: WeChat Weibo",
        "Print this page | Close window",
        "Previous: Sichuan holds a fair",
        "[Next: Chengdu opens a park]",
        "上一篇：四川省召开会议",
        "Home > Open Governance > News",
    ],
)
def test_furniture_lines_are_dropped(line: str) -> None:
    assert is_boilerplate_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "Please print this form and close the window before you leave.",
        "Buyers can print a quality certificate for every batch.",
        "Close cooperation between the two cities was agreed on March 3.",
        "Shareholders of the company met in Chengdu.",
        "The printing industry grew by 5 per cent.",
        "(Source: Sichuan Daily)",
        "时间：2025年3月18日",
        "2023年9月5日",
        "Next, the meeting discussed the budget.",
        "Updated figures for 2024 show growth in every city.",
        "The font size of road signs will be enlarged.",
    ],
)
def test_near_misses_are_kept(line: str) -> None:
    assert not is_boilerplate_line(line)


def test_widget_links_and_a_date_line_inside_the_container_are_not_body() -> None:
    body = (
        "<p>Updated:2025.01.02 <a href='javascript:window.print()'>Print</a> "
        "<a href='#' onclick='shareTo(\"weibo\")'>Share</a></p>" + TEXT
    )
    article = article_from_page(_page(body), URL)
    assert article.body == (
        "The province opened a new railway line on January 1, linking two cities.",
    )


def test_a_figcaption_is_the_caption_and_the_next_paragraph_is_body() -> None:
    body = (
        TEXT + "<figure><img src='a.jpg' alt='ignored'><figcaption>A train leaves Chengdu on"
        " January 1. [Photo/Xinhua]</figcaption></figure><p>Passengers board in Chengdu.</p>"
    )
    article = article_from_page(_page(body), URL)
    caption = "A train leaves Chengdu on January 1. [Photo/Xinhua]"
    assert [i.caption for i in article.images] == [caption]
    assert article.captions == (caption,)
    assert caption not in article.body and "Passengers board in Chengdu." in article.body


def test_a_figure_without_a_caption_is_named_by_its_alt_not_by_the_next_paragraph() -> None:
    body = TEXT + "<figure><img src='a.jpg' alt='A new station'></figure><p>Trains run hourly.</p>"
    article = article_from_page(_page(body), URL)
    assert [i.caption for i in article.images] == ["A new station"]
    assert "Trains run hourly." in article.body


def test_captions_in_table_cells_below_and_beside_the_image() -> None:
    body = (
        TEXT + "<table><tr><td><img src='a.jpg'></td><td><img src='b.jpg'><br>Second view</td>"
        "</tr><tr><td>First view</td><td></td></tr></table><p>Later text of the body.</p>"
    )
    article = article_from_page(_page(body), URL)
    assert [i.caption for i in article.images] == ["First view", "Second view"]
    assert "First view" not in article.body and "Second view" not in article.body


def test_an_ordinary_paragraph_after_an_image_is_not_its_caption() -> None:
    body = TEXT + "<p><img src='a.jpg' alt=''></p><p>Trains run hourly.</p>"
    article = article_from_page(_page(body), URL)
    assert [i.caption for i in article.images] == [None]
    centred = TEXT + "<p><img src='a.jpg'></p><p style='text-align:center'>A new station.</p>"
    assert [i.caption for i in article_from_page(_page(centred), URL).images] == ["A new station."]


def test_a_file_name_alt_names_nothing() -> None:
    body = TEXT + "<p><img src='a.jpg' alt='W020250101123456.jpg' title='image'></p>"
    assert [i.caption for i in article_from_page(_page(body), URL).images] == [None]


def test_an_attachment_line_goes_to_the_attachments_and_a_sentence_with_a_link_stays() -> None:
    body = (
        TEXT + "<p>The <a href='plan.pdf'>plan</a> sets targets for every city in 2025.</p>"
        "<p>附件：1. <a href='list.xlsx'>名单</a></p>"
        "<p>Attachment: <a href='x.docx'>Rules (Word)</a></p>"
    )
    article = article_from_page(_page(body), URL)
    assert article.body[-1] == "The plan sets targets for every city in 2025."
    assert [a.text for a in article.attachments] == ["plan", "名单", "Rules (Word)"]


def test_the_column_label_inside_the_container_is_not_body() -> None:
    head = "<meta name='ColumnName' content='News'>"
    article = article_from_page(_page("<p>News</p>" + TEXT, head), URL)
    assert article.body == (
        "The province opened a new railway line on January 1, linking two cities.",
    )


def test_a_figure_on_the_generic_path_keeps_its_caption_out_of_the_body() -> None:
    story = "".join(
        f"<p>Paragraph {n} tells how the new railway line links two cities and what it means"
        " for travellers in the region.</p>"
        for n in range(6)
    )
    page = (
        "<html><head><title>A headline</title></head><body><h1>A headline</h1>"
        "<div class='story-x'><p>Updated:2025.01.02 <a href='javascript:window.print()'>Print</a>"
        f"</p>{story}<figure><img src='/10462/a.jpg' alt='Chengdu'>"
        "<figcaption>A train leaves Chengdu.</figcaption></figure>"
        f"<p>Passengers board in Chengdu.</p>{story}"
        "<p>Attachment: <a href='/10462/t.pdf'>Timetable (PDF)</a> (1.2 MB)</p>"
        "</div></body></html>"
    )
    article = article_from_page(page, URL)
    assert article.extraction_path == "generic"
    assert [i.caption for i in article.images] == ["A train leaves Chengdu."]
    assert "A train leaves Chengdu." not in article.body
    assert "Passengers board in Chengdu." in article.body
    assert not any("Updated" in p or "Timetable" in p for p in article.body)


def test_a_class_that_only_contains_pic_does_not_set_a_paragraph_apart() -> None:
    body = TEXT + "<p><img src='a.jpg'></p><p class='topic'>Trains run hourly.</p>"
    assert [i.caption for i in article_from_page(_page(body), URL).images] == [None]
    named = TEXT + "<p><img src='a.jpg'></p><p class='pic-note'>A new station.</p>"
    assert [i.caption for i in article_from_page(_page(named), URL).images] == ["A new station."]


_PIECES = st.sampled_from(
    ["print", "[back]", "[print]", "【打印】", "|[", "中打印", "xprint", "back", "top",
     "close window", "share to", "font size", "updated:2025.03.18", "【打印】", "字号",
     "[top]", "source: sichuan daily", "views: 12", "wechat", "large", "a", "and", "shares",
     "printing", "|", " ", ":", "2025-03-18", "发布时间：2023-09-05", "大", "返回顶部"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=12).map(" ".join))
def test_one_lookbehind_matches_as_one_per_rule(line: str) -> None:
    """The factored patterns find what one lookbehind per rule found, where it found it."""
    every = [*furniture._STRONG, *furniture._WEAK]
    for rules, pattern in (
        (furniture._STRONG, furniture._STRONG_RE),
        (every, furniture._ANY_TOKEN),
    ):
        per_rule = re.compile("|".join(f"(?<![a-z0-9])(?:{r})(?![a-z])" for r in rules))
        assert [m.span() for m in pattern.finditer(line)] == [
            m.span() for m in per_rule.finditer(line)
        ]


@settings(max_examples=500, deadline=None)
@given(st.lists(_PIECES, max_size=12).map(" ".join))
def test_reading_tokens_left_to_right_agrees_with_substituting_them(line: str) -> None:
    """A line is furniture only if nothing but separators is left once every token is taken
    out: the left-to-right reading that stops at the first other word decides the same."""
    separators = re.compile(f"{furniture._SEPARATOR}+")
    left = separators.sub("", furniture._ANY_TOKEN.sub(" ", line))
    assert (furniture._ONLY_TOKENS.fullmatch(line) is not None) == (not left)
