"""The path of a 政务公开 document (`DocumentPage`): cleaned and validated as an article is,
archived as an article with its metadata (`storage.DocumentRecord`), its raw response kept."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session

import storage
from govcrawler.extract import EXTRACTOR_REVISION
from govcrawler.extract.docnumber import find_doc_numbers
from govcrawler.extract.model import Document
from govcrawler.extract.text import body_digest, strip_boilerplate
from govcrawler.items import DocumentPage
from govcrawler.pipelines.articles import archive_capture, missing_part, nfc, outcomes_of
from govcrawler.pipelines.path import run_of

# The 政策解读 columns (SITE-ZH §1: 政策解读, 部门解读, 媒体视角 and the two others).
INTERPRETATION_COLUMNS = frozenset({"13299", "14097", "13301", "13303", "14083"})


def clean_document(item: DocumentPage) -> DocumentPage:
    """As `clean_article`: NFC and the boilerplate line rules on the body, one-line title."""
    document = item.document
    item.document = replace(
        document,
        title=" ".join(nfc(document.title).split()),
        body=tuple(strip_boilerplate([nfc(p) for p in document.body])),
    )
    return item


def invalid_document(item: DocumentPage) -> str | None:
    """Why a document cannot be archived, as for an article (`missing_part`)."""
    document = item.document
    return missing_part(document.url, document.title, document.body)


def archive_document(session: Session, item: DocumentPage) -> list[str]:
    capture_id, outcomes = archive_capture(session, item.fetch)
    fetched_at = item.fetch.fetched_at
    record = document_record(item.document)
    result = storage.record_article(session, record, fetched_at, capture_id, run_of(session))
    return outcomes + outcomes_of(result)


def quoted_titles(*texts: str) -> list[str]:
    """The 《…》 titles the texts quote, each once, in order (inner 〈〉 read as 《》)."""
    return list(dict.fromkeys(title for text in texts for title in storage.quoted_in(text)))


def is_interpretation(document: Document) -> bool:
    return document.column_id in INTERPRETATION_COLUMNS or document.title.endswith("解读")


def document_record(document: Document) -> storage.ArticleRecord:
    """The archive's shape of an extracted document: an article record in Chinese with the
    document's metadata, and what its body cites (every 文号 but its own, the 《titles》)."""
    number, fields = document.doc_number, document.fields
    body = "\n\n".join(document.body)
    own = number.normalised if number is not None else None
    cited = [(n.raw, n.normalised) for n in find_doc_numbers(body) if n.normalised != own]
    metadata = storage.DocumentRecord(
        doc_number_raw=number.raw if number is not None else None,
        doc_number=own or None,
        doc_series=number.prefix if number is not None else None,
        doc_year=number.year if number is not None else None,
        doc_seq=number.number if number is not None else None,
        doc_number_guessed=bool(number and number.guessed_year),
        index_number=fields.index_number,
        doc_type=fields.doc_type,
        issuer=fields.issuer,
        written_on=fields.written_on,
        published_on=fields.published_on,
        validity=fields.validity,
        validity_raw=fields.validity_raw,
        validity_source=fields.validity_source,
        abolished_on=fields.abolished_on,
        subject=fields.subject,
        source=fields.source,
        layout=document.layout,
        column_path=list(document.column_path),
        interpretations=[{"title": k.title, "url": k.url} for k in document.interpretations],
        related=[{"title": k.title, "url": k.url} for k in document.related],
        meta=dict(document.meta),
        raw_fields=dict(document.raw_fields),
        is_interpretation=is_interpretation(document),
        cited_numbers=cited,
        quoted_titles=quoted_titles(document.title, body),
    )
    return storage.ArticleRecord(
        url=document.url,
        canonical_id=document.canonical_id,
        title=document.title,
        body=body,
        body_digest=body_digest(document.body),
        published_on=fields.published_on,
        column_id=document.column_id,
        page_column_name=document.column_path[-1] if document.column_path else None,
        language="zh",
        template=document.template,
        extraction_path=document.extraction_path,
        attachments=[
            {"url": a.url, "text": a.name, "extension": a.extension} for a in document.attachments
        ],
        document=metadata,
        extractor_revision=EXTRACTOR_REVISION,
    )
