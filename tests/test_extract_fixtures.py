"""Every page of the saved site with an expected output extracts to it, field by field, by
the extractor of its page type (article or document)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from govcrawler.extract.article import article_from_page
from govcrawler.extract.document import document_from_page
from tests.conftest import SITE_COPY, FixturePage, fixture_pages

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
    *("attachments", "interpretations", "related", "meta", "template", "layout", "raw_fields"),
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
    assert len(DOCUMENTS) >= 42
    assert set(range(2014, 2027)) <= years
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


# Generation 2: only what changed since generation 1 (a page, or a 404 sidecar for a withdrawal).
GEN2 = SITE_COPY.parent / "site-gen2"
GEN2_PAGES = [
    FixturePage(
        page, "https://" + page.relative_to(GEN2).as_posix(), json.loads(f.read_text("utf-8"))
    )
    for f in sorted(GEN2.rglob("*.expected.json"))
    if (page := f.with_name(f.name.removesuffix(".expected.json"))).is_file()
]
GEN1_BY_URL = {page.url: page.expected for page in DOCUMENTS}


def _gen2_id(page: FixturePage) -> str:
    return page.path.relative_to(GEN2).as_posix()


@pytest.mark.parametrize("page", GEN2_PAGES, ids=[_gen2_id(page) for page in GEN2_PAGES])
def test_generation_2_pages_extract_to_their_expected_outputs(page: FixturePage) -> None:
    assert set(page.expected) == set(DOCUMENT_FIELDS)
    assert document_from_page(page.html(), page.url).as_json() == page.expected


def _changed(page: FixturePage) -> set[str]:
    old = GEN1_BY_URL[page.url]
    # raw_fields repeats, as published, the values of the fields that changed
    return {f for f in DOCUMENT_FIELDS if f != "raw_fields" and old[f] != page.expected[f]}


def test_generation_2_changes_what_it_promises() -> None:
    changed = {page.url: _changed(page) for page in GEN2_PAGES if page.url in GEN1_BY_URL}
    new = [page for page in GEN2_PAGES if page.url not in GEN1_BY_URL]
    validity = [
        (GEN1_BY_URL[url]["validity"], page.expected["validity"], page.expected["validity_source"])
        for page in GEN2_PAGES
        for url in [page.url]
        if "validity" in changed.get(url, ())
    ]
    assert {("有效", "失效", "script"), ("有效", "失效", "red_notice")} <= set(validity)
    assert {("尚未施行", "有效", "script"), ("尚未施行", "有效", "static")} <= set(validity)
    expired = [p for p in GEN2_PAGES if p.expected["validity"] == "失效" and p.url in changed]
    assert all(p.expected["abolished_on"] for p in expired) and expired
    assert {"doc_number"} in changed.values()  # re-issued under a new number, body unchanged
    assert {"title", "meta"} in changed.values()  # the title corrected, nothing else
    assert len(new) == 1 and new[0].expected["page_type"] == "document"


def test_generation_2_withdraws_a_document_by_a_404_sidecar() -> None:
    gone = [
        meta
        for meta in GEN2.rglob("*.meta.json")
        if json.loads(meta.read_text("utf-8")).get("status") == 404
    ]
    assert gone
    for meta in gone:
        page = meta.with_name(meta.name.removesuffix(".meta.json"))
        assert not page.exists()
        assert (SITE_COPY / page.relative_to(GEN2)).is_file()  # it was there in generation 1


def test_relations_name_fixture_documents() -> None:
    relations = json.loads((SITE_COPY / "relations.json").read_text("utf-8"))
    urls = {page.url for page in DOCUMENTS}
    for pair in relations["citations"]:
        assert pair["citing_url"] in urls and pair["cited_url"] in (urls | {None})
    matched = {pair["matched_by"] for pair in relations["interpretations"]}
    assert matched == {"link", "title", "doc_number"}
    for pair in relations["interpretations"]:
        assert {pair["interpretation_url"], pair["document_url"]} <= urls
    assert any(pair["cited_url"] is None for pair in relations["citations"])
