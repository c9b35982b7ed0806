"""The archive's history: versions, withdrawals, raw captures, near-duplicates, search.

An article's content lives in `article_version` rows: a change to what a reader sees (title,
date, body, captions) is a new version, the old one kept; a 404/410 marks the article
withdrawn, never deleted; every response is kept raw, a repeat of the same bytes as a revisit;
a lightly edited copy under another URL is linked to its original through the MinHash-LSH band
index; the FTS5 index `articles_fts` follows the current versions.

Every test works on a fresh archive opened as the crawler opens it (`storage.open_archive`),
once in SQLite and once in PostgreSQL (tests/conftest.py), and reads it back through the models
or, as a researcher would, with the standard library's sqlite3 or psycopg (the views of
docs/schema.md).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from storage import (
    Article,
    ArticleRecord,
    ArticleVersion,
    Capture,
    CaptureRecord,
    NearDuplicate,
    Outcome,
    Result,
    capture_body,
    content_digest,
    record_article,
    record_capture,
    record_gone,
)
from storage.neardup import BANDS, MAX_DISTANCE, fingerprint, hamming, lsh_keys
from tests.conftest import index_search as search
from tests.conftest import raw_rows

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SITE_COPY = FIXTURES / "site"
NEAR_DUPLICATES = FIXTURES / "near_duplicates"

SITE = "https://www.sc.gov.cn"
NEWS_COLUMN = "/10462/10758/10760/10765"

SEEN = datetime(2026, 11, 28, 2, 30, tzinfo=UTC)
LATER = SEEN + timedelta(days=1)
LATEST = SEEN + timedelta(days=7)

# An English news article of the provincial government, and the correction the site made to it.
WETLANDS_ID = "7d3f1b9e2c6a4e8f9b0d1c2a3e4f5b6c"
WETLANDS_DAY = date(2024, 4, 15)
TITLE = "Sichuan Launches Campaign to Restore Wetlands Along the Upper Yangtze"
CAPTION = (
    "Migratory birds rest at a restored wetland in Leshan City on April 12. [Photo/Sichuan Daily]"
)
PARAGRAPHS = [
    CAPTION,
    "On April 14, the Sichuan Provincial Department of Forestry and Grassland launched a "
    "three-year campaign to restore wetlands along the upper reaches of the Yangtze River.",
    "Under the plan, the province will restore 12,000 hectares of degraded wetland by the end "
    "of 2026, with pilot projects in Yibin, Leshan and Ganzi. Local governments are asked to "
    "return farmland to wetland where flood records show it is regularly submerged.",
    "The campaign also sets up a monitoring network of 60 stations to track water quality and "
    "bird populations, and a compensation scheme for farmers who give up land for restoration.",
]
BODY = "\n\n".join(PARAGRAPHS)
# The corrected page: the pilot cities changed (Yibin -> Luzhou in the body), a figure updated.
CORRECTED_BODY = "\n\n".join(
    [
        CAPTION,
        PARAGRAPHS[1],
        "Under the plan, the province will restore 15,000 hectares of degraded wetland by the "
        "end of 2026, with pilot projects in Luzhou, Leshan and Ganzi. Local governments are "
        "asked to return farmland to wetland where flood records show it is regularly submerged.",
        PARAGRAPHS[3],
    ]
)
OLD_WORD, NEW_WORD = "Yibin", "Luzhou"  # in the body of version 1 only, of version 2 only
IMAGES = [
    {"url": f"{SITE}{NEWS_COLUMN}/2024/4/15/images/W020240415339827512345.jpg", "caption": CAPTION}
]
ATTACHMENTS = [
    {
        "url": f"{SITE}{NEWS_COLUMN}/2024/4/15/P020240415339827598765.pdf",
        "text": "Wetland Restoration Plan for the Upper Yangtze (2024-2026)",
    }
]

OTHER_ID = "2e8c4a6f0b1d4f3a9c7e5d3b1a0f8e6d"
OTHER_TITLE = "Huang Qiang Presides over Executive Meeting of Provincial Government"
OTHER_BODY = (
    "On September 26, Huang Qiang, Governor of Sichuan Province, presided over an executive "
    "meeting of the provincial government to study the work of stabilising the economy in the "
    "fourth quarter."
)


def article_url(article_id: str, day: date, column_path: str = NEWS_COLUMN) -> str:
    """An English article URL of the site: month and day not zero-padded."""
    return f"{SITE}{column_path}/{day.year}/{day.month}/{day.day}/{article_id}.shtml"


def wetlands(**fields: Any) -> ArticleRecord:
    """The wetlands article as the crawler extracts it; `fields` override what changed."""
    values: dict[str, Any] = {
        "url": article_url(WETLANDS_ID, WETLANDS_DAY),
        "canonical_id": WETLANDS_ID,
        "title": TITLE,
        "body": BODY,
        "published_on": WETLANDS_DAY,
        "column_id": "10765",
        "page_column_name": "News",
        "language": "en",
        "template": "contText",
        "extraction_path": "container",
        "captions": [CAPTION],
        "images": IMAGES,
        "attachments": ATTACHMENTS,
    }
    values.update(fields)
    return ArticleRecord(
        body_digest=hashlib.sha256(values["body"].encode("utf-8")).hexdigest(), **values
    )


def other_article() -> ArticleRecord:
    day = date(2022, 9, 26)
    return ArticleRecord(
        url=article_url(OTHER_ID, day),
        canonical_id=OTHER_ID,
        title=OTHER_TITLE,
        body=OTHER_BODY,
        body_digest=hashlib.sha256(OTHER_BODY.encode("utf-8")).hexdigest(),
        published_on=day,
        column_id="10765",
        language="en",
        template="contText",
        extraction_path="container",
    )


def page_html(body: str, *, navigation: str = "Open Governance", visits: int = 1024) -> bytes:
    """The raw page of an article: the body inside the site's chrome (navigation, counter)."""
    paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{TITLE}</title></head><body>"
        f'<div class="nav"><a href="/10462/10758/index.shtml">Home</a> &gt; {navigation}</div>'
        f'<div class="contText">{paragraphs}</div>'
        f'<div class="footer">Visits: {visits} | Sichuan ICP No. 05003300</div>'
        "</body></html>"
    ).encode()


def stored(value: datetime) -> str:
    """A datetime as the archive's views show it: naive UTC text."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def record(
    sessions: sessionmaker[Session],
    article: ArticleRecord,
    seen_at: datetime = SEEN,
    capture_id: int | None = None,
) -> Result:
    """Archive one page in its own transaction, as one crawl visit."""
    with sessions.begin() as session:
        return record_article(session, article, seen_at, capture_id)


def gone(sessions: sessionmaker[Session], url: str, seen_at: datetime) -> Result:
    """A 404/410 for `url`, in its own transaction."""
    with sessions.begin() as session:
        return record_gone(session, url, seen_at)


def capture(
    sessions: sessionmaker[Session],
    body: bytes,
    fetched_at: datetime = SEEN,
    *,
    url: str | None = None,
    status: int = 200,
    article_id: int | None = None,
) -> Capture:
    """Keep one raw response, in its own transaction."""
    url = url or article_url(WETLANDS_ID, WETLANDS_DAY)
    response = CaptureRecord(
        url=url,
        final_url=url,
        status=status,
        fetched_at=fetched_at,
        body=body,
        headers={"Content-Type": "text/html; charset=utf-8", "Server": "Apache"},
    )
    with sessions.begin() as session:
        return record_capture(session, response, article_id)


def versions(sessions: sessionmaker[Session], article_id: int) -> list[ArticleVersion]:
    with sessions() as session:
        return list(
            session.scalars(
                select(ArticleVersion)
                .where(ArticleVersion.article_id == article_id)
                .order_by(ArticleVersion.version_no)
            )
        )


# 1. Versions -----------------------------------------------------------------------------------


def test_a_changed_body_at_the_same_url_is_a_new_version_and_the_old_one_is_kept(
    archive_url: str, sessions: sessionmaker[Session]
) -> None:
    first = record(sessions, wetlands(), SEEN)
    second = record(sessions, wetlands(body=CORRECTED_BODY), LATER)

    assert first.outcome is Outcome.NEW
    assert first.article_id is not None
    assert second == Result(Outcome.NEW_VERSION, first.article_id, None)
    old, new = raw_rows(
        archive_url,
        "SELECT * FROM article_versions WHERE article_id = ? ORDER BY version_no",
        first.article_id,
    )
    assert (old["version_no"], old["title"], old["body"], old["published_on"]) == (
        1,
        TITLE,
        BODY,
        "2024-04-15",
    )
    assert json.loads(old["captions"]) == [CAPTION]
    assert old["content_digest"] == content_digest(TITLE, WETLANDS_DAY, BODY, [CAPTION])
    assert (old["first_seen_at"], old["last_seen_at"]) == (stored(SEEN), stored(SEEN))
    assert (new["version_no"], new["title"], new["body"]) == (2, TITLE, CORRECTED_BODY)
    assert new["content_digest"] == content_digest(TITLE, WETLANDS_DAY, CORRECTED_BODY, [CAPTION])
    assert (new["first_seen_at"], new["last_seen_at"]) == (stored(LATER), stored(LATER))
    assert old["superseded_at"] == new["first_seen_at"] == stored(LATER)
    assert new["superseded_at"] is None
    assert (old["is_current"], new["is_current"]) == (0, 1)
    assert old["url"] == new["url"] == wetlands().url

    (article,) = raw_rows(
        archive_url,
        "SELECT id, body, version_count, first_seen_at, last_seen_at FROM articles",
    )
    assert article == {
        "id": first.article_id,
        "body": CORRECTED_BODY,
        "version_count": 2,
        "first_seen_at": stored(SEEN),
        "last_seen_at": stored(LATER),
    }
    # Version 1 keeps all it was extracted with, not only what the view shows.
    kept, current = versions(sessions, first.article_id)
    assert (kept.images, kept.attachments, kept.page_column_name) == (IMAGES, ATTACHMENTS, "News")
    with sessions() as session:
        stored_article = session.get(Article, first.article_id)
        assert stored_article is not None
        assert stored_article.current_version_id == current.id


def test_each_version_is_superseded_by_the_next(
    archive_url: str, sessions: sessionmaker[Session]
) -> None:
    third_body = CORRECTED_BODY + "\n\n(Source: Sichuan Daily)"
    first = record(sessions, wetlands(), SEEN)
    record(sessions, wetlands(body=CORRECTED_BODY), LATER)
    third = record(sessions, wetlands(body=third_body), LATEST)

    assert third == Result(Outcome.NEW_VERSION, first.article_id, None)
    rows = raw_rows(
        archive_url,
        "SELECT version_no, body, first_seen_at, superseded_at, is_current FROM article_versions "
        "ORDER BY version_no",
    )
    assert rows == [
        {
            "version_no": 1,
            "body": BODY,
            "first_seen_at": stored(SEEN),
            "superseded_at": stored(LATER),
            "is_current": 0,
        },
        {
            "version_no": 2,
            "body": CORRECTED_BODY,
            "first_seen_at": stored(LATER),
            "superseded_at": stored(LATEST),
            "is_current": 0,
        },
        {
            "version_no": 3,
            "body": third_body,
            "first_seen_at": stored(LATEST),
            "superseded_at": None,
            "is_current": 1,
        },
    ]
    assert raw_rows(archive_url, "SELECT version_count FROM articles") == [{"version_count": 3}]


def test_the_same_content_again_only_moves_last_seen_at(
    archive_url: str, sessions: sessionmaker[Session]
) -> None:
    first = record(sessions, wetlands(), SEEN)

    assert record(sessions, wetlands(), LATER) == Result(Outcome.UNCHANGED, first.article_id)

    assert first.article_id is not None
    (only,) = versions(sessions, first.article_id)
    assert (only.version_no, only.body) == (1, BODY)
    assert (only.first_seen_at, only.last_seen_at) == (SEEN, LATER)
    assert raw_rows(
        archive_url, "SELECT version_count, first_seen_at, last_seen_at FROM articles"
    ) == [{"version_count": 1, "first_seen_at": stored(SEEN), "last_seen_at": stored(LATER)}]


def test_seeing_the_current_version_again_leaves_the_older_ones_alone(
    sessions: sessionmaker[Session],
) -> None:
    first = record(sessions, wetlands(), SEEN)
    record(sessions, wetlands(body=CORRECTED_BODY), LATER)

    assert record(sessions, wetlands(body=CORRECTED_BODY), LATEST).outcome is Outcome.UNCHANGED

    assert first.article_id is not None
    old, current = versions(sessions, first.article_id)
    assert (old.first_seen_at, old.last_seen_at) == (SEEN, SEEN)
    assert (current.first_seen_at, current.last_seen_at) == (LATER, LATEST)


def test_a_change_only_to_the_page_chrome_is_not_a_version(
    archive_url: str, sessions: sessionmaker[Session]
) -> None:
    """The navigation and the visit counter changed, the article did not: a new capture (the
    bytes differ), the same ArticleRecord, no new version."""
    before = page_html(BODY, navigation="Open Governance", visits=1024)
    after = page_html(BODY, navigation="Government Information", visits=1187)
    assert before != after

    first_capture = capture(sessions, before, SEEN)
    first = record(sessions, wetlands(), SEEN, first_capture.id)
    second_capture = capture(sessions, after, LATER, article_id=first.article_id)
    again = record(sessions, wetlands(), LATER, second_capture.id)

    assert again == Result(Outcome.UNCHANGED, first.article_id)
    assert (second_capture.revisit_of, second_capture.body is not None) == (None, True)
    assert first.article_id is not None
    (only,) = versions(sessions, first.article_id)
    assert only.capture_id == first_capture.id  # the capture it was first extracted from
    assert raw_rows(archive_url, "SELECT version_count FROM articles") == [{"version_count": 1}]


def test_the_same_text_from_a_redesigned_template_is_not_a_version(
    sessions: sessionmaker[Session],
) -> None:
    first = record(sessions, wetlands(), SEEN)

    redesigned = wetlands(template="artleft", page_column_name="Sichuan News")
    assert record(sessions, redesigned, LATER) == Result(Outcome.UNCHANGED, first.article_id)

    assert first.article_id is not None
    assert [v.version_no for v in versions(sessions, first.article_id)] == [1]


def test_a_changed_caption_alone_is_a_new_version(
    archive_url: str, sessions: sessionmaker[Session]
) -> None:
    new_caption = "Black-necked cranes rest at a restored wetland in Leshan City on April 12."
    first = record(sessions, wetlands(), SEEN)

    again = record(sessions, wetlands(captions=[new_caption]), LATER)

    assert again == Result(Outcome.NEW_VERSION, first.article_id, None)
    rows = raw_rows(
        archive_url, "SELECT version_no, body, captions FROM article_versions ORDER BY 1"
    )
    assert [(r["version_no"], r["body"], json.loads(r["captions"])) for r in rows] == [
        (1, BODY, [CAPTION]),
        (2, BODY, [new_caption]),
    ]


@pytest.mark.parametrize(
    "change",
    [
        {"title": "Sichuan Launches Three-Year Campaign to Restore Upper Yangtze Wetlands"},
        {"published_on": date(2024, 4, 16)},
    ],
    ids=["title", "date"],
)
def test_a_changed_title_or_date_alone_is_a_new_version(
    sessions: sessionmaker[Session], change: dict[str, Any]
) -> None:
    first = record(sessions, wetlands(), SEEN)

    assert record(sessions, wetlands(**change), LATER).outcome is Outcome.NEW_VERSION

    assert first.article_id is not None
    old, new = versions(sessions, first.article_id)
    (name, value), *_ = change.items()
    assert getattr(old, name) == getattr(wetlands(), name)
    assert getattr(new, name) == value


# 2. Withdrawal ---------------------------------------------------------------------------------


def test_a_gone_page_is_withdrawn_not_deleted(
    archive_url: str, sessions: sessionmaker[Session]
) -> None:
    url = wetlands().url
    first = record(sessions, wetlands(), SEEN)
    record(sessions, wetlands(body=CORRECTED_BODY), LATER)

    assert gone(sessions, url, LATEST) == Result(Outcome.WITHDRAWN, first.article_id)

    (article,) = raw_rows(
        archive_url, "SELECT id, url, body, version_count, withdrawn_at FROM articles"
    )
    assert article == {
        "id": first.article_id,
        "url": url,
        "body": CORRECTED_BODY,
        "version_count": 2,
        "withdrawn_at": stored(LATEST),
    }
    assert first.article_id is not None
    assert [v.body for v in versions(sessions, first.article_id)] == [BODY, CORRECTED_BODY]
    with sessions() as session:
        withdrawn = session.get(Article, first.article_id)
    assert withdrawn is not None
    assert withdrawn.withdrawn_at == LATEST


def test_a_page_still_gone_keeps_its_first_withdrawal_time(
    archive_url: str, sessions: sessionmaker[Session]
) -> None:
    url = wetlands().url
    first = record(sessions, wetlands(), SEEN)
    gone(sessions, url, LATER)

    assert gone(sessions, url, LATEST) == Result(Outcome.STILL_GONE, first.article_id)

    assert raw_rows(archive_url, "SELECT withdrawn_at FROM articles") == [
        {"withdrawn_at": stored(LATER)}
    ]


def test_a_gone_url_the_archive_never_had_is_not_archived(
    archive_url: str, sessions: sessionmaker[Session]
) -> None:
    record(sessions, wetlands(), SEEN)
    unknown = article_url("0a1b2c3d4e5f40718293a4b5c6d7e8f9", date(2024, 4, 16))

    assert gone(sessions, unknown, LATER) == Result(Outcome.NOT_ARCHIVED, None, None)

    assert raw_rows(archive_url, "SELECT url, withdrawn_at FROM articles") == [
        {"url": wetlands().url, "withdrawn_at": None}
    ]


@pytest.mark.parametrize(
    ("body", "outcome"),
    [(BODY, Outcome.UNCHANGED), (CORRECTED_BODY, Outcome.NEW_VERSION)],
    ids=["same-content", "changed-content"],
)
def test_a_withdrawn_page_seen_again_is_online_again(
    archive_url: str, sessions: sessionmaker[Session], body: str, outcome: Outcome
) -> None:
    first = record(sessions, wetlands(), SEEN)
    gone(sessions, wetlands().url, LATER)

    assert record(sessions, wetlands(body=body), LATEST) == Result(outcome, first.article_id)

    assert raw_rows(archive_url, "SELECT body, withdrawn_at, last_seen_at FROM articles") == [
        {"body": body, "withdrawn_at": None, "last_seen_at": stored(LATEST)}
    ]
    with sessions() as session:
        article = session.get(Article, first.article_id)
    assert article is not None
    assert article.withdrawn_at is None


# 3. Captures -----------------------------------------------------------------------------------


def test_the_same_bytes_at_the_same_url_are_a_revisit(sessions: sessionmaker[Session]) -> None:
    page = page_html(BODY)

    first = capture(sessions, page, SEEN)
    second = capture(sessions, page, LATER)
    third = capture(sessions, page, LATEST)

    assert first.body is not None
    assert first.revisit_of is None
    assert (second.body, second.revisit_of) == (None, first.id)
    assert (third.body, third.revisit_of) == (None, first.id)  # the capture holding the bytes
    assert {c.body_sha256 for c in (first, second, third)} == {hashlib.sha256(page).hexdigest()}
    assert {c.body_length for c in (first, second, third)} == {len(page)}
    with sessions() as session:  # read back from the file
        read = [session.get(Capture, c.id) for c in (first, second, third)]
        assert [capture_body(session, c) for c in read if c is not None] == [page] * 3


def test_a_changed_response_at_the_same_url_is_stored(sessions: sessionmaker[Session]) -> None:
    before, after = page_html(BODY), page_html(CORRECTED_BODY)

    first = capture(sessions, before, SEEN)
    second = capture(sessions, after, LATER)

    assert (second.revisit_of, second.body is not None) == (None, True)
    assert second.body_sha256 == hashlib.sha256(after).hexdigest()
    with sessions() as session:
        assert capture_body(session, first) == before
        assert capture_body(session, second) == after


def test_the_same_bytes_under_another_url_are_stored_not_a_revisit(
    sessions: sessionmaker[Session],
) -> None:
    page = page_html(BODY)
    republished = article_url("5c9e1a7b3d2f4e6a8b0c1d2e3f4a5b6c", date(2024, 4, 17))

    first = capture(sessions, page, SEEN)
    elsewhere = capture(sessions, page, LATER, url=republished)

    assert (elsewhere.url, elsewhere.revisit_of) == (republished, None)
    assert elsewhere.body is not None
    with sessions() as session:
        assert capture_body(session, elsewhere) == capture_body(session, first) == page


def test_the_captures_view_shows_each_response(
    archive_url: str, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    page = page_html(BODY)
    first = capture(sessions, page, SEEN)
    article = record(sessions, wetlands(), SEEN, first.id)
    revisit = capture(sessions, page, LATER, article_id=article.article_id)
    not_found = capture(sessions, b"<html><body>404 Not Found</body></html>", LATEST, status=404)

    columns = [column["name"] for column in inspect(engine).get_columns("captures")]
    assert set(columns) == {
        "id",
        "url",
        "final_url",
        "status",
        "fetched_at",
        "body_sha256",
        "body_length",
        "stored_length",
        "revisit_of",
        "is_revisit",
        "article_id",
        "headers",
        "kind",
        "omitted",
        "method",
    }
    rows = raw_rows(
        archive_url,
        "SELECT id, url, final_url, status, fetched_at, body_length, stored_length, revisit_of, "
        "is_revisit, article_id, headers FROM captures ORDER BY id",
    )
    url = wetlands().url
    assert [{**r, "headers": json.loads(r["headers"])} for r in rows] == [
        {
            "id": first.id,
            "url": url,
            "final_url": url,
            "status": 200,
            "fetched_at": stored(SEEN),
            "body_length": len(page),
            "stored_length": len(first.body or b""),
            "revisit_of": None,
            "is_revisit": 0,
            "article_id": article.article_id,  # record_article links its capture
            "headers": {"Content-Type": "text/html; charset=utf-8", "Server": "Apache"},
        },
        {
            "id": revisit.id,
            "url": url,
            "final_url": url,
            "status": 200,
            "fetched_at": stored(LATER),
            "body_length": len(page),
            "stored_length": None,
            "revisit_of": first.id,
            "is_revisit": 1,
            "article_id": article.article_id,
            "headers": {"Content-Type": "text/html; charset=utf-8", "Server": "Apache"},
        },
        {
            "id": not_found.id,
            "url": url,
            "final_url": url,
            "status": 404,
            "fetched_at": stored(LATEST),
            "body_length": len(b"<html><body>404 Not Found</body></html>"),
            "stored_length": len(not_found.body or b""),
            "revisit_of": None,
            "is_revisit": 0,
            "article_id": None,
            "headers": {"Content-Type": "text/html; charset=utf-8", "Server": "Apache"},
        },
    ]
    assert 0 < rows[0]["stored_length"] < len(page)  # compressed


def test_each_version_points_at_the_capture_it_came_from(
    archive_url: str, sessions: sessionmaker[Session]
) -> None:
    first_capture = capture(sessions, page_html(BODY), SEEN)
    first = record(sessions, wetlands(), SEEN, first_capture.id)
    second_capture = capture(sessions, page_html(CORRECTED_BODY), LATER)
    record(sessions, wetlands(body=CORRECTED_BODY), LATER, second_capture.id)

    rows = raw_rows(
        archive_url,
        "SELECT article_id, version_no, capture_id FROM article_versions ORDER BY version_no",
    )
    assert rows == [
        {"article_id": first.article_id, "version_no": 1, "capture_id": first_capture.id},
        {"article_id": first.article_id, "version_no": 2, "capture_id": second_capture.id},
    ]


# 4. Near-duplicates ----------------------------------------------------------------------------


@cache
def edited_copies() -> list[dict[str, Any]]:
    return json.loads((NEAR_DUPLICATES / "english.json").read_text("utf-8"))


def fixture_record(expected_path: str) -> ArticleRecord:
    """A fixture article of the saved site as the crawler extracts it (its expected.json)."""
    page = json.loads((SITE_COPY / expected_path).read_text("utf-8"))
    body = "\n\n".join(page["body"])
    return ArticleRecord(
        url=page["url"],
        canonical_id=page["canonical_id"],
        title=page["title"],
        body=body,
        body_digest=hashlib.sha256(body.encode("utf-8")).hexdigest(),
        published_on=date.fromisoformat(page["published_on"]),
        column_id=page["column_id"],
        language=page["language"],
        template=page["template"],
        extraction_path=page["extraction_path"],
        captions=page["captions"],
        images=page["images"],
        attachments=page["attachments"],
    )


def republished_copy(original: ArticleRecord, paragraphs: list[str]) -> ArticleRecord:
    """An edited copy of `original`, republished under another channel, id and date."""
    day = (original.published_on or WETLANDS_DAY) + timedelta(days=2)
    body = "\n\n".join(paragraphs)
    copy_id = hashlib.md5(original.canonical_id.encode(), usedforsecurity=False).hexdigest()
    return ArticleRecord(
        url=article_url(copy_id, day, "/10462/newsdlb"),
        canonical_id=copy_id,
        title=original.title,
        body=body,
        body_digest=hashlib.sha256(body.encode("utf-8")).hexdigest(),
        published_on=day,
        column_id="newsdlb",
        language="en",
        template=original.template,
        extraction_path=original.extraction_path,
    )


@pytest.fixture
def edited_pair() -> tuple[ArticleRecord, ArticleRecord]:
    """The first edited copy of english.json and its original from the saved site."""
    pair = edited_copies()[0]
    original = fixture_record(pair["original"])
    copy = republished_copy(original, pair["body"])
    assert copy.body != original.body
    return original, copy


def test_an_edited_copy_under_another_url_is_linked_to_its_original(
    archive_url: str,
    sessions: sessionmaker[Session],
    edited_pair: tuple[ArticleRecord, ArticleRecord],
) -> None:
    original, copy = edited_pair
    first = record(sessions, original, SEEN)

    linked = record(sessions, copy, LATER)

    assert linked.outcome is Outcome.NEW  # linked, not merged
    assert linked.article_id not in (None, first.article_id)
    assert linked.near_duplicate_of == first.article_id
    distance = hamming(fingerprint(original.body), fingerprint(copy.body))
    assert distance <= MAX_DISTANCE
    assert raw_rows(archive_url, "SELECT * FROM near_duplicate") == [
        {
            "article_id": linked.article_id,
            "original_id": first.article_id,
            "distance": distance,
            "found_at": stored(LATER),
        }
    ]
    assert raw_rows(archive_url, "SELECT COUNT(*) AS n FROM articles") == [{"n": 2}]


def test_an_unrelated_article_is_not_linked(
    archive_url: str,
    sessions: sessionmaker[Session],
    edited_pair: tuple[ArticleRecord, ArticleRecord],
) -> None:
    original, copy = edited_pair
    unrelated = fixture_record(edited_copies()[1]["original"])
    assert unrelated.url != original.url
    record(sessions, original, SEEN)
    linked = record(sessions, copy, LATER)

    alone = record(sessions, unrelated, LATEST)
    other = record(sessions, wetlands(), LATEST)

    assert (alone.outcome, alone.near_duplicate_of) == (Outcome.NEW, None)
    assert (other.outcome, other.near_duplicate_of) == (Outcome.NEW, None)
    rows = raw_rows(archive_url, "SELECT article_id FROM near_duplicate")
    assert rows == [{"article_id": linked.article_id}]


def candidate_sql(keys: list[int], article_id: int) -> tuple[str, list[int]]:
    """The near-duplicate candidate lookup, rebuilt from near_duplicate_band."""
    marks = ", ".join("?" * len(keys))
    sql = (
        "SELECT DISTINCT a.id, a.simhash FROM article AS a "
        "JOIN near_duplicate_band AS b ON b.article_id = a.id "
        f"WHERE b.band_key IN ({marks}) AND a.id != ?"
    )
    return sql, [*keys, article_id]


def test_near_duplicate_candidates_are_found_through_the_band_index(
    archive_url: str,
    sessions: sessionmaker[Session],
    edited_pair: tuple[ArticleRecord, ArticleRecord],
) -> None:
    original, copy = edited_pair
    first = record(sessions, original, SEEN)
    record(sessions, wetlands(), SEEN)
    record(sessions, other_article(), SEEN)
    linked = record(sessions, copy, LATER)
    assert linked.article_id is not None

    # Every article is under its BANDS keys: the keys of its current body.
    bands = raw_rows(
        archive_url, "SELECT article_id, band_key FROM near_duplicate_band ORDER BY 1, 2"
    )
    by_article: dict[int, set[int]] = {}
    for row in bands:
        by_article.setdefault(row["article_id"], set()).add(row["band_key"])
    assert {len(keys) for keys in by_article.values()} == {BANDS}
    assert len(bands) == BANDS * len(by_article) == BANDS * 4
    assert by_article[linked.article_id] == set(lsh_keys(copy.body))

    sql, params = candidate_sql(lsh_keys(copy.body), linked.article_id)
    found = raw_rows(archive_url, sql, *params)
    assert [row["id"] for row in found] == [first.article_id]
    if not archive_url.startswith("sqlite"):
        return  # PostgreSQL plans by statistics: a 4-row table is read whole either way
    plan = [row["detail"] for row in raw_rows(archive_url, "EXPLAIN QUERY PLAN " + sql, *params)]
    assert not [step for step in plan if step.startswith("SCAN")], plan
    assert any(
        step.startswith("SEARCH") and "near_duplicate_band" in step and "band_key=?" in step
        for step in plan
    ), plan


def test_the_band_index_follows_the_current_version(
    archive_url: str, sessions: sessionmaker[Session]
) -> None:
    first = record(sessions, wetlands(), SEEN)
    new_body = OTHER_BODY  # rewritten beyond recognition
    record(sessions, wetlands(body=new_body), LATER)

    keys = raw_rows(
        archive_url,
        "SELECT band_key FROM near_duplicate_band WHERE article_id = ?",
        first.article_id,
    )
    assert {row["band_key"] for row in keys} == set(lsh_keys(new_body))
    assert len(keys) == BANDS
    with sessions() as session:
        simhash = session.scalar(select(Article.simhash).where(Article.id == first.article_id))
        assert session.scalar(select(func.count()).select_from(NearDuplicate)) == 0
    assert simhash == fingerprint(new_body)


def test_an_earlier_original_with_an_edited_body_brings_its_digests_along(
    archive_url: str, sessions: sessionmaker[Session]
) -> None:
    """The same article id found at an earlier-dated URL with an edited body: it takes the
    primary URL and its body is shown, so the article's body digest, SimHash and band keys
    (documented as those of the current body) must be the ones of that body."""
    later_day = date(2024, 4, 20)
    moved = wetlands(
        url=article_url(WETLANDS_ID, later_day, "/10462/10758/10760/10766"),
        published_on=later_day,
    )
    earlier = wetlands(body=CORRECTED_BODY)
    first = record(sessions, moved, SEEN)

    assert record(sessions, earlier, LATER) == Result(Outcome.NEW_ALIAS, first.article_id)

    assert raw_rows(archive_url, "SELECT url, body FROM articles") == [
        {"url": earlier.url, "body": CORRECTED_BODY}
    ]
    assert search(archive_url, NEW_WORD) == [first.article_id]
    assert search(archive_url, OLD_WORD) == []
    with sessions() as session:
        article = session.get(Article, first.article_id)
    assert article is not None
    keys = raw_rows(
        archive_url,
        "SELECT band_key FROM near_duplicate_band WHERE article_id = ?",
        first.article_id,
    )
    assert (
        article.body_digest,
        article.simhash,
        {row["band_key"] for row in keys},
    ) == (earlier.body_digest, fingerprint(CORRECTED_BODY), set(lsh_keys(CORRECTED_BODY)))


# 5. Full-text search ---------------------------------------------------------------------------


def test_the_search_index_follows_the_current_version(
    archive_url: str, sessions: sessionmaker[Session]
) -> None:
    assert OLD_WORD in BODY and OLD_WORD not in CORRECTED_BODY
    assert NEW_WORD in CORRECTED_BODY and NEW_WORD not in BODY
    first = record(sessions, wetlands(), SEEN)
    record(sessions, other_article(), SEEN)
    assert search(archive_url, OLD_WORD) == [first.article_id]
    assert search(archive_url, NEW_WORD) == []

    record(sessions, wetlands(body=CORRECTED_BODY), LATER)

    assert search(archive_url, OLD_WORD) == []
    assert search(archive_url, NEW_WORD) == [first.article_id]
    assert search(archive_url, "wetlands AND Leshan") == [first.article_id]  # in both


def test_an_unchanged_visit_does_not_index_an_article_twice(
    archive_url: str, sessions: sessionmaker[Session]
) -> None:
    first = record(sessions, wetlands(), SEEN)
    record(sessions, wetlands(), LATER)

    assert search(archive_url, "Yangtze") == [first.article_id]
    assert raw_rows(archive_url, "SELECT COUNT(*) AS n FROM articles_fts") == [{"n": 1}]


def test_a_chinese_body_is_found_by_a_two_character_term(
    archive_url: str, sessions: sessionmaker[Session]
) -> None:
    body = json.loads((NEAR_DUPLICATES / "chinese.json").read_text("utf-8"))["original"]
    title = "省政府召开常务会议研究部署春耕生产和防汛工作"
    assert "四川" in body and "四川" not in title
    day = date(2014, 4, 22)
    chinese = ArticleRecord(
        url=f"{SITE}/scszfxxgk/2014/4/22/c8e2f0a4b6d84e1c9a3f5b7d9e1c3a5f.shtml",
        canonical_id="c8e2f0a4b6d84e1c9a3f5b7d9e1c3a5f",
        title=title,
        body=body,
        body_digest=hashlib.sha256(body.encode("utf-8")).hexdigest(),
        published_on=day,
        column_id="scszfxxgk",
        language="zh",
        template="contText",
        extraction_path="container",
    )
    record(sessions, wetlands(), SEEN)  # English, "Sichuan" but no 四川
    found = record(sessions, chinese, SEEN)

    assert search(archive_url, "四川") == [found.article_id]
    assert search(archive_url, "防汛") == [found.article_id]  # a word of the title and body
