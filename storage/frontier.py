"""What the archive knows about URLs: the input of an incremental crawl.

Every URL the archive has an article, an alias or a capture for, with when it was last
fetched, the date of its article (to revisit new articles more often than old ones), and the
validators of its last good response (for conditional requests).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Article, ArticleAlias, ArticleVersion, Capture


@dataclass(frozen=True)
class KnownUrl:
    url: str
    last_seen_at: datetime
    published_on: date | None
    etag: str | None = None
    last_modified: str | None = None


def known_urls(session: Session) -> dict[str, KnownUrl]:
    """Every URL the archive has fetched, keyed by URL."""
    validators = _validators(session)
    known: dict[str, KnownUrl] = {}
    fetched = select(Capture.url, func.max(Capture.fetched_at)).group_by(Capture.url)
    for url, fetched_at in session.execute(fetched):
        known[url] = KnownUrl(url, fetched_at, None, *validators.get(url, (None, None)))
    articles = select(Article.url, Article.last_seen_at, ArticleVersion.published_on).join(
        ArticleVersion, ArticleVersion.id == Article.current_version_id
    )
    aliases = select(ArticleAlias.url, ArticleAlias.last_seen_at, ArticleAlias.published_on)
    for query in (articles, aliases):
        for url, seen, published in session.execute(query):
            previous = known.get(url)
            last = max(seen, previous.last_seen_at) if previous else seen
            known[url] = KnownUrl(url, last, published, *validators.get(url, (None, None)))
    return known


def _validators(session: Session) -> dict[str, tuple[str | None, str | None]]:
    """ETag and Last-Modified of each URL's latest 200 response to a GET (a POST's answer
    validates nothing a conditional GET could ask)."""
    latest = (
        select(func.max(Capture.id))
        .where(Capture.status == 200, Capture.method == "GET")
        .group_by(Capture.url)
    ).scalar_subquery()
    found = {}
    for url, headers in session.execute(
        select(Capture.url, Capture.headers).where(Capture.id.in_(latest))
    ):
        lowered = {key.lower(): value for key, value in (headers or {}).items()}
        if "etag" in lowered or "last-modified" in lowered:
            found[url] = (lowered.get("etag"), lowered.get("last-modified"))
    return found
