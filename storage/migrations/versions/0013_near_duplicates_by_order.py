"""Near-duplicate links recomputed by the rule that does not depend on arrival order.

Before, an article was linked once, when it arrived, to the closest of the candidates the
newest articles of its band keys offered, so the links depended on the order pages were
archived in. Now (`storage/neardup_links.py`): articles are ordered by publication date (no date
last), then URL; two articles are candidates when they share a band key held by at most
`PER_BAND` articles; each article is the copy of at most one original, the closest candidate
earlier than it within `MAX_DISTANCE` bits, ties by the earlier. This revision recomputes every
link from the stored SimHashes and band keys (no body is read again). A link that stays keeps
its `found_at`; a new one is found now. The downgrade leaves the links as they are: the older
code reads them.

Frozen: this revision carries what it needs and imports nothing from `storage` or `govcrawler`.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import combinations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

MAX_DISTANCE = 12  # storage/neardup.py at this revision
PER_BAND = 256  # storage/neardup_links.py at this revision
MASK = (1 << 64) - 1

_Order = tuple[bool, date, str]


def _day(value: object) -> date | None:
    """A date as the backend returns it (SQLite: ISO text)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _links(connection: sa.Connection) -> dict[int, tuple[int, int]]:
    """copy id -> (distance, original id), by the rule of the docstring."""
    articles: dict[int, tuple[int, _Order]] = {}
    for article_id, simhash, published_on, url in connection.execute(
        sa.text("SELECT id, simhash, published_on, url FROM article WHERE simhash <> 0")
    ):
        day = _day(published_on)
        articles[article_id] = (simhash, (day is None, day or date.min, url))
    members = connection.execute(
        sa.text(
            "SELECT b.band_key, b.article_id FROM near_duplicate_band AS b JOIN ("
            " SELECT band_key FROM near_duplicate_band GROUP BY band_key"
            " HAVING COUNT(*) BETWEEN 2 AND :most) AS k ON k.band_key = b.band_key"
            " ORDER BY b.band_key, b.article_id"
        ),
        {"most": PER_BAND},
    )
    best: dict[int, tuple[int, _Order, int]] = {}
    group: list[int] = []
    last = None
    for key, article_id in [*members, (None, None)]:
        if key != last:
            _compare(articles, group, best)
            group, last = [], key
        if article_id in articles:
            group.append(article_id)
    return {copy: (distance, original) for copy, (distance, _, original) in best.items()}


def _compare(
    articles: dict[int, tuple[int, _Order]],
    group: list[int],
    best: dict[int, tuple[int, _Order, int]],
) -> None:
    for a, b in combinations(group, 2):
        (hash_a, order_a), (hash_b, order_b) = articles[a], articles[b]
        distance = ((hash_a ^ hash_b) & MASK).bit_count()
        if distance > MAX_DISTANCE:
            continue
        (copy, original, order) = (a, b, order_b) if order_b < order_a else (b, a, order_a)
        if copy not in best or (distance, order) < best[copy][:2]:
            best[copy] = (distance, order, original)


def upgrade() -> None:
    connection = op.get_bind()
    wanted = _links(connection)
    existing = connection.execute(
        sa.text("SELECT article_id, original_id, distance FROM near_duplicate")
    ).all()
    kept = set()
    for copy, original, distance in existing:
        link = wanted.get(copy)
        pair = {"copy": copy, "original": original}
        if link is not None and link[1] == original:
            kept.add(copy)
            if link[0] != distance:
                connection.execute(
                    sa.text(
                        "UPDATE near_duplicate SET distance = :distance"
                        " WHERE article_id = :copy AND original_id = :original"
                    ),
                    {**pair, "distance": link[0]},
                )
        else:
            connection.execute(
                sa.text(
                    "DELETE FROM near_duplicate WHERE article_id = :copy"
                    " AND original_id = :original"
                ),
                pair,
            )
    now = datetime.now(UTC).replace(tzinfo=None)  # naive UTC, as the archive stores times
    found = [
        {"copy": copy, "original": original, "distance": distance, "found_at": now}
        for copy, (distance, original) in sorted(wanted.items())
        if copy not in kept
    ]
    if found:
        connection.execute(
            sa.text(
                "INSERT INTO near_duplicate (article_id, original_id, distance, found_at)"
                " VALUES (:copy, :original, :distance, :found_at)"
            ).bindparams(sa.bindparam("found_at", type_=sa.DateTime())),
            found,
        )


def downgrade() -> None:
    pass  # the links stay: the older code reads them as they are
