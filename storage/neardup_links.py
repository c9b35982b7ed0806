"""Near-duplicate links on the write path, a function of the archive's current bodies, dates
and URLs only, never of the order pages arrived in or of article ids.

- **Earlier**: articles are ordered by publication date (no date last), then by primary URL
  (unique), as for aliases: the earlier publication is the original.
- **Candidates**: two articles are candidates of each other when they share an LSH band key
  (`storage.neardup`) held by at most `PER_BAND` articles. A key held by more is formula, not
  resemblance (B3's synthetic notices: 2,065 articles under one key at 43,000), and reading it
  made each insert slower as the archive grew; it is skipped, whoever arrived first. The
  relation is symmetric and depends only on the current keys.
- **Link**: an article is the copy of at most one original: among its candidates earlier than
  it and within `neardup.MAX_DISTANCE` bits, the closest, ties by the earlier.

`_follow_body` keeps every link so after an article's body, date or URL changed or it was
added (one function for new articles, crawl versions, re-extractions and alias swaps): its own
link, the later candidates it is now the best original of, the copies it had (recomputed),
and the members of a key it made crowded or uncrowded. Every archive order therefore ends
with the same links (tests/test_neardup_order.py); revision 0013 recomputes old archives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, bindparam, delete, insert, select, union_all, update

from storage import neardup
from storage.article_records import ArticleRecord
from storage.models import Article, NearDuplicate, NearDuplicateBand, table_of
from storage.write_rows import _by_id, _set

_article = table_of(Article)
_band = table_of(NearDuplicateBand)
_near = table_of(NearDuplicate)

#: A band key held by more articles than this is not a candidate key (see the docstring).
PER_BAND = 256

_INSERT_BANDS = insert(_band)
_INSERT_NEAR = insert(_near)
# Up to `reach` members of each of the 16 keys: enough to tell a crowded key (and the moment
# it became one) without reading the crowd.
_MEMBERS = union_all(
    *(
        select(_band.c.band_key, _band.c.article_id)
        .where(_band.c.band_key == bindparam(f"key{band}"))
        .limit(bindparam("reach"))
        .subquery()
        .select()
        for band in range(neardup.BANDS)
    )
)
_INFO = select(_article.c.id, _article.c.simhash, _article.c.published_on, _article.c.url).where(
    _article.c.id.in_(bindparam("ids", expanding=True))
)
_KEYS_OF = select(_band.c.band_key).where(_band.c.article_id == bindparam("id"))
_COPIES_OF = select(_near.c.article_id).where(_near.c.original_id == bindparam("id"))
_LINKS_OF = select(_near.c.article_id, _near.c.original_id, _near.c.distance).where(
    _near.c.article_id.in_(bindparam("ids", expanding=True))
)
_DELETE_BANDS = delete(_band).where(_band.c.article_id == bindparam("article_id"))
_UNLINK = delete(_near).where(_near.c.article_id == bindparam("copy"))
_REDISTANCE = (
    update(_near)
    .where(_near.c.article_id == bindparam("copy"), _near.c.original_id == bindparam("original"))
    .values(distance=bindparam("distance"))
)
_FINGERPRINTS = _by_id(_article, "body_digest", "simhash")

_Order = tuple[bool, date, str]
_Link = tuple[int, int]  # (distance, original id)


@dataclass(frozen=True)
class _Item:
    id: int
    simhash: int
    order: _Order


def _order(published_on: date | None, url: str) -> _Order:
    return (published_on is None, published_on or date.min, url)


def _info(db: Connection, ids: set[int]) -> dict[int, _Item]:
    if not ids:
        return {}
    rows = db.execute(_INFO, {"ids": sorted(ids)}).all()
    return {i: _Item(i, simhash or 0, _order(day, url)) for i, simhash, day, url in rows}


def _members(db: Connection, keys: list[int], reach: int) -> dict[int, set[int]]:
    """The first `reach` articles under each key (all of them when fewer)."""
    found: dict[int, set[int]] = {key: set() for key in keys}
    if not keys:
        return found
    padded = (sorted(set(keys)) * neardup.BANDS)[: neardup.BANDS]
    params = {f"key{band}": key for band, key in enumerate(padded)}
    for key, article_id in db.execute(_MEMBERS, {**params, "reach": reach}):
        found[key].add(article_id)
    return found


def _candidates(members: dict[int, set[int]], article_id: int) -> set[int]:
    uncrowded = (ids for ids in members.values() if len(ids) <= PER_BAND)
    return set().union(*uncrowded) - {article_id}


def _best(item: _Item, others: dict[int, _Item]) -> _Link | None:
    """The closest near-duplicate earlier than `item`, ties by the earlier; None if none."""
    scored = sorted(
        (neardup.hamming(item.simhash, other.simhash), other.order, other.id)
        for other in others.values()
        if other.order < item.order and neardup.is_near_duplicate(item.simhash, other.simhash)
    )
    return (scored[0][0], scored[0][2]) if scored else None


def _point(
    db: Connection, copy: int, link: _Link | None, had: list[_Link], seen_at: datetime
) -> None:
    """Make `link` the copy's only link (`had`: its links now); a kept link keeps found_at."""
    if link is not None and [original for _, original in had] == [link[1]]:
        if had[0][0] != link[0]:
            db.execute(_REDISTANCE, {"copy": copy, "original": link[1], "distance": link[0]})
        return
    if had:
        db.execute(_UNLINK, {"copy": copy})
    if link is not None:
        db.execute(
            _INSERT_NEAR,
            {"article_id": copy, "original_id": link[1], "distance": link[0], "found_at": seen_at},
        )


def _links_of(db: Connection, ids: set[int]) -> dict[int, list[_Link]]:
    links: dict[int, list[_Link]] = {i: [] for i in ids}
    if ids:
        for copy, original, distance in db.execute(_LINKS_OF, {"ids": sorted(ids)}):
            links[copy].append((distance, original))
    return links


def _relink(db: Connection, article_id: int, seen_at: datetime) -> None:
    """Recompute one article's link from the archive as it is (its body unchanged)."""
    keys = list(db.scalars(_KEYS_OF, {"id": article_id}))
    members = _members(db, keys, PER_BAND + 1)
    candidates = _candidates(members, article_id)
    items = _info(db, candidates | {article_id})
    link = _best(items.pop(article_id), items) if article_id in items else None
    _point(db, article_id, link, _links_of(db, {article_id})[article_id], seen_at)


def _crossings(
    db: Connection, members: dict[int, set[int]], new: set[int], old: set[int]
) -> set[int]:
    """Articles whose candidates changed because this article made a key crowded (a link
    through it may have to go) or uncrowded (its members become candidates of each other)."""
    affected: set[int] = set()
    for key in new - old:
        if len(members[key]) == PER_BAND + 1:
            links = _links_of(db, members[key])
            affected |= {c for c, had in links.items() if any(o in members[key] for _, o in had)}
    for ids in _members(db, sorted(old - new), PER_BAND + 1).values():
        if len(ids) == PER_BAND:
            affected |= ids
    return affected


def _follow_body(
    db: Connection, article_id: int, record: ArticleRecord, seen_at: datetime, *, new: bool
) -> int | None:
    """The fingerprints, band keys and near-duplicate links after the article was added
    (`new`) or its body, date or URL changed (its row already holds its date and URL): the
    article it is a copy of, else the first of the articles now its copies, else None."""
    simhash, keys = record.signature
    old_keys: set[int] = set()
    if not new:
        old_keys = set(db.scalars(_KEYS_OF, {"id": article_id}))
        db.execute(_FINGERPRINTS, _set(article_id, body_digest=record.body_digest, simhash=simhash))
        db.execute(_DELETE_BANDS, {"article_id": article_id})
    _index_bands(db, article_id, keys)
    members = _members(db, keys, PER_BAND + 2)
    affected = set(db.scalars(_COPIES_OF, {"id": article_id})) if not new else set()
    affected |= _crossings(db, members, set(keys), old_keys)
    candidates = _candidates(members, article_id)
    items = _info(db, candidates | {article_id})
    me = items.pop(article_id)
    own = _best(me, items) if simhash else None
    links = _links_of(db, {article_id} | {i for i in items if i not in affected})
    _point(db, article_id, own, links.pop(article_id), seen_at)
    copies = []
    for other in sorted(items.values(), key=lambda item: item.order):
        if other.id in affected or me.order >= other.order:
            continue
        if not neardup.is_near_duplicate(simhash, other.simhash):
            continue
        mine = (neardup.hamming(simhash, other.simhash), me.order)
        had = links[other.id]
        current = _info(db, {o for _, o in had})
        if all(mine < (d, current[o].order) for d, o in had if o in current):
            _point(db, other.id, (mine[0], article_id), had, seen_at)
            copies.append(other.id)
    for other_id in sorted(affected - {article_id}):
        _relink(db, other_id, seen_at)
    if own is not None:
        return own[1]
    return copies[0] if copies else None


def _refresh_fingerprints(
    db: Connection, article_id: int, record: ArticleRecord, seen_at: datetime | None = None
) -> None:
    """The article's new current body, date or URL (an alias swap): `_follow_body`."""
    _follow_body(db, article_id, record, seen_at or datetime.now(UTC), new=False)


def _index_bands(db: Connection, article_id: int, keys: list[int]) -> None:
    if keys:
        db.execute(
            _INSERT_BANDS, [{"band_key": key, "article_id": article_id} for key in set(keys)]
        )
