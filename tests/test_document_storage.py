"""Documents in the archive (`storage.DocumentRecord` on `record_article`), on SQLite and
PostgreSQL: metadata in every version, a change of validity, 废止日期, 文号 or title is a new
version with the same body, each change in `field_changes`, withdrawals kept, citations and
interpretations resolved by the views, the 文号 in the search index."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from scrapy import Spider
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler
from sqlalchemy.orm import Session, sessionmaker

import storage
from govcrawler.extract.docnumber import find_doc_numbers
from govcrawler.extract.document import document_from_page
from govcrawler.extract.encoding import page_text
from govcrawler.items import DocumentPage, Fetch
from govcrawler.pipelines import (
    ArchivePipeline,
    CleanPipeline,
    DedupePipeline,
    ValidatePipeline,
    clean_document,
    document_record,
)
from govcrawler.runs.records import RunRecorder
from storage import DocumentRecord, Outcome, record_article
from storage.runs import start_run
from tests.conftest import SITE_COPY, index_search, numbered_article, raw_rows, sqlite_url

SITE = "https://www.sc.gov.cn/10462/zfwjts"
GEN1 = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
GEN2 = GEN1 + timedelta(days=30)
GEN3 = GEN2 + timedelta(days=30)

NOTICE_BODY = (
    "各市（州）人民政府，省政府各部门：\n\n"
    "现将《四川省农村供水保障办法》印发给你们，请认真贯彻执行。\n\n"
    "本办法依据《国务院办公厅关于加强农村供水工作的意见》（国办发〔2023〕15号）制定，"
    "川办发〔2019〕7号同时废止。"
)
MEASURES_BODY = "第一条 为保障农村居民饮水安全，制定本办法。\n\n第二条 本办法适用于本省行政区域。"
READING_BODY = (
    "近日，省政府办公厅印发《四川省农村供水保障办法》（川办发〔2024〕12号），"
    "现就有关内容解读如下。\n\n一、出台背景。"
)


def document_page(
    n: int,
    title: str,
    body: str,
    day: date,
    column: str = "c102914",
    **metadata: Any,
) -> storage.ArticleRecord:
    """A document page as the pipeline flattens it: Chinese, an article record with its
    metadata (`metadata` overrides the DocumentRecord's fields)."""
    article_id = f"{n:032x}"
    values: dict[str, Any] = {
        "issuer": "四川省人民政府办公厅",
        "written_on": day - timedelta(days=3),
        "published_on": day,
        "validity": "有效",
        "validity_raw": "有效",
        "validity_source": "script",
        "index_number": f"0000-2024-{n:05d}",
        "layout": "a",
        "column_path": ["首页", "政务公开", "省政府文件"],
    }
    values.update(metadata)
    number = values.pop("number", None)
    if number is not None:
        prefix, year, seq = number
        values |= {
            "doc_number_raw": f"{prefix}〔{year}〕{seq}号",
            "doc_number": f"{prefix}〔{year}〕{seq}号",
            "doc_series": prefix,
            "doc_year": year,
            "doc_seq": seq,
        }
    return storage.ArticleRecord(
        url=f"{SITE}/{day.year}/{day.month}/{day.day}/{article_id}.shtml",
        canonical_id=article_id,
        title=title,
        body=body,
        body_digest=f"{n:064x}",
        published_on=day,
        column_id=column,
        language="zh",
        template="zfwjts",
        extraction_path="container",
        attachments=[{"url": f"{SITE}/files/{n}.pdf", "text": "附件1.pdf", "extension": "pdf"}],
        document=DocumentRecord(**values),
    )


MEASURES = document_page(
    1,
    "四川省人民政府办公厅关于印发《四川省农村供水保障办法》的通知",
    NOTICE_BODY + "\n\n" + MEASURES_BODY,
    date(2024, 3, 18),
    number=("川办发", 2024, 12),
    cited_numbers=[
        ("（国办发〔2023〕15号）", "国办发〔2023〕15号"),
        ("川办发〔2019〕7号", "川办发〔2019〕7号"),
    ],
    quoted_titles=["四川省农村供水保障办法", "国务院办公厅关于加强农村供水工作的意见"],
)
OLD_MEASURES = document_page(
    2, "四川省农村饮水管理办法", "第一条 为加强农村饮水管理……", date(2019, 2, 1),
    number=("川办发", 2019, 7),
)  # fmt: skip
READING = document_page(
    3,
    "《四川省农村供水保障办法》政策解读",
    READING_BODY,
    date(2024, 3, 18),
    column="13299",
    is_interpretation=True,
    cited_numbers=[("川办发〔2024〕12号", "川办发〔2024〕12号")],
    quoted_titles=["四川省农村供水保障办法"],
)


def metadata(record: storage.ArticleRecord, **changes: Any) -> storage.ArticleRecord:
    """The same page with other metadata (the body unchanged)."""
    assert record.document is not None
    return dataclasses.replace(record, document=dataclasses.replace(record.document, **changes))


def write(sessions: sessionmaker[Session], *records: storage.ArticleRecord, at: datetime = GEN1,
          run_id: int | None = None) -> list[Outcome]:  # fmt: skip
    with sessions.begin() as session:
        return [record_article(session, r, at, run_id=run_id).outcome for r in records]


def changes(url: str, article_id: int) -> list[tuple[Any, ...]]:
    rows = raw_rows(
        url,
        "SELECT change, field, old_value, new_value FROM field_changes "
        "WHERE article_id = ? ORDER BY change_id",
        article_id,
    )
    return [tuple(row.values()) for row in rows]


def test_a_document_is_an_article_with_its_metadata(
    sessions: sessionmaker[Session], archive_url: str
) -> None:
    assert write(sessions, MEASURES) == [Outcome.NEW]
    [row] = raw_rows(archive_url, "SELECT * FROM documents")
    assert row["id"] == 1 and row["url"] == MEASURES.url
    assert (row["doc_number"], row["doc_series"], row["doc_year"], row["doc_seq"]) == (
        "川办发〔2024〕12号",
        "川办发",
        2024,
        12,
    )
    assert row["issuer"] == "四川省人民政府办公厅"
    assert (row["written_on"], row["published_on"], row["published_year"]) == (
        "2024-03-15",
        "2024-03-18",
        2024,
    )
    assert (row["validity"], row["validity_source"], row["layout"]) == ("有效", "script", "a")
    assert (row["versions"], row["is_interpretation"], row["withdrawn_at"]) == (1, 0, None)
    assert row["body"] == MEASURES.body and row["template"] == "zfwjts"
    assert '"省政府文件"' in row["column_path"] and "附件1.pdf" in row["attachments"]
    assert changes(archive_url, 1) == [("new", None, None, None)]
    kinds = raw_rows(archive_url, "SELECT kind, doc_number FROM field_changes")
    assert kinds == [{"kind": "document", "doc_number": "川办发〔2024〕12号"}]


def test_a_change_of_validity_is_a_new_version_with_the_same_body(
    sessions: sessionmaker[Session], archive_url: str
) -> None:
    write(sessions, MEASURES)
    expired = metadata(
        MEASURES, validity="失效", validity_raw="失效", abolished_on=date(2026, 12, 1)
    )
    assert write(sessions, expired, at=GEN2) == [Outcome.NEW_VERSION]
    assert write(sessions, expired, at=GEN3) == [Outcome.UNCHANGED]
    assert changes(archive_url, 1)[1:] == [
        ("changed", "validity", "有效", "失效"),
        ("changed", "abolished_on", None, "2026-12-01"),
    ]
    versions = raw_rows(
        archive_url,
        "SELECT v.version_no, v.body, d.validity, d.abolished_on FROM article_version AS v "
        "JOIN document_version AS d ON d.version_id = v.id ORDER BY v.version_no",
    )
    assert [(v["version_no"], v["validity"], v["abolished_on"]) for v in versions] == [
        (1, "有效", None),
        (2, "失效", "2026-12-01"),
    ]
    assert versions[0]["body"] == versions[1]["body"] == MEASURES.body
    [row] = raw_rows(archive_url, "SELECT validity, abolished_on, versions FROM documents")
    assert row == {"validity": "失效", "abolished_on": "2026-12-01", "versions": 2}


def test_a_new_number_or_title_is_a_new_version(
    sessions: sessionmaker[Session], archive_url: str
) -> None:
    write(sessions, MEASURES)
    renumbered = metadata(
        MEASURES, doc_number_raw="川办规〔2024〕3号", doc_number="川办规〔2024〕3号",
        doc_series="川办规", doc_seq=3,
    )  # fmt: skip
    assert write(sessions, renumbered, at=GEN2) == [Outcome.NEW_VERSION]
    retitled = dataclasses.replace(renumbered, title="四川省农村供水保障办法")
    assert write(sessions, retitled, at=GEN3) == [Outcome.NEW_VERSION]
    assert changes(archive_url, 1)[1:] == [
        ("changed", "doc_number", "川办发〔2024〕12号", "川办规〔2024〕3号"),
        ("changed", "title", MEASURES.title, "四川省农村供水保障办法"),
    ]
    # the same number written otherwise is a version too, and says so
    spaced = metadata(retitled, doc_number_raw="川办规 [2024] 3 号")
    assert write(sessions, spaced, at=GEN3 + timedelta(days=1)) == [Outcome.NEW_VERSION]
    assert changes(archive_url, 1)[-1] == (
        "changed",
        "doc_number_raw",
        "川办规〔2024〕3号",
        "川办规 [2024] 3 号",
    )


def test_a_new_body_is_recorded_as_a_marker_not_the_text(
    sessions: sessionmaker[Session], archive_url: str
) -> None:
    write(sessions, MEASURES)
    amended = dataclasses.replace(
        MEASURES, body=MEASURES.body + "\n\n第三条 本办法自发布之日起施行。"
    )
    write(sessions, amended, at=GEN2)
    [(change, name, old, new)] = changes(archive_url, 1)[1:]
    assert (change, name) == ("changed", "body")
    assert old.startswith(f"{len(MEASURES.body)} characters, sha256 ")
    assert new.startswith(f"{len(amended.body)} characters, sha256 ") and "第三条" not in new


def test_an_english_articles_digest_is_unchanged() -> None:
    record = numbered_article(1, "Report", "A Sichuan report.", date(2020, 1, 2), "e")
    assert record.digest == storage.content_digest(
        record.title, record.published_on, record.body, record.captions
    )
    # a document's covers its metadata: the same text with another validity is another digest
    assert metadata(MEASURES, validity="失效").digest != MEASURES.digest


def test_a_withdrawn_document_is_marked_not_deleted_and_may_return(
    sessions: sessionmaker[Session], archive_url: str
) -> None:
    write(sessions, MEASURES, OLD_MEASURES)
    with sessions.begin() as session:
        gone = storage.record_gone(session, OLD_MEASURES.url, GEN2)
    assert gone.outcome is Outcome.WITHDRAWN
    rows = raw_rows(archive_url, "SELECT id, withdrawn_at, validity FROM documents ORDER BY id")
    assert [(r["id"], r["withdrawn_at"] is not None) for r in rows] == [(1, False), (2, True)]
    assert write(sessions, OLD_MEASURES, at=GEN3) == [Outcome.UNCHANGED]
    assert [c[0] for c in changes(archive_url, 2)] == ["new", "withdrawn", "returned"]


def test_the_same_text_reissued_under_a_new_number_is_another_document(
    sessions: sessionmaker[Session], archive_url: str
) -> None:
    reissued = metadata(
        dataclasses.replace(
            OLD_MEASURES,
            url=OLD_MEASURES.url.replace("2019/2/1", "2025/6/3").replace("0002.", "0009."),
            canonical_id=f"{9:032x}",
        ),
        doc_number_raw="川办规〔2025〕9号", doc_number="川办规〔2025〕9号", doc_series="川办规",
        doc_year=2025, doc_seq=9,
    )  # fmt: skip
    assert reissued.body_digest == OLD_MEASURES.body_digest
    assert write(sessions, OLD_MEASURES, reissued) == [Outcome.NEW, Outcome.NEW]
    numbers = raw_rows(archive_url, "SELECT doc_number FROM documents ORDER BY id")
    assert [r["doc_number"] for r in numbers] == ["川办发〔2019〕7号", "川办规〔2025〕9号"]
    # the same text and number under another URL is still the same document, republished
    elsewhere = dataclasses.replace(
        OLD_MEASURES, url=OLD_MEASURES.url.replace("zfwjts", "c102914"), canonical_id="f" * 32
    )
    assert write(sessions, elsewhere, at=GEN2) == [Outcome.NEW_ALIAS]


def test_the_original_found_after_its_republication_brings_its_metadata(
    sessions: sessionmaker[Session], archive_url: str
) -> None:
    """The earlier page takes the primary URL and the current version's content: its
    document row and references too."""
    republished = metadata(
        dataclasses.replace(
            MEASURES,
            url=MEASURES.url.replace("zfwjts/2024/3/18", "c102914/2024/3/25"),
            canonical_id="e" * 32,
            published_on=date(2024, 3, 25),
        ),
        published_on=date(2024, 3, 25),
        cited_numbers=[],
    )
    assert write(sessions, republished, MEASURES) == [Outcome.NEW, Outcome.NEW_ALIAS]
    [row] = raw_rows(archive_url, "SELECT url, published_on, versions FROM documents")
    assert row == {"url": MEASURES.url, "published_on": "2024-03-18", "versions": 1}
    cited = raw_rows(archive_url, "SELECT cited_number FROM document_citations ORDER BY 1")
    assert [c["cited_number"] for c in cited] == ["国办发〔2023〕15号", "川办发〔2019〕7号"]
    assert index_search(archive_url, "2024 AND 12 AND 办发") == [1]


def test_changes_carry_their_crawl_run(sessions: sessionmaker[Session], archive_url: str) -> None:
    with sessions.begin() as session:
        run_id = start_run(session, "sc_zhengwu", GEN2, 4242, "host", full=False, recovery=False).id
    write(sessions, MEASURES, run_id=run_id, at=GEN2)
    rows = raw_rows(archive_url, "SELECT change, run_id, spider FROM field_changes")
    assert rows == [{"change": "new", "run_id": run_id, "spider": "sc_zhengwu"}]


def test_citations_resolve_to_the_document_holding_the_number(
    sessions: sessionmaker[Session], archive_url: str
) -> None:
    write(sessions, MEASURES, OLD_MEASURES, READING)
    rows = raw_rows(
        archive_url,
        "SELECT citing_id, cited_number_raw, cited_number, cited_id, cited_url, cited_title "
        "FROM document_citations ORDER BY citing_id, cited_number",
    )
    assert rows == [
        {  # not archived: kept, unresolved
            "citing_id": 1,
            "cited_number_raw": "（国办发〔2023〕15号）",
            "cited_number": "国办发〔2023〕15号",
            "cited_id": None,
            "cited_url": None,
            "cited_title": None,
        },
        {
            "citing_id": 1,
            "cited_number_raw": "川办发〔2019〕7号",
            "cited_number": "川办发〔2019〕7号",
            "cited_id": 2,
            "cited_url": OLD_MEASURES.url,
            "cited_title": OLD_MEASURES.title,
        },
        {
            "citing_id": 3,
            "cited_number_raw": "川办发〔2024〕12号",
            "cited_number": "川办发〔2024〕12号",
            "cited_id": 1,
            "cited_url": MEASURES.url,
            "cited_title": MEASURES.title,
        },
    ]


def interpretations(url: str) -> list[tuple[Any, ...]]:
    rows = raw_rows(
        url,
        "SELECT interpretation_id, document_id, matched_by FROM document_interpretations "
        "ORDER BY interpretation_id, document_id",
    )
    return [tuple(row.values()) for row in rows]


def test_an_interpretation_is_matched_by_link_then_title_then_number(
    sessions: sessionmaker[Session], archive_url: str
) -> None:
    unquoted = READING.body.replace("《四川省农村供水保障办法》", "该办法")
    by_number = dataclasses.replace(metadata(READING, quoted_titles=[]), body=unquoted)
    write(sessions, MEASURES, by_number)
    assert interpretations(archive_url) == [(2, 1, "doc_number")]
    write(sessions, READING, at=GEN2)  # a new version quotes the 《title》 the notice contains
    assert interpretations(archive_url) == [(2, 1, "title")]
    linked = metadata(MEASURES, interpretations=[{"title": READING.title, "url": READING.url}])
    write(sessions, linked, at=GEN3)
    assert interpretations(archive_url) == [(2, 1, "link")]
    [row] = raw_rows(archive_url, "SELECT * FROM document_interpretations")
    assert (row["interpretation_url"], row["document_title"]) == (READING.url, MEASURES.title)


def test_an_interpretation_linking_its_document_is_matched(
    sessions: sessionmaker[Session], archive_url: str
) -> None:
    reading = metadata(
        READING,
        cited_numbers=[],
        quoted_titles=[],
        related=[{"title": "政策原文", "url": OLD_MEASURES.url}],
    )
    write(sessions, OLD_MEASURES, reading)
    assert interpretations(archive_url) == [(2, 1, "link")]


def test_the_search_index_holds_the_number(
    sessions: sessionmaker[Session], archive_url: str
) -> None:
    bare = dataclasses.replace(MEASURES, body=MEASURES_BODY)  # the number only in the metadata
    write(sessions, bare)
    assert index_search(archive_url, "2024 AND 12 AND 办发") == [1]
    renumbered = metadata(bare, doc_number_raw="川办规〔2025〕4号", doc_number="川办规〔2025〕4号")
    write(sessions, renumbered, at=GEN2)
    assert index_search(archive_url, "2025 AND 办规") == [1]
    assert index_search(archive_url, "2024 AND 办发") == []


# The pipeline's path: a fixture document page cleaned, validated, flattened and archived.

FIXTURE = SITE_COPY / "www.sc.gov.cn/10462/c102914/2023/5/16/8e2f4c1a9b7d4e3f8a6c5b2d1e0f9a87.shtml"


def fixture_document() -> DocumentPage:
    raw = FIXTURE.read_bytes()
    url = "https://" + str(FIXTURE.relative_to(SITE_COPY))
    document = document_from_page(page_text(raw, "text/html")[0], url)
    return DocumentPage(document, Fetch(url, url, 200, GEN1, raw, {"Content-Type": "text/html"}))


def test_document_record_flattens_a_document_with_what_it_cites() -> None:
    item = clean_document(fixture_document())
    document = item.document
    record = document_record(document)
    meta = record.document
    assert meta is not None and document.doc_number is not None
    assert (record.language, record.title, record.url) == ("zh", document.title, document.url)
    assert record.body == "\n\n".join(document.body)
    assert meta.doc_number == document.doc_number.normalised == "川府规〔2023〕3号"
    assert (meta.validity, meta.layout, meta.is_interpretation) == ("有效", document.layout, False)
    assert meta.interpretations == [
        {"title": k.title, "url": k.url} for k in document.interpretations
    ]
    numbers = [n for _raw, n in meta.cited_numbers]
    assert "川府规〔2023〕3号" not in numbers
    assert set(numbers) == {n.normalised for n in find_doc_numbers(record.body)} - {meta.doc_number}
    assert all(f"《{t}》" in record.body + record.title for t in meta.quoted_titles)
    assert [a["text"] for a in record.attachments] == [a.name for a in document.attachments]
    reading = dataclasses.replace(document, column_id="13299")
    assert document_record(reading).document.is_interpretation  # type: ignore[union-attr]


def test_a_document_page_goes_through_the_pipelines_into_the_archive(tmp_path: Path) -> None:
    database = tmp_path / "archive.sqlite3"
    crawler = get_crawler(
        Spider, {"GOVCRAWLER_DATABASE_URL": sqlite_url(database), "GOVCRAWLER_BATCH_SIZE": 1}
    )
    crawler.stats.open_spider()  # type: ignore[union-attr]
    crawler.stats.set_value("govcrawler/run/id", None)  # type: ignore[union-attr]
    archive = ArchivePipeline.from_crawler(crawler)
    archive.open_spider()
    item = fixture_document()
    for stage in (CleanPipeline, ValidatePipeline, DedupePipeline):
        item = stage.from_crawler(crawler).process_item(item)
    archive.process_item(item)
    archive.close_spider()
    [row] = raw_rows(sqlite_url(database), "SELECT doc_number, validity, layout FROM documents")
    assert row == {
        "doc_number": "川府规〔2023〕3号",
        "validity": "有效",
        "layout": item.document.layout,
    }
    assert crawler.stats.get_value("govcrawler/archive/new") == 1  # type: ignore[union-attr]
    blank = dataclasses.replace(item.document, body=())
    with pytest.raises(DropItem, match="missing_body"):
        ValidatePipeline.from_crawler(crawler).process_item(DocumentPage(blank, item.fetch))


def test_the_run_recorders_run_reaches_the_archives_changes(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "archive.sqlite3")
    crawler = get_crawler(Spider, {"GOVCRAWLER_DATABASE_URL": url, "GOVCRAWLER_BATCH_SIZE": 1})
    recorder = RunRecorder.from_crawler(crawler)
    spider = Spider.from_crawler(crawler, name="sc_zhengwu")
    crawler.stats.open_spider()  # type: ignore[union-attr]
    recorder.spider_opened(spider)
    run_id = crawler.stats.get_value("govcrawler/run/id")  # type: ignore[union-attr]
    assert run_id == recorder.run_id > 0  # known from the start, not only at the end
    archive = ArchivePipeline.from_crawler(crawler)
    archive.open_spider()
    archive.process_item(clean_document(fixture_document()))
    archive.close_spider()
    rows = raw_rows(url, "SELECT change, run_id, spider FROM field_changes")
    assert rows == [{"change": "new", "run_id": run_id, "spider": "sc_zhengwu"}]
