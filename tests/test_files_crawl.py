"""Issue 14's "done means" for files, end to end: real replay crawls of the fixture site (both
spiders, `govcrawler crawl` in a subprocess) checked against tests/fixtures/site/FILES.md and
the fixture bytes (tests/files_expected.py); the runs after it are in test_files_recrawl.py."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import GOVCRAWLER, ROOT, SITE_COPY, postgres_server
from tests.files_expected import (
    BY_ID,
    EXPECTED,
    PDF_ONLY_WORD,
    Database,
    ExpectedFile,
    blob_bytes,
    crawl,
    database_url,
    expected,
    rows,
    stats,
)

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Crawled:
    database: Database
    result: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def gen1(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Crawled]:
    """Generation 1 crawled into a SQLite archive, and into a PostgreSQL one."""
    folder = tmp_path_factory.mktemp(f"files-gen1-{request.param}")
    if request.param == "sqlite":
        database = folder / "archive.sqlite3"
        yield Crawled(database, crawl(database, folder / "spool", "--replay", str(SITE_COPY)))
        return
    postgres_server()
    databases = request.getfixturevalue("postgres_databases")
    url = databases.create()
    try:
        yield Crawled(url, crawl(url, folder / "spool", "--replay", str(SITE_COPY)))
    finally:
        databases.drop(url)


def site_file(database: Database, file: ExpectedFile) -> dict:
    found = rows(database, "SELECT * FROM site_file WHERE url = ?", file.url)
    assert len(found) == 1, f"{file.id} {file.url}: {len(found)} site_file rows"
    return dict(found[0])


def blob_of(database: Database, file: ExpectedFile) -> dict:
    found = rows(
        database,
        "SELECT b.* FROM file_blob b JOIN site_file f ON f.current_blob_id = b.id WHERE f.url = ?",
        file.url,
    )
    assert len(found) == 1, f"{file.id}: no current blob"
    return dict(found[0])


def cli(database: Database, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*GOVCRAWLER, *args, "--database", database_url(database)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result


def test_every_kept_file_is_stored_exactly_once(gen1: Crawled) -> None:
    kept = [file for file in EXPECTED if file.kept]
    blobs = {row["sha256"] for row in rows(gen1.database, "SELECT sha256 FROM file_blob")}
    assert len(blobs) == len(rows(gen1.database, "SELECT id FROM file_blob"))
    assert blobs == {file.sha256 for file in kept}
    urls = [row["url"] for row in rows(gen1.database, "SELECT url FROM site_file")]
    assert sorted(urls) == sorted(file.url for file in EXPECTED)


def test_the_file_of_three_pages_is_one_blob_and_three_links(gen1: Crawled) -> None:
    file = expected("**one file, three pages**")
    links = rows(
        gen1.database,
        "SELECT a.url, l.role FROM file_link l JOIN site_file f ON f.id = l.file_id"
        " JOIN article a ON a.id = l.article_id WHERE f.url = ?",
        file.url,
    )
    assert len(links) == 3 and {link["role"] for link in links} == {"attachment"}
    same = rows(gen1.database, "SELECT id FROM file_blob WHERE sha256 = ?", file.sha256)
    assert len(same) == 1
    assert site_file(gen1.database, file)["current_blob_id"] == same[0]["id"]


def test_two_image_urls_with_the_same_bytes_share_one_blob(gen1: Crawled) -> None:
    copy = expected("**same bytes under another URL**")
    twins = [file for file in EXPECTED if file.kept and file.sha256 == copy.sha256]
    assert len(twins) == 2, "the fixture: two image URLs, one body"
    ids = {site_file(gen1.database, file)["current_blob_id"] for file in twins}
    assert len(ids) == 1 and None not in ids
    assert stats(gen1.result, "govcrawler/archive/").get("file_duplicate") == 1


@pytest.mark.parametrize("file", EXPECTED, ids=lambda file: file.id)
def test_each_file_is_archived_as_files_md_says(gen1: Crawled, file: ExpectedFile) -> None:
    row = site_file(gen1.database, file)
    assert (row["kind"], row["state"]) == (file.role, file.state)
    if not file.kept:
        return  # the gone and too_large cases: their own tests
    assert row["status"] == 200
    blob = blob_of(gen1.database, file)
    assert (blob["sha256"], blob["length"]) == (file.sha256, len(file.body))
    assert blob["kind"] == file.kind
    assert blob["media_type"] in file.media_types
    assert blob["text_status"] == file.text_status
    if file.phrase:
        assert file.phrase in (blob["text"] or ""), blob["text"]
    stored = blob_bytes(gen1.database, blob["id"])
    assert hashlib.sha256(stored).hexdigest() == file.sha256, "the chunks are not the file"


@pytest.mark.parametrize("file", EXPECTED, ids=lambda file: file.id)
def test_each_file_is_linked_from_the_pages_files_md_names(
    gen1: Crawled, file: ExpectedFile
) -> None:
    pages = rows(
        gen1.database,
        "SELECT a.url, l.role FROM file_link l JOIN site_file f ON f.id = l.file_id"
        " JOIN article a ON a.id = l.article_id WHERE f.url = ?",
        file.url,
    )
    assert {page["role"] for page in pages} == {file.role}
    assert len(pages) == len(file.linked_from)
    for prefix in file.linked_from:
        assert [page for page in pages if page["url"].startswith(prefix)], prefix


def test_the_image_only_pdf_is_flagged_and_counted(gen1: Crawled) -> None:
    scan = expected("image-only PDF")
    assert blob_of(gen1.database, scan)["text_status"] == "no_text_layer"
    flagged = [f for f in EXPECTED if f.text_status == "no_text_layer"]
    assert stats(gen1.result, "govcrawler/archive/file_text/")["no_text_layer"] == len(flagged)
    assert "no_text_layer 1" in gen1.result.stdout


def test_the_200_mb_file_is_recorded_not_stored(gen1: Crawled) -> None:
    big = expected("209715200")
    row = site_file(gen1.database, big)
    assert (row["state"], row["declared_length"]) == ("too_large", 209715200)
    assert row["current_blob_id"] is None
    captures = rows(gen1.database, "SELECT * FROM capture WHERE url = ?", big.url)
    assert [(c["omitted"], c["body"]) for c in captures] == [("too_large", None)]
    assert not rows(gen1.database, "SELECT id FROM file_blob WHERE sha256 = ?", big.sha256)
    assert len(rows(gen1.database, "SELECT id FROM file_blob")) == len(
        {f.sha256 for f in EXPECTED if f.kept}
    ), "a chunk or blob of the big file"


def test_the_too_large_file_is_counted_once(gen1: Crawled) -> None:
    too_large = [f for f in EXPECTED if f.state == "too_large"]
    assert stats(gen1.result, "govcrawler/files/").get("too_large") == len(too_large)


def test_the_404_attachment_is_gone(gen1: Crawled) -> None:
    missing = expected("404: linked, no file")
    row = site_file(gen1.database, missing)
    assert (row["state"], row["status"], row["current_blob_id"]) == ("gone", 404, None)
    assert row["gone_at"] is not None


def test_a_word_only_in_a_pdf_finds_its_document_and_names_the_file(gen1: Crawled) -> None:
    pdf = next(f for f in EXPECTED if f.phrase and PDF_ONLY_WORD in f.phrase)
    hits = json.loads(cli(gen1.database, "search", PDF_ONLY_WORD, "--json").stdout)
    assert len(hits) == 1, hits
    assert hits[0]["url"].startswith(pdf.linked_from[0])
    assert hits[0]["matched_file"]["url"] == pdf.url
    assert pdf.url in cli(gen1.database, "search", PDF_ONLY_WORD).stdout  # the human output


@pytest.mark.parametrize("file_id", ["A22", "A2", "A5"])
def test_show_lists_a_pages_files_with_their_state(gen1: Crawled, file_id: str) -> None:
    file = BY_ID[file_id]
    page = rows(gen1.database, "SELECT id FROM article WHERE url LIKE ?", file.linked_from[0] + "%")
    shown = cli(gen1.database, "show", str(page[0]["id"])).stdout.splitlines()
    at = [n for n, line in enumerate(shown) if file.url in line]
    assert at, f"{file.url} not in show's output"
    assert shown[at[0] + 1].strip().startswith(file.state), shown[at[0] : at[0] + 2]


def test_the_attachments_view_has_a_row_per_link_as_files_md_says(gen1: Crawled) -> None:
    view = [dict(row) for row in rows(gen1.database, "SELECT * FROM attachments")]
    assert len(view) == sum(len(file.linked_from) for file in EXPECTED)
    for file in EXPECTED:
        mine = [row for row in view if row["url"] == file.url]
        assert len(mine) == len(file.linked_from), file.id
        for row in mine:
            assert (row["role"], row["state"]) == (file.role, file.state), file.id
            if file.kept:
                assert (row["sha256"], row["length"]) == (file.sha256, len(file.body)), file.id
                assert row["text_status"] == file.text_status, file.id


def test_export_files_writes_each_stored_file_once(gen1: Crawled, tmp_path: Path) -> None:
    cli(gen1.database, "export", "--format", "files", str(tmp_path / "out"))
    out = tmp_path / "out"
    written = {p.name.split(".")[0]: p for p in out.iterdir() if not p.name.endswith(".text.txt")}
    index = written.pop("index")
    assert set(written) == {file.sha256 for file in EXPECTED if file.kept}
    for digest, path in written.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    lines = [json.loads(line) for line in index.read_text("utf-8").splitlines()]
    for line in lines:  # the text read from a file, beside it
        if line["text_file"]:
            text = (out / line["text_file"]).read_text("utf-8")
            phrase = next(f.phrase for f in EXPECTED if f.url == line["url"])
            assert phrase is None or phrase in text, line["url"]
    for file in EXPECTED:
        pages = [line["page_url"] for line in lines if line["url"] == file.url]
        assert len(pages) == len(file.linked_from) or not file.kept, file.id
        for prefix in file.linked_from if file.kept else ():
            assert [page for page in pages if page.startswith(prefix)], (file.id, prefix)


def test_the_captures_view_shows_each_file_capture(gen1: Crawled) -> None:
    shown = rows(gen1.database, "SELECT * FROM captures WHERE kind IN ('attachment', 'image')")
    assert sorted(row["url"] for row in shown) == sorted(file.url for file in EXPECTED)
    for row in shown:
        file = next(f for f in EXPECTED if f.url == row["url"])
        assert row["kind"] == file.role
        assert row["omitted"] == ("too_large" if file.state == "too_large" else None), file.id
        if file.kept:
            assert (row["body_sha256"], row["body_length"]) == (file.sha256, len(file.body))


def test_show_prints_the_text_read_from_a_pages_files(gen1: Crawled) -> None:
    """The document linking the PDF-only word's PDF shows it with --files-text, not without."""
    hits = json.loads(cli(gen1.database, "search", PDF_ONLY_WORD, "--json").stdout)
    page = str(hits[0]["article_id"])
    assert PDF_ONLY_WORD not in cli(gen1.database, "show", page).stdout
    assert PDF_ONLY_WORD in cli(gen1.database, "show", page, "--files-text").stdout
    shown = json.loads(cli(gen1.database, "show", page, "--files-text", "--json").stdout)
    assert any(PDF_ONLY_WORD in (file["text"] or "") for file in shown["files"])
