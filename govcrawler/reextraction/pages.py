"""What `reextract` reads: each archived article's latest page capture, in article id order
(a batch is the next ids after the last one done, so a rerun walks the same order).

The latest capture is the newest 200 response of the article's own URL kind `page` with its
bytes kept (a revisit's are its original's); an alias's captures are left out (they are the
alias's page). Which extractor reads it follows what the archive holds: a document (its
current version has a `document_version` row) goes through `document_from_page`, the
sc_zwgk spider's; any other article through `article_from_page`, the English spider's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ScalarSelect, exists, select
from sqlalchemy.orm import Session, aliased

from govcrawler.reextraction.extraction import ARTICLE, DOCUMENT, CapturedPage
from storage.models import Article, ArticleAlias, Capture, DocumentVersion

# The spider whose extractor reads each kind (`--spider`).
SPIDER_KINDS = {"sc_open_governance": ARTICLE, "sc_zwgk": DOCUMENT}


@dataclass(frozen=True)
class Selection:
    """`--spider`, `--since` (the capture fetched at or after), `--id N` or `--id N-M`."""

    kind: str | None = None
    since: datetime | None = None
    article_id: int | None = None  # the first id (the only one, without `last_id`)
    last_id: int | None = None


def _latest_capture_id() -> ScalarSelect[int]:
    c = aliased(Capture)
    alias_urls = select(ArticleAlias.url).where(ArticleAlias.article_id == Article.id)
    return (
        select(c.id)
        .where(
            c.article_id == Article.id,
            c.kind == "page",
            c.status == 200,
            c.omitted.is_(None),
            c.url.not_in(alias_urls),
        )
        .order_by(c.fetched_at.desc(), c.id.desc())
        .limit(1)
        .correlate(Article)
        .scalar_subquery()
    )


def batch_of(session: Session, selection: Selection, after: int, size: int) -> list[CapturedPage]:
    """The next `size` articles after id `after` that match, each with its latest capture."""
    latest = aliased(Capture)
    holder = aliased(Capture)
    is_document = exists().where(DocumentVersion.version_id == Article.current_version_id)
    query = (
        select(
            Article.id,
            is_document.label("is_document"),
            latest.id.label("capture_id"),
            latest.final_url,
            latest.headers,
            latest.body,
            holder.body.label("original_body"),
        )
        .select_from(Article)
        .join(latest, latest.id == _latest_capture_id())
        .outerjoin(holder, holder.id == latest.revisit_of)
        .where(Article.id > after)
        .order_by(Article.id)
        .limit(size)
    )
    if selection.article_id is not None and selection.last_id is not None:
        query = query.where(Article.id.between(selection.article_id, selection.last_id))
    elif selection.article_id is not None:
        query = query.where(Article.id == selection.article_id)
    if selection.since is not None:
        query = query.where(latest.fetched_at >= selection.since)
    if selection.kind is not None:
        query = query.where(is_document if selection.kind == DOCUMENT else ~is_document)
    pages = []
    for row in session.execute(query):
        body = row.body if row.body is not None else row.original_body
        pages.append(
            CapturedPage(
                article_id=row.id,
                kind=DOCUMENT if row.is_document else ARTICLE,
                url=row.final_url,
                body=body or b"",
                content_type=_content_type(row.headers or {}),
                capture_id=row.capture_id,
                unreadable=None if body is not None else "the capture keeps no body",
                compressed=True,  # decompressed where it is extracted
            )
        )
    return pages


def _content_type(headers: dict[str, str]) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == "content-type"), None)
