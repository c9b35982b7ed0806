"""Every page of the saved site with an expected output extracts to it, field by field, by
the extractor of its page type (article or document)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from govcrawler.extract.article import article_from_page
from govcrawler.extract.document import document_from_page
from tests.conftest import FixturePage, fixture_pages

PAGES = fixture_pages(page_type=None)
ARTICLES = [page for page in PAGES if page.page_type == "article"]
DOCUMENTS = [page for page in PAGES if page.page_type == "document"]
EXTRACT: dict[str, Callable[[str, str], dict[str, object]]] = {
    "article": lambda html, url: article_from_page(html, url).as_json(),
    "document": lambda html, url: document_from_page(html, url).as_json(),
}
ARTICLE_FIELDS = [
    "url",
    "canonical_id",
    "column_id",
    "title",
    "published_on",
    "language",
    "body",
    "captions",
    "images",
    "attachments",
    "template",
    "extraction_path",
]
DOCUMENT_FIELDS = [
    *("page_type", "url", "canonical_id", "column_id", "title", "doc_number", "index_number"),
    *("doc_type", "issuer", "written_on", "published_on", "validity", "validity_raw"),
    *("validity_source", "abolished_on", "subject", "source", "body", "column_path"),
    *("attachments", "interpretations", "related", "meta", "template", "layout"),
]
CASES = [(page, field) for page in ARTICLES for field in ARTICLE_FIELDS] + [
    (page, field) for page in DOCUMENTS for field in DOCUMENT_FIELDS
]


def test_the_saved_site_has_the_pages_it_promises() -> None:
    years = {page.expected["published_on"][:4] for page in ARTICLES}
    assert len(ARTICLES) >= 30
    assert {str(year) for year in range(2014, 2025)} <= years
    assert {"cmsArticleContent", "contText", "artleft"} <= {
        p.expected["template"] for p in ARTICLES
    }
    assert {page.page_type for page in PAGES} == {"article", "document"}


def test_the_document_pages_span_the_years_layouts_and_validity_sources() -> None:
    years = {int(page.expected["published_on"][:4]) for page in DOCUMENTS}
    assert len(DOCUMENTS) >= 12
    assert min(years) <= 2014 and max(years) >= 2026
    assert {"a", "b", "c", "none"} <= {page.expected["layout"] for page in DOCUMENTS}
    sources = {page.expected["validity_source"] for page in DOCUMENTS}
    assert {"static", "script", "red_notice"} <= sources
    assert any(page.expected["interpretations"] for page in DOCUMENTS)


def test_every_expected_field_is_compared() -> None:
    for page in DOCUMENTS:
        assert set(page.expected) == set(DOCUMENT_FIELDS), page.id


@pytest.mark.parametrize(
    ("page", "field"), CASES, ids=[f"{page.id}-{field}" for page, field in CASES]
)
def test_extraction_matches_expected(page: FixturePage, field: str) -> None:
    extracted = EXTRACT[page.page_type](page.html(), page.url)
    assert extracted[field] == page.expected[field], f"{page.id}: {field}"
