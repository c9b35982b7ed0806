"""Search over files (`storage.search.files`, `storage.search.file_hits`): a page is found by
the text of its current files too, with the same query language; the hit names the file and
its snippet is the file's. In SQLite and in PostgreSQL, on a small archive: pages written by
`storage.record_article`, their files by `storage.record_file`, which indexes their texts
(`storage.search.files.index_file_text`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

import storage
import storage.search.sqlite
from govcrawler.cli import main
from storage.search.files import reindex_file_text
from storage.search.ranking import DocumentFilter, search_articles
from tests.conftest import BACKENDS, new_database, postgres_server, raw_rows, url_of
from tests.test_search import search  # one way to run a query, for both test modules

SEEN = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
SITE = "https://www.sc.gov.cn/10462"
GOVERNMENT, OFFICE = "四川省人民政府", "四川省人民政府办公厅"
STUB = "详见附件。"
MEASURES_PDF = (
    "四川省促进民营经济高质量发展若干措施\n\n一、降低民营企业融资成本，扩大首贷和信用贷款规模。"
    "\n\nThe measures were drafted with the Zephyrine working group of the commerce department."
)
BULLETIN = "Quarterly bulletin of reservoir levels in the Min river basin, with flood warnings."
PANDA_FILE = "Survey tables: giant panda counts by county, and bamboo coverage."
OLD_BYTES = "An obsolete draft of the bulletin."


def page(key: str, body: str, day: date, **document: Any) -> storage.ArticleRecord:
    """A page as the pipeline hands it over; with `document` metadata, a document."""
    return storage.ArticleRecord(
        url=f"{SITE}/{'zfwjts' if document else '10765'}/{day:%Y/%m/%d}/{key}.shtml",
        canonical_id=hashlib.md5(key.encode()).hexdigest(),
        title=document.pop("title", f"Page {key}"),
        body=body,
        body_digest=hashlib.sha256(body.encode()).hexdigest(),
        published_on=day,
        column_id="zfwjts" if document else "10765",
        language="zh" if document else "en",
        template="contText",
        extraction_path="container",
        document=storage.DocumentRecord(published_on=day, layout="a", **document)
        if document
        else None,
    )


# Two documents whose bodies are stubs (the text is in the attachment), as many are.
DOCUMENTS = {
    "measures": (
        STUB,
        date(2024, 2, 5),
        "四川省人民政府关于印发若干措施的通知",
        GOVERNMENT,
        "有效",
    ),
    "roads": ("全文见附件。", date(2023, 6, 12), "关于农村公路的意见", OFFICE, "失效"),
}
PAGES = {
    **{
        key: page(key, body, day, title=title, issuer=issuer, validity=validity)
        for key, (body, day, title, issuer, validity) in DOCUMENTS.items()
    },
    "panda": page("panda", "The giant panda population grew in the park.", date(2022, 3, 1)),
    **{
        f"basin{n}": page(f"basin{n}", f"Water news number {n}.", date(2023, 7, n))
        for n in (1, 2, 3)
    },
}
# url → (text, linking pages, name); the bulletin is linked from three pages.
FILES = {
    f"{SITE}/files/measures.pdf": (MEASURES_PDF, ["measures"], "若干措施.pdf"),
    f"{SITE}/files/roads.docx": ("农村公路建设实施意见 全文", ["roads"], None),
    f"{SITE}/files/panda.xlsx": (PANDA_FILE, ["panda"], "panda survey"),
    f"{SITE}/files/bulletin.pdf": (BULLETIN, ["basin1", "basin2", "basin3"], "Bulletin"),
}


def store(session: Session, folder: Path, url: str, content: str, when: datetime = SEEN) -> int:
    """A PDF fetched from `url` with this text, as the pipeline hands it over; its blob id."""
    body = f"%PDF-1.7 {url} {content}".encode()
    digest = hashlib.sha256(body).hexdigest()
    (folder / digest).write_bytes(body)
    record = storage.FileRecord(
        *(url, url, 200, when, {"Content-Type": "application/pdf"}, "attachment"),
        *(folder / digest, len(body), digest, None, len(body), "pdf", "application/pdf"),
        text=storage.FileTextRecord(content, "ok", 1, "pypdf"),
    )
    file_id = storage.record_file(session, record).file_id
    found = session.execute(
        text("SELECT current_blob_id FROM site_file WHERE id = :f"), {"f": file_id}
    )
    return int(found.scalar_one())


def record_pages(session: Session, folder: Path) -> None:
    for key, record in PAGES.items():
        links = [
            {"url": url, "text": name} for url, (_, keys, name) in FILES.items() if key in keys
        ]
        storage.record_article(session, dataclasses.replace(record, attachments=links), SEEN)
    for url, (content, _, _) in FILES.items():
        if "panda" in url:  # its first bytes held "obsolete": the URL now serves other bytes
            store(session, folder, url, OLD_BYTES)
        store(session, folder, url, content, SEEN + timedelta(days=1))


@pytest.fixture(scope="module", params=BACKENDS)
def archive(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "postgresql":
        postgres_server()
    with new_database(request.param, tmp_path_factory.mktemp("files"), request) as url:
        engine = storage.open_archive(url)
        with storage.session_factory(engine).begin() as session:
            record_pages(session, tmp_path_factory.mktemp("spool"))
        engine.dispose()
        yield url


@pytest.fixture(scope="module")
def sessions(archive: str) -> Iterator[sessionmaker[Session]]:
    engine = storage.open_archive(archive)
    yield storage.session_factory(engine)
    engine.dispose()


def found(sessions: sessionmaker[Session], query: str, **options: Any) -> list[str]:
    """The keys of the pages found, sorted (one per hit: a page twice would show twice)."""
    return sorted(
        hit.url.rsplit("/", 1)[1].removesuffix(".shtml")
        for hit in search(sessions, query, **options)
    )


def test_a_word_only_in_a_pdf_finds_its_document_and_names_the_file(
    sessions: sessionmaker[Session],
) -> None:
    [hit] = search(sessions, "Zephyrine")
    assert hit.title == DOCUMENTS["measures"][2] and hit.matched_file is not None
    assert hit.matched_file.url == f"{SITE}/files/measures.pdf"
    assert hit.matched_file.name == "若干措施.pdf"
    assert "[Zephyrine]" in hit.snippet and hit.score > 0


def test_a_stub_body_document_is_found_by_its_attachment(sessions: sessionmaker[Session]) -> None:
    [hit] = search(sessions, "民营经济")  # its body: 详见附件。
    assert hit.matched_file is not None and "[民营经济]" in hit.snippet


def test_a_word_in_page_and_file_is_one_hit_from_the_page(sessions: sessionmaker[Session]) -> None:
    [hit] = search(sessions, "panda")
    assert hit.matched_file is None and hit.snippet.startswith("The giant [panda]")
    [hit] = search(sessions, "bamboo")  # only in the page's current file
    assert hit.matched_file is not None and hit.matched_file.name == "panda survey"
    assert found(sessions, "obsolete") == []  # only in the bytes its URL served before


def test_a_file_linked_from_three_pages_gives_three_hits(sessions: sessionmaker[Session]) -> None:
    assert found(sessions, "reservoir") == ["basin1", "basin2", "basin3"]
    files = {hit.matched_file.url for hit in search(sessions, "reservoir") if hit.matched_file}
    assert files == {f"{SITE}/files/bulletin.pdf"}


@pytest.mark.parametrize(
    ("query", "pages"),
    [
        ('"reservoir levels"', ["basin1", "basin2", "basin3"]),
        ('"levels reservoir"', []),
        ("Zephyrine OR bulletin", ["basin1", "basin2", "basin3", "measures"]),
        ("reservoir NOT warnings", []),
        ("(reservoir OR Zephyrine) NOT flood", ["measures"]),
        ("Zephyr*", ["measures"]),
        ("reserv* basin", ["basin1", "basin2", "basin3"]),
        ("融资", ["measures"]),
        ("贷", ["measures"]),
        ("公路", ["roads"]),
        ('"信用贷款规模"', ["measures"]),
        ("信用规模", []),
    ],
)
def test_the_query_language_over_file_text(
    sessions: sessionmaker[Session], query: str, pages: list[str]
) -> None:
    assert found(sessions, query) == pages


def test_a_common_query_walks_the_newest_files_first(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past RANK_WINDOW matching blobs SQLite walks them newest first and stops at `limit`
    pages (PostgreSQL ranks them all): the same pages, and the newest blob's page first."""
    monkeypatch.setattr(storage.search.sqlite, "RANK_WINDOW", 1)
    query = "reservoir OR Zephyrine"
    assert found(sessions, query) == ["basin1", "basin2", "basin3", "measures"]
    [hit] = search(sessions, query, limit=1)
    assert hit.matched_file is not None and hit.matched_file.url.endswith("/bulletin.pdf")
    assert found(sessions, query, since=date(2024, 1, 1)) == ["measures"]


def test_page_filters_apply_to_pages_found_by_files(sessions: sessionmaker[Session]) -> None:
    def with_filter(query: str, **wanted: str) -> list[str]:
        return found(sessions, query, documents_filter=DocumentFilter(**wanted))

    assert with_filter("Zephyrine", issuer=GOVERNMENT) == ["measures"]
    assert with_filter("Zephyrine", issuer=OFFICE) == []
    assert with_filter("Zephyrine OR 公路", validity="失效") == ["roads"]
    assert found(sessions, "Zephyrine", since=date(2024, 3, 1)) == []
    assert found(sessions, "reservoir", until=date(2023, 7, 2)) == ["basin1", "basin2"]
    assert len(found(sessions, "reservoir", limit=2)) == 2


def test_the_cli_names_the_file(archive: str) -> None:
    result = CliRunner().invoke(main, ["search", "Zephyrine", "--json", "--database", archive])
    assert result.exit_code == 0, result.output
    [hit] = json.loads(result.output)
    assert hit["matched_file"] == {"url": f"{SITE}/files/measures.pdf", "name": "若干措施.pdf"}
    result = CliRunner().invoke(main, ["search", "Zephyrine", "--database", archive])
    assert f"    in file {SITE}/files/measures.pdf (若干措施.pdf)\n" in result.output
    result = CliRunner().invoke(main, ["search", "panda", "--json", "--database", archive])
    assert json.loads(result.output)[0]["matched_file"] is None


def test_a_blobs_changed_text_leaves_no_old_index_rows(engine: Engine, tmp_path: Path) -> None:
    """A blob's text read again (a better reader): the old words find nothing, in the
    search and in the raw index."""
    with storage.session_factory(engine).begin() as session:
        links = [{"url": f"{SITE}/files/a.pdf", "text": "first.pdf"}]
        record = dataclasses.replace(PAGES["panda"], attachments=links)
        article_id = storage.record_article(session, record, SEEN).article_id
        blob_id = store(session, tmp_path, f"{SITE}/files/a.pdf", "alpha report 四川")
        assert [hit.article_id for hit in search_articles(session, "alpha")] == [article_id]
        reindex_file_text(
            session, blob_id, ("first.pdf", "alpha report 四川"), ("second.pdf", "beta 成都")
        )
    with storage.session_factory(engine)() as session:
        for query in ("alpha", "四川", "first"):
            assert search_articles(session, query) == []
        assert [hit.article_id for hit in search_articles(session, "成都")] == [article_id]
    url = url_of(engine)
    if engine.dialect.name == "postgresql":
        assert raw_rows(url, "SELECT blob_id FROM files_fts") == [{"blob_id": blob_id}]
        return
    match = "SELECT rowid FROM files_fts WHERE files_fts MATCH ?"
    assert [raw_rows(url, match, word) for word in ("alpha", "report", "四川", "first")] == [[]] * 4
    assert raw_rows(url, match, "beta") == [{"rowid": blob_id}]


def test_a_text_too_large_for_a_tsvector_is_still_indexed(engine: Engine, tmp_path: Path) -> None:
    """A long PDF's text, or a garbled text layer: PostgreSQL takes no lexeme of 2047 bytes
    and no tsvector over 1 MiB; what fits is indexed (the rest left out) and the write goes
    through, where it would fail the file's whole transaction."""
    chinese = "".join(chr(0x4E00 + (i * 7919) % 3000) for i in range(200_000))
    content = f"needle {'x' * 3000} {chinese}"
    with storage.session_factory(engine).begin() as session:
        links = [{"url": f"{SITE}/files/long.pdf"}]
        storage.record_article(
            session, dataclasses.replace(PAGES["panda"], attachments=links), SEEN
        )
        store(session, tmp_path, f"{SITE}/files/long.pdf", content)
    with storage.session_factory(engine)() as session:
        [hit] = search_articles(session, "needle")
        assert hit.matched_file is not None and hit.snippet.startswith("[needle]")
