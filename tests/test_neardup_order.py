"""Near-duplicate links do not depend on the order pages arrive in.

The same pages (every article of the saved site, the edited copies of
tests/fixtures/near_duplicates/english.json republished, and a cluster of four mutual
near-duplicates with equal, different and no dates) are archived through `record_article` in
several orders: forward, reversed, shuffled, in committed batches, and cut by a rolled-back
batch then resumed from the start, as a killed crawl is. Every link, as (copy URL, original
URL, distance), must be the same, and each must be the one the rule in
`storage.neardup_links` defines, recomputed here from the bodies alone.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import random
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import storage
from storage import neardup
from tests.conftest import raw_rows, url_of
from tests.test_storage_history import fixture_record, republished_copy

FIXTURES = Path(__file__).parent / "fixtures"
SEEN = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)
LINKS = (
    "SELECT c.url AS copy, o.url AS original, n.distance AS distance FROM near_duplicate AS n"
    " JOIN article AS c ON c.id = n.article_id JOIN article AS o ON o.id = n.original_id"
    " ORDER BY c.url, o.url"
)


def variant(base: storage.ArticleRecord, n: int, body: str, day: date | None):
    """`body` republished under a new id and URL (column /10462/syftyg/), dated `day`."""
    copy_id = hashlib.md5(f"{base.canonical_id}/{n}".encode(), usedforsecurity=False).hexdigest()
    return dataclasses.replace(
        base,
        url=f"https://www.sc.gov.cn/10462/syftyg/{copy_id}.shtml",
        canonical_id=copy_id,
        body=body,
        body_digest=hashlib.sha256(body.encode()).hexdigest(),
        published_on=day,
    )


@cache
def cluster() -> tuple[storage.ArticleRecord, ...]:
    """An original, its fixture copy and two more light edits: all within the threshold of
    each other, two of them dated as the original, one undated."""
    pair = json.loads((FIXTURES / "near_duplicates" / "english.json").read_text("utf-8"))[0]
    original = fixture_record(pair["original"])
    copy = republished_copy(original, pair["body"])
    sourced = variant(original, 1, copy.body + "\n\n(Source: Sichuan Daily)", original.published_on)
    first, *rest = original.body.split("\n\n")
    trimmed = variant(original, 2, "\n\n".join([first + " Updated.", *rest]), original.published_on)
    undated = variant(original, 3, sourced.body + " Photo: Xinhua.", None)
    return (original, copy, sourced, trimmed, undated)


@cache
def pages() -> tuple[storage.ArticleRecord, ...]:
    site = FIXTURES / "site"
    originals = []
    for path in sorted(site.rglob("*.expected.json")):
        if json.loads(path.read_text("utf-8")).get("page_type", "article") == "article":
            originals.append(fixture_record(str(path.relative_to(site))))
    pairs = json.loads((FIXTURES / "near_duplicates" / "english.json").read_text("utf-8"))
    by_path = {p["original"]: fixture_record(p["original"]) for p in pairs}
    copies = [republished_copy(by_path[p["original"]], p["body"]) for p in pairs]
    # one page per body: a second URL of the same body is an alias, not an article
    unique = {r.body_digest: r for r in reversed([*originals, *copies, *cluster()])}
    return tuple(unique.values())


def expected_links(records: Iterable[storage.ArticleRecord]) -> list[dict]:
    """The rule, from the bodies, dates and URLs alone, every pair compared."""
    rows = [(r, *neardup.signature(r.body)) for r in records]

    def order(r: storage.ArticleRecord) -> tuple:
        return (r.published_on is None, r.published_on or date.min, r.url)

    links = []
    for copy, simhash, keys in rows:
        near = sorted(
            (neardup.hamming(simhash, other), order(r), r.url)
            for r, other, other_keys in rows
            if order(r) < order(copy)
            and set(keys) & set(other_keys)
            and neardup.is_near_duplicate(simhash, other)
        )
        if near:
            links.append({"copy": copy.url, "original": near[0][2], "distance": near[0][0]})
    return sorted(links, key=lambda link: (link["copy"], link["original"]))


def archive(sessions: sessionmaker[Session], records: list, batch: int = 1) -> None:
    for start in range(0, len(records), batch):
        with sessions.begin() as session:
            for n, record in enumerate(records[start : start + batch]):
                seen = SEEN + timedelta(minutes=start + n)
                storage.record_article(session, record, seen)


def links_after(engine: Engine, records: list, batch: int = 1) -> list[dict]:
    archive(storage.session_factory(engine), records, batch)
    return raw_rows(url_of(engine), LINKS)


def test_the_cluster_is_mutually_near_and_linked_by_the_rule() -> None:
    records = cluster()
    signatures = [neardup.signature(r.body) for r in records]
    for (a, keys_a), (b, keys_b) in itertools.combinations(signatures, 2):
        assert neardup.is_near_duplicate(a, b)
        assert set(keys_a) & set(keys_b)
    links = expected_links(records)
    originals = {link["original"] for link in links}
    assert len(links) == len(records) - 1  # all but the earliest are copies
    assert len({r.published_on for r in records}) == 3  # equal, different and no dates
    assert len(originals) >= 2  # the closest earlier one, not always the earliest


def test_every_order_of_the_cluster_gives_the_same_links(tmp_path: Path) -> None:
    records = list(cluster())
    expected = expected_links(records)
    orders = list(itertools.permutations(records))
    seen = set()
    for n, order in enumerate([*random.Random(5).sample(orders, 24), orders[0], orders[-1]]):
        engine = storage.open_archive(f"sqlite:///{tmp_path / f'{n}.sqlite3'}")
        try:
            seen.add(json.dumps(links_after(engine, list(order))))
        finally:
            engine.dispose()
    # one set of links whatever the order (main at f2d3531: 14 different sets over these 26)
    assert len(seen) == 1
    assert json.loads(seen.pop()) == expected


@pytest.mark.parametrize("how", ["forward", "reversed", "shuffled", "batches"])
def test_the_fixture_pages_give_the_same_links_in_any_order(engine: Engine, how: str) -> None:
    records = list(pages())
    batch = 1
    if how == "reversed":
        records.reverse()
    elif how == "shuffled":
        random.Random(15).shuffle(records)
    elif how == "batches":
        random.Random(8).shuffle(records)
        batch = 7
    links = links_after(engine, records, batch)
    assert links == expected_links(pages())
    assert len(links) >= len(cluster()) + 15


def test_a_cut_batch_and_a_resume_from_the_start_give_the_same_links(engine: Engine) -> None:
    records = list(pages())
    random.Random(4).shuffle(records)
    sessions = storage.session_factory(engine)
    archive(sessions, records[:20], batch=5)
    with pytest.raises(RuntimeError), sessions.begin() as session:  # killed mid-batch
        for record in records[20:27]:
            storage.record_article(session, record, SEEN)
        raise RuntimeError("killed")
    archive(sessions, list(reversed(records)), batch=9)  # resumed: seen again, newest first
    assert raw_rows(url_of(engine), LINKS) == expected_links(pages())


def test_revision_0013_recomputes_the_links_of_an_archive_made_at_0012(tmp_path: Path) -> None:
    """An archive at 0012 holding arrival-order links (here: every copy linked to the newest
    article near it, and originals as copies too) gets the rule's links; a link that stays
    keeps its found_at."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    old = storage.create_archive_engine(url)
    storage.upgrade_archive(old, "0012")
    records = list(pages())
    archive(storage.session_factory(old), records, batch=10)
    expected = expected_links(records)
    ids = {row["url"]: row["id"] for row in raw_rows(url, "SELECT id, url FROM article")}
    kept = expected[0]
    wrong = [(ids[link["original"]], ids[link["copy"]], 1) for link in expected[1:]]
    with old.begin() as connection:
        connection.exec_driver_sql("DELETE FROM near_duplicate")
        connection.exec_driver_sql(
            "INSERT INTO near_duplicate VALUES (?, ?, ?, '2020-01-01 00:00:00.000000')",
            [(ids[kept["copy"]], ids[kept["original"]], kept["distance"]), *wrong],
        )
    storage.upgrade_archive(old)
    old.dispose()
    assert raw_rows(url, LINKS) == expected
    found = raw_rows(url, "SELECT article_id, found_at FROM near_duplicate")
    assert {r["article_id"] for r in found if r["found_at"].startswith("2020")} == {
        ids[kept["copy"]]
    }
