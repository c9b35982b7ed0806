"""The records' derived values (what the write path computes from them) are the storage
functions' own results, computed once, and travel with a pickled record: a preparing process
can compute them off the writer's thread."""

from __future__ import annotations

import hashlib
import pickle
import zlib
from datetime import UTC, date, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import storage
from storage import neardup
from storage.captures import COMPRESSION_LEVEL
from tests.conftest import index_search, raw_rows, url_of

PAGE = "<html><body><p>四川省人民政府 Sichuan wetlands report.</p></body></html>".encode()


def test_derived_values_are_computed_once_and_pickled() -> None:
    record = storage.ArticleRecord(
        url="https://www.sc.gov.cn/10462/10758/10760/10765/2024/4/15/x.shtml",
        canonical_id="x",
        title="Wetlands",
        body="The province restored 1,200 hectares of wetland along the Min River in 2023.",
        body_digest="0" * 64,
        published_on=date(2024, 4, 15),
        column_id="10765",
        language="en",
        template="contText",
        extraction_path="container",
        captions=["A wetland"],
    )
    capture = storage.CaptureRecord(record.url, record.url, 200, datetime.now(UTC), PAGE)
    moved_record = pickle.loads(pickle.dumps(record.derive()))
    moved_capture = pickle.loads(pickle.dumps(capture.derive()))

    assert {"signature", "digest"} <= moved_record.__dict__.keys()
    assert {"sha256", "compressed"} <= moved_capture.__dict__.keys()
    assert moved_record.signature == neardup.signature(record.body)
    assert moved_record.digest == storage.content_digest(
        record.title, record.published_on, record.body, record.captions
    )
    assert moved_capture.sha256 == hashlib.sha256(PAGE).hexdigest()
    assert zlib.decompress(moved_capture.compressed) == PAGE
    assert moved_capture.compressed == zlib.compress(PAGE, COMPRESSION_LEVEL)
    assert moved_record == record  # the derived values are not fields


def test_an_uncommitted_article_never_reaches_the_search_index(
    sessions: sessionmaker[Session], engine: Engine
) -> None:
    """Search-index changes wait for the commit; a session closed without one, then reused
    for another transaction, leaves neither the article nor its index row."""
    record = storage.ArticleRecord(
        url="https://www.sc.gov.cn/10462/10758/10760/10765/2024/1/2/bamboo.shtml",
        canonical_id="bamboo",
        title="Bamboo",
        body="A report on the bamboo forests of southern Sichuan.",
        body_digest="1" * 64,
        published_on=date(2024, 1, 2),
        column_id="10765",
        language="en",
        template="contText",
        extraction_path="container",
    )
    session = sessions()
    storage.record_article(session, record, datetime.now(UTC))
    session.close()
    session.commit()
    assert raw_rows(url_of(engine), "SELECT id FROM article") == []
    assert index_search(url_of(engine), "bamboo") == []
