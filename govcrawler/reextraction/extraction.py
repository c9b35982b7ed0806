"""One archived capture through the crawl's extraction, offline: the record the crawl's
pipeline would archive for it, or why there is none.

`extract_page` is the unit a process pool can map: it takes plain values and returns plain
values (picklable both ways) and touches no archive; the writer stays in one process.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace

import storage
from govcrawler.exceptions import ExtractionError
from govcrawler.extract.article import article_from_page
from govcrawler.extract.document import document_from_page
from govcrawler.extract.encoding import page_text
from govcrawler.items import ArticlePage, DocumentPage
from govcrawler.pipelines.articles import article_record, clean_article, invalid_article
from govcrawler.pipelines.documents import clean_document, document_record, invalid_document

ARTICLE, DOCUMENT = "article", "document"


@dataclass(frozen=True)
class CapturedPage:
    """An archived article's latest page capture, as the spider's `read_detail` got it."""

    article_id: int
    kind: str  # ARTICLE (the English spider's extractor) or DOCUMENT (sc_zwgk's)
    url: str  # the URL the response came from (the capture's final URL)
    body: bytes
    content_type: str | None
    capture_id: int
    unreadable: str | None = None  # why the capture's bytes could not be read back
    # `body` as the archive stores it (zlib): decompressed by `extract_page`, in the worker
    compressed: bool = False


@dataclass(frozen=True)
class Extracted:
    """What the current extraction makes of a page: a record, or the one-line problem."""

    article_id: int
    capture_id: int
    record: storage.ArticleRecord | None = None
    problem: str | None = None


def extract_page(page: CapturedPage) -> Extracted:
    """The page read as the crawl reads it (decoding, extractor, cleaning, validation), its
    record made by re-extraction, with its derived values computed here, off the writer."""
    if page.unreadable is not None:
        return Extracted(page.article_id, page.capture_id, problem=page.unreadable)
    body = page.body
    if page.compressed:
        try:
            body = zlib.decompress(body)
        except zlib.error as error:
            problem = f"the capture's body does not decompress ({error})"
            return Extracted(page.article_id, page.capture_id, problem=problem)
    text, _encoding = page_text(body, page.content_type)
    try:
        if page.kind == DOCUMENT:
            item = clean_document(DocumentPage(document_from_page(text, page.url), None))  # type: ignore[arg-type]
            invalid, record = invalid_document(item), document_record(item.document)
        else:
            article = clean_article(ArticlePage(article_from_page(text, page.url), None))  # type: ignore[arg-type]
            invalid, record = invalid_article(article), article_record(article.article)
    except ExtractionError as error:
        return Extracted(page.article_id, page.capture_id, problem=f"no {page.kind}: {error}")
    except Exception as error:  # a page the extractor chokes on is one problem, not the run's end
        problem = f"extraction failed: {type(error).__name__}: {error}"
        return Extracted(page.article_id, page.capture_id, problem=problem)
    if invalid is not None:
        return Extracted(page.article_id, page.capture_id, problem=f"not archivable: {invalid}")
    made = replace(record, origin=storage.REEXTRACT).derive()
    return Extracted(page.article_id, page.capture_id, record=made)
