"""Every article page of the saved site extracts to its expected JSON, field by field."""

from __future__ import annotations

import pytest

from govcrawler.extract.article import article_from_page
from tests.conftest import FixturePage, fixture_pages

PAGES = fixture_pages()
FIELDS = [
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


def test_the_saved_site_has_the_pages_it_promises() -> None:
    years = {page.expected["published_on"][:4] for page in PAGES}
    assert len(PAGES) >= 30
    assert {str(year) for year in range(2014, 2025)} <= years
    assert {"cmsArticleContent", "contText", "artleft"} <= {p.expected["template"] for p in PAGES}


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.id)
def test_extraction_matches_expected(page: FixturePage, field: str) -> None:
    article = article_from_page(page.html(), page.url).as_json()
    assert article[field] == page.expected[field], f"{page.id}: {field}"
