"""The researcher-facing commands (search, show, export, stats) and the Datasette metadata, on
archives made by real replay crawls of the saved site (one per scenario, built once).

Expectations come from the fixtures' `.expected.json` files, never from hard-coded titles or
counts.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import storage
from govcrawler.cli import main
from tests.conftest import (
    ENGLISH_ONLY,
    GOVCRAWLER,
    SITE_COPY,
    FixturePage,
    ReplayCrawl,
    fixture_pages,
)

ROOT = Path(__file__).resolve().parent.parent
PAGES = fixture_pages()
# The republished copy (under /newsdlb/) is an alias of an original: one article, two URLs.
ALIASES = [page for page in PAGES if "/newsdlb/" in page.url]
ARTICLES = [page for page in PAGES if page not in ALIASES]
WARCIO = Path(sys.executable).parent / "warcio"
METADATA = ROOT / "datasette" / "metadata.json"
NEW_SENTENCE = "This sentence was written into the page when it was edited."


def crawl(site: Path, database: Path, *extra: str) -> None:
    """The real crawl, in a subprocess, as a user runs it."""
    command = [sys.executable, "-c", "from govcrawler.cli import main; main()", "crawl"]
    command += [*ENGLISH_ONLY, "--replay", str(site), "--database", f"sqlite:///{database}", *extra]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]


def copy_archive(source: Path, target: Path) -> Path:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return target


def query(database: Path, sql: str, *params: object) -> list[tuple]:
    connection = sqlite3.connect(database)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def cli(database: Path, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--database", f"sqlite:///{database}"])


def ok(result: Result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def assert_one_line_error(result: Result) -> None:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # not a crash
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ") and result.stderr.strip().count("\n") == 0
    assert "Traceback" not in result.output


def containing(word: str, pages: list[FixturePage] = ARTICLES) -> set[str]:
    """URLs of the fixture articles whose title or body has `word` as a whole word."""
    pattern = re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE)
    return {
        page.url
        for page in pages
        if pattern.search(page.expected["title"] + "\n" + "\n".join(page.expected["body"]))
    }


def article_id(database: Path, url: str) -> int:
    return query(database, "SELECT id FROM articles WHERE url = ?", url)[0][0]


def alias_and_original() -> tuple[FixturePage, FixturePage]:
    alias = ALIASES[0]
    original = next(p for p in ARTICLES if p.expected["body"] == alias.expected["body"])
    return alias, original


def edit_target() -> tuple[FixturePage, str]:
    """An article page and a sentence of its body that occurs once in its bytes."""
    for page in ARTICLES:
        raw = page.path.read_bytes()
        for paragraph in page.expected["body"][1:]:
            sentence = paragraph.split(". ")[0].rstrip(".") + "."
            if len(sentence) > 40 and raw.count(sentence.encode("utf-8")) == 1:
                return page, sentence
    raise AssertionError("no fixture page has a sentence to edit")


@pytest.fixture
def archive(crawled_archive: Path) -> Path:
    """The saved site crawled once: a copy of the session's shared crawl (tests/conftest.py)."""
    return crawled_archive


@pytest.fixture(scope="module")
def recrawled(replay_crawl: ReplayCrawl, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the archive crawled a second time in full, the site unchanged."""
    path = replay_crawl.copy(tmp_path_factory.mktemp("recrawled") / "archive.sqlite3")
    crawl(SITE_COPY, path, "--full")
    return path


@pytest.fixture(scope="module")
def edited(
    replay_crawl: ReplayCrawl, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, str, str]:
    """A copy of the archive after crawling a copy of the site with one sentence changed."""
    base = tmp_path_factory.mktemp("edited")
    site = base / "site"
    shutil.copytree(SITE_COPY, site)
    page, sentence = edit_target()
    copy = site / page.path.relative_to(SITE_COPY)
    copy.write_bytes(copy.read_bytes().replace(sentence.encode(), NEW_SENTENCE.encode()))
    path = replay_crawl.copy(base / "archive.sqlite3")
    crawl(site, path, "--full")  # a known article is only re-read when due, or in full
    return path, page.url, sentence


# search


def pages_by_text(archive: Path, hits: list[dict[str, Any]], word: str) -> set[str]:
    """The pages of `hits` found by their own text; each found by a file's text instead is
    checked to be a page without the word whose file has it."""
    found = {hit["url"] for hit in hits if hit["matched_file"] is None}
    for hit in hits:
        if hit["matched_file"] is not None:
            assert hit["url"] not in found
            assert word.lower() in file_text_of(archive, hit["matched_file"]["url"]).lower()
    return found


def file_text_of(archive: Path, url: str) -> str:
    """The text the archive read from the file at `url`."""
    with sqlite3.connect(archive) as db:
        query = (
            "SELECT b.text FROM site_file AS f JOIN file_blob AS b ON b.id = f.current_blob_id"
            " WHERE f.url = ?"
        )
        return db.execute(query, (url,)).fetchone()[0]


@pytest.mark.parametrize("word", ["panda", "flood", "investment"])
def test_search_finds_exactly_the_articles_with_the_word(archive: Path, word: str) -> None:
    expected = containing(word)
    assert expected, f"no fixture article has {word!r}"
    hits = json.loads(ok(cli(archive, "search", word, "--json", "--limit", "100")))
    assert pages_by_text(archive, hits, word) == expected
    snippets = [hit["snippet"].lower() for hit in hits]
    assert all(f"[{word}]" in snippet for snippet in snippets if word in snippet)
    text = ok(cli(archive, "search", word))
    assert f"[{word}]" in text.lower()
    for hit in hits[:20]:
        assert hit["url"] in text and str(hit["article_id"]) in text


def with_text(text: str) -> set[str]:
    """URLs of the fixture articles whose title or body contains `text` (Chinese: a substring)."""
    return {
        page.url
        for page in ARTICLES
        if text in page.expected["title"] + "\n" + "\n".join(page.expected["body"])
    }


@pytest.mark.parametrize("word", ["四川", "政府", "成都", "工作报告", "人民政府", "汶"])
def test_search_finds_chinese_words_of_any_length(archive: Path, word: str) -> None:
    expected = with_text(word)
    assert expected, f"no fixture article has {word!r}"
    hits = json.loads(ok(cli(archive, "search", word, "--json", "--limit", "100")))
    assert pages_by_text(archive, hits, word) == expected
    assert all(f"[{word}]" in hit["snippet"] for hit in hits)


def test_search_phrase_and_prefix(archive: Path) -> None:
    phrase = "Report on the Work of the Government"
    hits = json.loads(ok(cli(archive, "search", f'"{phrase}"', "--json", "--limit", "100")))
    assert pages_by_text(archive, hits, phrase) == {
        p.url
        for p in ARTICLES
        if phrase.lower() in (p.expected["title"] + "\n" + "\n".join(p.expected["body"])).lower()
    }
    prefix = json.loads(ok(cli(archive, "search", "invest*", "--json", "--limit", "100")))
    words = re.compile(r"(?<!\w)invest\w*", re.IGNORECASE)
    assert pages_by_text(archive, prefix, "invest") == {
        p.url
        for p in ARTICLES
        if words.search(p.expected["title"] + "\n" + "\n".join(p.expected["body"]))
    }


def test_search_in_one_column(archive: Path) -> None:
    in_column = [page for page in ARTICLES if page.expected["column_id"] == "10766"]
    expected = containing("government", in_column)
    assert expected and expected != containing("government")
    hits = json.loads(
        ok(cli(archive, "search", "government", "--column", "10766", "--json", "--limit", "100"))
    )
    assert {hit["url"] for hit in hits} == expected


def test_search_with_dates_and_no_hits(archive: Path) -> None:
    dates = {page.url: page.expected["published_on"] for page in ARTICLES}
    hits = json.loads(
        ok(cli(archive, "search", "panda", "--since", "2019-01-01", "--json", "--limit", "100"))
    )
    assert {hit["url"] for hit in hits} == {
        url for url in containing("panda") if dates[url] >= "2019-01-01"
    }
    result = cli(archive, "search", "zyxwvutsrq")
    assert ok(result).strip() == "no articles match 'zyxwvutsrq'"


@pytest.mark.parametrize(
    "args",
    [
        ['"giant panda'],
        ["(panda"],
        ["panda AND"],
        ["panda", "--column", "no such column"],
        ["panda", "--since", "2020-02-30"],
        ["panda", "--until", "yesterday"],
    ],
)
def test_a_bad_search_is_one_line_and_exit_1(archive: Path, args: list[str]) -> None:
    assert_one_line_error(cli(archive, "search", *args))


# show


def test_show_by_id_url_http_url_and_alias_is_one_article(archive: Path) -> None:
    alias, original = alias_and_original()
    number = article_id(archive, original.url)
    forms = [
        str(number),
        original.url,
        original.url.replace("https://", "http://"),
        alias.url,
        alias.url.replace("https://", "http://"),
    ]
    shown = [json.loads(ok(cli(archive, "show", form, "--json"))) for form in forms]
    assert {article["id"] for article in shown} == {number}
    article = shown[0]
    assert article["url"] == original.url
    assert article["title"] == original.expected["title"]
    assert article["published_on"] == original.expected["published_on"]
    assert article["body"] == "\n\n".join(original.expected["body"])
    assert [a["url"] for a in article["aliases"]] == [alias.url]
    text = ok(cli(archive, "show", alias.url))
    assert original.expected["title"] in text and f"also at: {alias.url}" in text
    assert original.expected["body"][-1] in text


def test_show_lists_captions_images_and_attachments(archive: Path) -> None:
    page = next(p for p in ARTICLES if p.expected["images"] or p.expected["attachments"])
    shown = json.loads(ok(cli(archive, "show", page.url, "--json")))
    for field in ("captions", "images", "attachments"):
        assert shown[field] == page.expected[field]
    text = ok(cli(archive, "show", page.url))
    for item in page.expected["images"] + page.expected["attachments"]:
        assert item["url"] in text


@pytest.mark.parametrize("key", ["999999", "https://www.sc.gov.cn/10462/nothing.shtml", "x"])
def test_show_of_an_unknown_article_is_one_line_and_exit_1(archive: Path, key: str) -> None:
    assert_one_line_error(cli(archive, "show", key))


def test_show_of_one_version_has_nothing_to_diff(archive: Path) -> None:
    text = ok(cli(archive, "show", ARTICLES[0].url, "--versions", "--diff"))
    assert re.search(r"^  1  first seen ", text, re.MULTILINE)
    assert "only one version: nothing to diff" in text


@pytest.mark.slow
def test_an_edited_page_is_a_second_version_with_a_diff(edited: tuple[Path, str, str]) -> None:
    database, url, sentence = edited
    shown = json.loads(ok(cli(database, "show", url, "--versions", "--json")))
    assert [v["version_no"] for v in shown["versions"]] == [1, 2]
    assert shown["version_count"] == 2 and NEW_SENTENCE in shown["body"]
    versions = ok(cli(database, "show", url, "--versions"))
    assert re.search(r"^  1  first seen .*\n  2  first seen ", versions, re.MULTILINE)
    diff = ok(cli(database, "show", url, "--diff")).splitlines()
    assert any(line.startswith("--- version 1 (first seen ") for line in diff)
    assert any(line.startswith("+++ version 2 (first seen ") for line in diff)
    assert any(line.startswith("-") and sentence in line for line in diff)
    assert any(line.startswith("+") and NEW_SENTENCE in line for line in diff)
    stats = json.loads(ok(cli(database, "stats", "--json")))
    assert stats["articles_with_versions"] == 1


# export


def test_export_jsonl_is_one_article_per_line(archive: Path) -> None:
    lines = ok(cli(archive, "export", "--format", "jsonl")).splitlines()
    rows = [json.loads(line) for line in lines]
    by_url = {row["url"]: row for row in rows}
    assert len(rows) == len(by_url) == len(ARTICLES)
    for page in ARTICLES:
        row = by_url[page.url]
        assert row["title"] == page.expected["title"]
        assert row["published_on"] == page.expected["published_on"]
        for field in ("captions", "images", "attachments"):
            assert row[field] == page.expected[field], (page.url, field)


def test_export_jsonl_since_to_a_file(archive: Path, tmp_path: Path) -> None:
    target = tmp_path / "since.jsonl"
    result = cli(archive, "export", "--format", "jsonl", "--since", "2022-01-01", "-o", str(target))
    ok(result)
    rows = [json.loads(line) for line in target.read_text("utf-8").splitlines()]
    expected = {p.url for p in ARTICLES if p.expected["published_on"] >= "2022-01-01"}
    assert {row["url"] for row in rows} == expected
    assert result.stderr.strip() == f"{len(expected)} articles written to {target}"


def test_export_csv_has_a_header_and_a_row_per_article(archive: Path) -> None:
    reader = csv.DictReader(io.StringIO(ok(cli(archive, "export", "--format", "csv")), newline=""))
    rows = list(reader)
    assert reader.fieldnames and reader.fieldnames[:3] == ["id", "url", "title"]
    titles = {row["url"]: row["title"] for row in rows}
    assert titles == {page.url: page.expected["title"] for page in ARTICLES}


def warc_index(path: Path) -> list[dict[str, str]]:
    checked = subprocess.run([str(WARCIO), "check", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    fields = "warc-type,warc-target-uri,warc-date,warc-refers-to-target-uri,warc-refers-to-date"
    index = subprocess.run(
        [str(WARCIO), "index", "-f", fields, str(path)], capture_output=True, text=True
    )
    assert index.returncode == 0, index.stderr
    return [json.loads(line) for line in index.stdout.splitlines()]


def test_export_warc_passes_warcio_check(archive: Path, tmp_path: Path) -> None:
    target = tmp_path / "archive.warc.gz"
    result = cli(archive, "export", "--format", "warc", "-o", str(target))
    ok(result)
    records = warc_index(target)
    kinds = [record["warc-type"] for record in records]
    stored, omitted, revisits = query(
        archive,
        "SELECT COUNT(*) - COUNT(revisit_of) - COUNT(omitted), COUNT(omitted), COUNT(revisit_of)"
        " FROM capture",
    )[0]
    assert kinds[0] == "warcinfo"
    assert kinds.count("response") == stored and kinds.count("revisit") == revisits == 0
    assert kinds.count("metadata") == omitted > 0  # a file too large to keep: described
    assert len(records) == 1 + stored + omitted
    fetched = {
        (url, datetime.fromisoformat(at).replace(tzinfo=UTC))
        for url, at in query(archive, "SELECT final_url, fetched_at FROM capture")
    }
    written = {
        (r["warc-target-uri"], datetime.fromisoformat(r["warc-date"].replace("Z", "+00:00")))
        for r in records[1:]
    }
    assert written == fetched
    assert f"{len(records)} records" in result.stderr and str(target) in result.stderr


def test_every_exported_time_carries_its_zone_as_json_output_does(archive: Path) -> None:
    """JSONL and CSV show times as `show --json` does: ISO 8601, UTC, `+00:00`."""
    rows = [
        json.loads(line)
        for line in ok(cli(archive, "export", "--format", "jsonl")).split("\n")
        if line
    ]
    csv_rows = list(csv.DictReader(io.StringIO(ok(cli(archive, "export", "--format", "csv")))))
    shown = json.loads(ok(cli(archive, "show", str(rows[0]["id"]), "--json")))
    assert rows[0]["first_seen_at"] == shown["first_seen_at"]
    for row in [*rows, *csv_rows]:
        for name in ("first_seen_at", "last_seen_at", "withdrawn_at"):
            if row[name]:
                moment = datetime.fromisoformat(row[name])
                assert moment.utcoffset() is not None and moment.utcoffset().total_seconds() == 0
                assert row[name].endswith("+00:00"), (name, row[name])


def test_dash_is_standard_output_for_every_format(archive: Path, tmp_path: Path) -> None:
    lines = ok(cli(archive, "export", "--format", "jsonl", "-o", "-")).splitlines()
    assert len(lines) == len(ARTICLES)
    assert not (ROOT / "-").exists() and not (Path.cwd() / "-").exists()
    command = [
        *GOVCRAWLER,
        "export",
        "--format",
        "warc",
        "-o",
        "-",
        "--database",
        f"sqlite:///{archive}",
    ]
    result = subprocess.run(command, capture_output=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "-").exists()
    target = tmp_path / "stdout.warc.gz"
    target.write_bytes(result.stdout)
    assert warc_index(target)[0]["warc-type"] == "warcinfo"
    assert b"written to stdout" in result.stderr


def test_export_warc_needs_a_file_and_a_good_date(archive: Path) -> None:
    assert_one_line_error(cli(archive, "export", "--format", "warc"))
    assert_one_line_error(cli(archive, "export", "--format", "csv", "--since", "2024-1-1x"))


# a second crawl: revisits


@pytest.mark.slow
def test_an_unchanged_recrawl_stores_revisits_only(archive: Path, recrawled: Path) -> None:
    before = json.loads(ok(cli(archive, "stats", "--json")))
    after = json.loads(ok(cli(recrawled, "stats", "--json")))
    assert after["revisits"] > 0
    assert after["stored_bodies"] == before["stored_bodies"]
    assert after["stored_bytes"] == before["stored_bytes"]
    assert (after["stored_files"], after["file_stored_bytes"]) == (
        before["stored_files"],
        before["file_stored_bytes"],
    )
    # every new capture repeats earlier bytes, or is a file's answer with none to keep (its
    # 404, the file too large to keep): nothing new is stored
    bodiless = (
        "SELECT COUNT(*) FROM capture WHERE body_sha256 = '' AND kind IN ('attachment', 'image')"
    )
    new_bodiless = query(recrawled, bodiless)[0][0] - query(archive, bodiless)[0][0]
    assert new_bodiless > 0  # the saved site's 404 and 200 MB files
    assert after["captures"] == before["captures"] + after["revisits"] + new_bodiless
    assert after["versions"] == before["versions"] and after["articles"] == before["articles"]


@pytest.mark.slow
def test_export_warc_of_revisits_passes_warcio_check(recrawled: Path, tmp_path: Path) -> None:
    target = tmp_path / "recrawled.warc.gz"
    ok(cli(recrawled, "export", "--format", "warc", "-o", str(target)))
    records = warc_index(target)
    stored, revisits = query(
        recrawled,
        "SELECT COUNT(*) - COUNT(revisit_of) - COUNT(omitted), COUNT(revisit_of) FROM capture",
    )[0]
    responses = [r for r in records if r["warc-type"] == "response"]
    revisited = [r for r in records if r["warc-type"] == "revisit"]
    assert len(responses) == stored and len(revisited) == revisits > 0
    originals = {(r["warc-target-uri"], r["warc-date"]) for r in responses}
    for record in revisited:
        refers_to = (record["warc-refers-to-target-uri"], record["warc-refers-to-date"])
        assert refers_to in originals
        assert record["warc-date"] > record["warc-refers-to-date"]
    first, last = query(recrawled, "SELECT MIN(fetched_at), MAX(fetched_at) FROM capture")[0]
    everything, nothing = tmp_path / "all.warc.gz", tmp_path / "none.warc.gz"
    ok(cli(recrawled, "export", "--format", "warc", "--since", first[:10], "-o", str(everything)))
    assert len(warc_index(everything)) == len(records)
    after = (datetime.fromisoformat(last) + timedelta(days=1)).date().isoformat()
    ok(cli(recrawled, "export", "--format", "warc", "--since", after, "-o", str(nothing)))
    assert [r["warc-type"] for r in warc_index(nothing)] == ["warcinfo"]


# stats


def test_stats_counts_equal_what_sqlite_says(archive: Path) -> None:
    stats = json.loads(ok(cli(archive, "stats", "--json")))
    one = lambda sql: query(archive, sql)[0][0]  # noqa: E731
    assert stats["articles"] == one("SELECT COUNT(*) FROM article") == len(ARTICLES)
    assert stats["versions"] == one("SELECT COUNT(*) FROM article_version")
    assert stats["aliases"] == one("SELECT COUNT(*) FROM article_alias") == len(ALIASES)
    assert stats["near_duplicates"] == one("SELECT COUNT(*) FROM near_duplicate")
    assert stats["withdrawn"] == one("SELECT COUNT(*) FROM article WHERE withdrawn_at IS NOT NULL")
    assert stats["captures"] == one("SELECT COUNT(*) FROM capture")
    assert stats["stored_bodies"] == one("SELECT COUNT(body) FROM capture")
    assert stats["revisits"] == one("SELECT COUNT(revisit_of) FROM capture")
    pages = "FROM capture WHERE kind IN ('page', 'list')"
    assert stats["raw_bytes"] == one(f"SELECT SUM(body_length) {pages}")
    assert stats["file_captures"] == stats["captures"] - one(f"SELECT COUNT(*) {pages}") > 0
    assert stats["stored_bytes"] == one("SELECT SUM(LENGTH(body)) FROM capture")
    assert stats["files"] == one("SELECT COUNT(*) FROM site_file") > 0
    assert stats["stored_files"] == one("SELECT COUNT(*) FROM file_blob") > 0
    assert stats["file_raw_bytes"] == one("SELECT SUM(length) FROM file_blob")
    assert stats["file_stored_bytes"] == one("SELECT SUM(LENGTH(data)) FROM file_chunk")
    assert stats["schema_revision"] == one("SELECT version_num FROM alembic_version")
    assert stats["schema_revision"] == storage.head_revision()
    assert stats["first_fetch"][:19] == one("SELECT MIN(fetched_at) FROM capture")[:19].replace(
        " ", "T"
    )
    assert stats["file_bytes"] >= archive.stat().st_size
    columns = {c["column_id"]: c["articles"] for c in stats["per_column"]}
    assert columns == {
        column: sum(p.expected["column_id"] == column for p in ARTICLES)
        for column in {p.expected["column_id"] for p in ARTICLES}
    }
    years = {y["year"]: y["articles"] for y in stats["per_year"]}
    assert sum(years.values()) == len(ARTICLES)
    text = ok(cli(archive, "stats"))
    assert f"articles: {len(ARTICLES)} " in text and "captures: " in text


def test_read_commands_never_create_an_archive(tmp_path: Path) -> None:
    missing = tmp_path / "missing.sqlite3"
    for args in (["stats"], ["search", "panda"], ["show", "1"], ["export", "--format", "csv"]):
        assert_one_line_error(cli(missing, *args))
    assert not missing.exists()


# Datasette


def chinese_article(database: Path) -> str:
    """Add an article in Chinese to the archive (the saved site has none); returns its URL."""
    text = json.loads((ROOT / "tests/fixtures/near_duplicates/chinese.json").read_text("utf-8"))
    body = text["original"]
    url = "https://www.sc.gov.cn/10462/10758/10760/10765/2024/4/22/c0ffee00c0ffee00c0ffee00c0ffee00.shtml"
    record = storage.ArticleRecord(
        url=url,
        canonical_id="c0ffee00c0ffee00c0ffee00c0ffee00",
        title="四川省政府常务会议部署春耕生产",
        body=body,
        body_digest="chinese-fixture",
        published_on=datetime(2024, 4, 22).date(),
        column_id="10765",
        language="zh",
        template="artleft",
        extraction_path="container",
    )
    engine = storage.open_archive(f"sqlite:///{database}")
    try:
        with storage.session_factory(engine).begin() as session:
            storage.record_article(session, record, datetime.now(UTC))
    finally:
        engine.dispose()
    return url


def test_datasette_searches_english_and_chinese_with_facets(archive: Path, tmp_path: Path) -> None:
    from datasette.app import Datasette

    database = copy_archive(archive, tmp_path / "archive.sqlite3")
    added = chinese_article(database)
    metadata = json.loads(METADATA.read_text("utf-8"))

    async def fetch() -> tuple[list[dict], list[dict], dict]:
        ds = Datasette([str(database)], metadata=metadata)
        english = await ds.client.get("/archive/articles.json?_search=panda&_shape=array")
        chinese = await ds.client.get("/archive/articles.json?_search=四川&_shape=array")
        table = await ds.client.get("/archive/articles.json?_shape=objects")
        return english.json(), chinese.json(), table.json()

    english, chinese, table = asyncio.run(fetch())
    assert {row["url"] for row in english} == containing("panda")
    assert {row["url"] for row in chinese} == {added} | {
        p.url for p in ARTICLES if "四川" in p.expected["title"] + "".join(p.expected["body"])
    }
    facets = table["facet_results"]
    assert set(facets) == {"column_name", "year"}
    assert sum(value["count"] for value in facets["year"]["results"]) == len(ARTICLES) + 1
    dates = [row["published_on"] for row in table["rows"]]
    assert dates == sorted(dates, reverse=True)
