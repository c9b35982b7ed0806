"""Near-duplicate candidates are the articles sharing an LSH band key held by at most
`storage.neardup_links.PER_BAND` articles: a key shared with a crowd of formulaic texts does not
make every insert read the crowd, and does not hide the real original."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

import storage
from storage import neardup, neardup_links
from storage.models import NearDuplicate, NearDuplicateBand
from tests.conftest import numbered_article

PAIRS = Path(__file__).parent / "fixtures" / "near_duplicates" / "english.json"
SITE = Path(__file__).parent / "fixtures" / "site"
SEEN = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)


def record(n: int, title: str, body: str) -> storage.ArticleRecord:
    return numbered_article(n, title, body, date(2024, 5, n), "c")


def test_the_original_is_found_past_a_crowd_sharing_one_band(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    pair = json.loads(PAIRS.read_text("utf-8"))[0]
    original = json.loads((SITE / pair["original"]).read_text("utf-8"))
    original_body, edited_body = "\n\n".join(original["body"]), "\n\n".join(pair["body"])
    keys = neardup.lsh_keys(edited_body)
    assert len(set(keys) & set(neardup.lsh_keys(original_body))) >= 2
    with sessions.begin() as session:
        # six formulaic articles, archived before the original, that share one band key with
        # the edited copy (lower ids: a cap that kept the first ids found would miss it); the
        # key, crowded, is skipped
        crowd = [
            storage.record_article(
                session, record(n, f"Notice {n}", f"Unrelated notice number {n} on water."), SEEN
            ).article_id
            for n in range(1, 7)
        ]
        first = storage.record_article(session, record(7, original["title"], original_body), SEEN)
        session.execute(
            insert(NearDuplicateBand), [{"band_key": keys[0], "article_id": i} for i in crowd]
        )
    monkeypatch.setattr(neardup_links, "PER_BAND", 3)
    with sessions.begin() as session:
        copy = storage.record_article(
            session, replace(record(9, "", edited_body), title=original["title"]), SEEN
        )
    assert copy.near_duplicate_of == first.article_id
    with sessions() as session:
        links = session.execute(select(NearDuplicate.article_id, NearDuplicate.original_id)).all()
    assert [tuple(link) for link in links] == [(copy.article_id, first.article_id)]


def test_a_crowded_band_key_does_not_hide_the_original(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under a band key the original shares, six newer articles: with that key crowded (more
    than 2), the original still comes through the other keys it shares."""
    pair = json.loads(PAIRS.read_text("utf-8"))[1]
    original = json.loads((SITE / pair["original"]).read_text("utf-8"))
    original_body, edited_body = "\n\n".join(original["body"]), "\n\n".join(pair["body"])
    shared = sorted(set(neardup.lsh_keys(edited_body)) & set(neardup.lsh_keys(original_body)))
    assert len(shared) >= 2
    with sessions.begin() as session:
        first = storage.record_article(session, record(1, original["title"], original_body), SEEN)
        crowd = [
            storage.record_article(
                session, record(n, f"Notice {n}", f"Unrelated notice number {n} on roads."), SEEN
            ).article_id
            for n in range(2, 8)
        ]
        session.execute(
            insert(NearDuplicateBand), [{"band_key": shared[0], "article_id": i} for i in crowd]
        )
    monkeypatch.setattr(neardup_links, "PER_BAND", 2)
    with sessions.begin() as session:
        copy = storage.record_article(session, record(9, original["title"], edited_body), SEEN)
    assert copy.near_duplicate_of == first.article_id
