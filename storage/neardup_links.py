"""Near-duplicate links on the write path: a new article linked to the closest other article
within the SimHash threshold, found among the candidates of its LSH bands, and each article's
band keys and fingerprints kept in step with its current body (`storage.neardup` computes
them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, func, insert, or_, select, union_all, update

from storage import neardup
from storage.article_records import ArticleRecord
from storage.models import Article, ArticleVersion, NearDuplicate, NearDuplicateBand, table_of
from storage.write_rows import _by_id, _set

_article = table_of(Article)
_version = table_of(ArticleVersion)
_band = table_of(NearDuplicateBand)
_near = table_of(NearDuplicate)

_INSERT_BANDS = insert(_band)
_INSERT_NEAR = insert(_near)
#: Near-duplicate candidates read per new article: those sharing the most LSH bands with it,
#: among the newest `PER_BAND` articles under each of its band keys. A lightly edited copy
#: shares most of its 16 bands; formulaic texts can share one band with thousands of articles
#: (B3's synthetic notices: up to 2,065 per key at 43,000 articles), and reading all of them
#: made each insert slower as the archive grew. Both bounds keep a lookup constant.
MAX_CANDIDATES = 64
PER_BAND = 256
_BAND_MEMBERS = union_all(
    *(
        select(_band.c.article_id)
        .where(_band.c.band_key == bindparam(f"key{band}"))
        .order_by(_band.c.article_id.desc())
        .limit(bindparam("per_band"))
        .subquery()
        .select()
        for band in range(neardup.BANDS)
    )
).subquery()
_CANDIDATE_IDS = (
    select(_BAND_MEMBERS.c.article_id)
    .where(_BAND_MEMBERS.c.article_id != bindparam("article_id"))
    .group_by(_BAND_MEMBERS.c.article_id)
    .order_by(func.count().desc(), _BAND_MEMBERS.c.article_id)
    .limit(bindparam("most"))
)
_CANDIDATES = (
    select(_article.c.id, _article.c.simhash, _version.c.published_on)
    .join(_version, _version.c.id == _article.c.current_version_id)
    .where(_article.c.id.in_(_CANDIDATE_IDS.scalar_subquery()))
)
_DELETE_BANDS = delete(_band).where(_band.c.article_id == bindparam("article_id"))
_FINGERPRINTS = _by_id(_article, "body_digest", "simhash")


def _refresh_fingerprints(db: Connection, article_id: int, record: ArticleRecord) -> None:
    """The body digest, SimHash and band keys of the article's new current body."""
    simhash, keys = record.signature
    db.execute(_FINGERPRINTS, _set(article_id, body_digest=record.body_digest, simhash=simhash))
    db.execute(_DELETE_BANDS, {"article_id": article_id})
    _index_bands(db, article_id, keys)


def _link_near_duplicate(
    db: Connection,
    article_id: int,
    simhash: int,
    keys: list[int],
    record: ArticleRecord,
    seen_at: datetime,
) -> int | None:
    """Link the article and the closest other article within the SimHash threshold, if any.

    Candidates come from the MinHash-LSH band index (one indexed lookup), never a scan. The
    earlier publication is the original, whichever of the two was crawled first.
    """
    if not simhash or not keys:
        return None
    rows = db.execute(
        _CANDIDATES,
        {
            **{f"key{band}": key for band, key in enumerate(keys)},
            "article_id": article_id,
            "per_band": PER_BAND,
            "most": MAX_CANDIDATES,
        },
    ).all()
    scored = sorted(
        (neardup.hamming(simhash, other), other_id, published)
        for other_id, other, published in rows
        if other and neardup.is_near_duplicate(simhash, other)
    )
    if not scored:
        return None
    distance, other_id, other_published = scored[0]
    newer_is_this = not (
        record.published_on and other_published and record.published_on < other_published
    )
    copy_id, original_id = (article_id, other_id) if newer_is_this else (other_id, article_id)
    db.execute(
        _INSERT_NEAR,
        {
            "article_id": copy_id,
            "original_id": original_id,
            "distance": distance,
            "found_at": seen_at,
        },
    )
    return int(other_id)


def _index_bands(db: Connection, article_id: int, keys: list[int]) -> None:
    if keys:
        db.execute(
            _INSERT_BANDS, [{"band_key": key, "article_id": article_id} for key in set(keys)]
        )


_LINKS_OF = select(_near.c.article_id, _near.c.original_id).where(
    or_(_near.c.article_id == bindparam("id"), _near.c.original_id == bindparam("id"))
)
_SIMHASHES = select(_article.c.id, _article.c.simhash).where(
    _article.c.id.in_(bindparam("ids", expanding=True))
)
_LINK = (_near.c.article_id == bindparam("copy"), _near.c.original_id == bindparam("original"))
_UNLINK = delete(_near).where(*_LINK)
_RELINK = update(_near).where(*_LINK).values(distance=bindparam("distance"))


def _relink(db: Connection, article_id: int, record: ArticleRecord, seen_at: datetime) -> None:
    """The article's near-duplicate links after a re-extraction changed its body (its
    fingerprints already refreshed): a link still within the threshold keeps its new distance,
    one no longer within it goes, and an article left with no link is linked as a new one is.
    (A crawl's new version keeps its links: the copy is the site's; a corrected body is ours.)"""
    simhash, keys = record.signature
    links = db.execute(_LINKS_OF, {"id": article_id}).all()
    others = {copy if copy != article_id else original for copy, original in links}
    hashes = dict(db.execute(_SIMHASHES, {"ids": sorted(others)}).all()) if others else {}
    kept = 0
    for copy, original in links:
        other = hashes.get(copy if copy != article_id else original)
        pair = {"copy": copy, "original": original}
        if simhash and other and neardup.is_near_duplicate(simhash, other):
            db.execute(_RELINK, {**pair, "distance": neardup.hamming(simhash, other)})
            kept += 1
        else:
            db.execute(_UNLINK, pair)
    if not kept:
        _link_near_duplicate(db, article_id, simhash, keys, record, seen_at)
