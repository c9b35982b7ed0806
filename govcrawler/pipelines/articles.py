"""The paths of English articles and of the items every spider yields: pages gone or not
modified, unreadable pages (their capture only), list pages (their capture), column labels."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy.orm import Session

import storage
from govcrawler.extract import EXTRACTOR_REVISION
from govcrawler.extract.model import Article
from govcrawler.extract.text import body_digest, strip_boilerplate
from govcrawler.extract.urls import is_site_url
from govcrawler.items import (
    ArticlePage,
    ColumnLabel,
    Fetch,
    ListPage,
    NotModified,
    PageGone,
    UnreadablePage,
)
from govcrawler.pipelines.path import run_of


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def clean_article(item: ArticlePage) -> ArticlePage:
    """Unicode NFC and the boilerplate line rules, applied to every article whatever path
    extracted it: no footer, navigation or column-label line reaches the archive."""
    article = item.article
    body = tuple(strip_boilerplate([nfc(p) for p in article.body]))
    item.article = replace(
        article,
        title=" ".join(nfc(article.title).split()),
        body=body,
        # a caption is kept unless the line rules take it for furniture: since issue 15 a
        # figure's or a cell's caption is no body paragraph (`extract/figures.py`)
        captions=tuple(c for c in (nfc(c) for c in article.captions) if strip_boilerplate([c])),
    )
    return item


def invalid_article(item: ArticlePage) -> str | None:
    article = item.article
    return missing_part(article.url, article.title, article.body)


def missing_part(url: str, title: str, body: tuple[str, ...]) -> str | None:
    """Why a page cannot be archived (no site URL, no title, no body): nothing is
    half-stored."""
    if not url or not is_site_url(url):
        return "bad_url"
    if not title:
        return "missing_title"
    if not body:
        return "missing_body"
    return None


def archive_capture(session: Session, fetch: Fetch) -> tuple[int, list[str]]:
    """Store a raw response: its capture id and the outcome to count."""
    capture = storage.record_capture(session, capture_record(fetch))
    return capture.id, ["capture_revisit" if capture.revisit_of else "capture_stored"]


def outcomes_of(result: storage.Result) -> list[str]:
    near = ["near_duplicate"] if result.near_duplicate_of is not None else []
    return [result.outcome.value, *near]


def archive_article(session: Session, item: ArticlePage) -> list[str]:
    capture_id, counted = archive_capture(session, item.fetch)
    record = article_record(item.article)
    fetched_at = item.fetch.fetched_at
    result = storage.record_article(session, record, fetched_at, capture_id, run_of(session))
    return counted + outcomes_of(result)


def archive_gone(session: Session, item: PageGone) -> list[str]:
    capture_id, counted = archive_capture(session, item.fetch)
    fetch = item.fetch
    result = storage.record_gone(session, fetch.url, fetch.fetched_at, capture_id, run_of(session))
    return counted + outcomes_of(result)


def archive_not_modified(session: Session, item: NotModified) -> list[str]:
    capture_id, counted = archive_capture(session, item.fetch)
    fetch = item.fetch
    result = storage.record_not_modified(
        session, fetch.url, fetch.fetched_at, capture_id, run_of(session)
    )
    return counted + outcomes_of(result)


def archive_list(session: Session, item: ListPage) -> list[str]:
    """A list page or a list API answer: its capture (kind "list"), counted apart from the
    pages' captures."""
    capture = storage.record_capture(session, capture_record(item.fetch, kind="list"))
    return ["list_revisit" if capture.revisit_of else "list_stored"]


def archive_unreadable(session: Session, item: UnreadablePage) -> list[str]:
    """Only the capture, for diagnosis: there is no article to record."""
    return archive_capture(session, item.fetch)[1]


def archive_label(session: Session, item: ColumnLabel) -> list[str]:
    storage.record_column(session, item.column_id, item.name, item.list_url, datetime.now(UTC))
    return ["column"]


def capture_record(fetch: Fetch, kind: str = "page") -> storage.CaptureRecord:
    """The archive's shape of a raw response."""
    return storage.CaptureRecord(
        url=fetch.url,
        final_url=fetch.final_url,
        status=fetch.status,
        fetched_at=fetch.fetched_at,
        body=fetch.body,
        headers=fetch.headers,
        kind=kind,
        method=fetch.method,
        request_body=fetch.request_body,
    )


def article_record(article: Article) -> storage.ArticleRecord:
    """The archive's shape of an extracted article."""
    return storage.ArticleRecord(
        url=article.url,
        canonical_id=article.canonical_id,
        title=article.title,
        body="\n\n".join(article.body),
        body_digest=body_digest(article.body),
        published_on=article.published_on,
        column_id=article.column_id,
        page_column_name=article.column_name,
        language=article.language,
        template=article.template,
        extraction_path=article.extraction_path,
        captions=list(article.captions),
        images=[{"url": i.url, "caption": i.caption} for i in article.images],
        attachments=[{"url": a.url, "text": a.text} for a in article.attachments],
        extractor_revision=EXTRACTOR_REVISION,
    )
