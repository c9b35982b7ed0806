"""End to end for the Chinese 政务公开: `govcrawler crawl --spider sc_zwgk` over the saved site
(generation 1), then again over generation 2 read over generation 1, into a real archive; what
a researcher reads of it (the views, `search`, `show`, `changes`) against the fixtures'
expected outputs and `tests/fixtures/site/relations.json`."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from govcrawler.crawl.replay import canonical_body
from govcrawler.extract.zhapi import API_URL
from tests.conftest import GOVCRAWLER, ROOT, SITE_COPY

pytestmark = pytest.mark.slow

SITE_GEN2 = SITE_COPY.parent / "site-gen2"
RELATIONS = json.loads((SITE_COPY / "relations.json").read_text("utf-8"))
DOCUMENT_FIELDS = ("issuer", "written_on", "published_on", "validity", "abolished_on", "layout")


def expected_documents(root: Path) -> dict[str, dict[str, Any]]:
    """The expected output of every document page under `root`, by URL."""
    found = {}
    for path in sorted(root.rglob("*.expected.json")):
        data = json.loads(path.read_text("utf-8"))
        page = path.with_name(path.name.removesuffix(".expected.json"))
        if data.get("page_type") == "document" and page.is_file():
            found[data["url"]] = data
    return found


GEN1 = expected_documents(SITE_COPY)
GEN2 = GEN1 | expected_documents(SITE_GEN2)


def crawl(database: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [*GOVCRAWLER, "crawl", "--spider", "sc_zwgk", "--database", f"sqlite:///{database}"]
    result = subprocess.run(
        [*command, *args], capture_output=True, text=True, cwd=ROOT, timeout=240
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(generation 1's archive, the same archive after a full crawl of generation 2)."""
    folder = tmp_path_factory.mktemp("documents")
    first, second = folder / "gen1.sqlite3", folder / "gen2.sqlite3"
    crawl(first, "--replay", str(SITE_COPY))
    shutil.copyfile(first, second)
    crawl(second, "--full", "--replay", str(SITE_GEN2), "--replay", str(SITE_COPY))
    yield first, second


def rows(database: Path, sql: str, *args: object) -> list[sqlite3.Row]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        connection.row_factory = sqlite3.Row
        return connection.execute(sql, args).fetchall()


def cli(database: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*GOVCRAWLER, *args, "--database", f"sqlite:///{database}"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def test_every_fixture_document_is_archived_once_with_its_metadata(archives) -> None:
    database, _ = archives
    archived = {row["url"]: row for row in rows(database, "SELECT * FROM documents")}
    assert archived.keys() == GEN1.keys()
    for url, expected in GEN1.items():
        row = archived[url]
        number = expected["doc_number"]
        assert row["title"] == " ".join(expected["title"].split()), url
        assert row["doc_number"] == ((number["normalised"] or None) if number else None), url
        assert row["doc_number_raw"] == (number["raw"] if number else None), url
        assert {name: row[name] for name in DOCUMENT_FIELDS} == {
            name: expected[name] for name in DOCUMENT_FIELDS
        }, url
        assert row["versions"] == 1, url


def test_nothing_off_www_is_requested_or_stored(archives) -> None:
    database, _ = archives
    urls = [row["url"] for row in rows(database, "SELECT url FROM capture")]
    assert urls and all(url.startswith("https://www.sc.gov.cn/") for url in urls)
    assert not [url for url in urls if "sc.gov.cn/10462/10758/" in url]  # the English section


def test_citations_resolve_to_the_documents_that_hold_the_numbers(archives) -> None:
    database, _ = archives
    found = {
        (row["citing_url"], row["cited_number"]): row["cited_url"]
        for row in rows(database, "SELECT * FROM document_citations")
    }
    expected = {
        (c["citing_url"], c["cited_number"]): c["cited_url"] for c in RELATIONS["citations"]
    }
    assert {pair: found.get(pair, "missing") for pair in expected} == expected
    assert any(url is None for url in expected.values())  # unresolved numbers are kept


def test_interpretations_link_to_their_documents(archives) -> None:
    database, _ = archives
    found = {
        (row["interpretation_url"], row["document_url"], row["matched_by"])
        for row in rows(database, "SELECT * FROM document_interpretations")
    }
    expected = {
        (i["interpretation_url"], i["document_url"], i["matched_by"])
        for i in RELATIONS["interpretations"]
    }
    assert expected <= found
    assert {by for _, _, by in expected} == {"link", "title", "doc_number"}


@pytest.mark.parametrize(
    "query",
    ["川府发〔2018〕19号", "川府发[2018]19号", "川府发（2018）19号", "川府发 【2018】 19 号"],
)
def test_search_by_number_in_any_bracket_form_finds_the_document_first(archives, query) -> None:
    database, _ = archives
    result = cli(database, "search", query, "--json")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    holder = next(
        url
        for url, doc in GEN1.items()
        if (doc["doc_number"] or {}).get("normalised") == "川府发〔2018〕19号"
    )
    assert hits[0]["url"] == holder and hits[0]["number_match"] is True


def test_show_accepts_a_number(archives) -> None:
    database, _ = archives
    result = cli(database, "show", "川办发[2021]37号", "--json")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["document"]["doc_number"] == "川办发〔2021〕37号"


def test_generation_two_changes_are_new_versions_with_old_and_new_values(archives) -> None:
    _, database = archives
    changes = {
        (row["url"], row["field"]): (row["old_value"], row["new_value"])
        for row in rows(database, "SELECT * FROM field_changes WHERE change = 'changed'")
    }
    changed = 0
    for url, now in expected_documents(SITE_GEN2).items():
        before = GEN1.get(url)
        if before is None:
            continue
        for field in ("validity", "abolished_on", "title"):
            if before[field] != now[field]:
                changed += 1
                assert changes[(url, field)] == (before[field], now[field]), (url, field)
        numbers = [(d["doc_number"] or {}).get("raw") for d in (before, now)]
        if numbers[0] != numbers[1]:
            changed += 1
            assert changes[(url, "doc_number")] == tuple(numbers), url
        version = rows(database, "SELECT versions FROM documents WHERE url = ?", url)
        assert version[0]["versions"] == 2, url
    assert changed >= 5  # three validity changes, a new number, a new title at least


def test_the_withdrawn_document_is_marked_not_deleted(archives) -> None:
    _, database = archives
    gone = [
        path
        for path in SITE_GEN2.rglob("*.shtml.meta.json")  # a page: not a file
        if not path.with_name(path.name.removesuffix(".meta.json")).exists()
    ]
    assert gone
    for sidecar in gone:
        url = "https://" + sidecar.relative_to(SITE_GEN2).as_posix().removesuffix(".meta.json")
        row = rows(database, "SELECT withdrawn_at, title FROM documents WHERE url = ?", url)
        assert row and row[0]["withdrawn_at"] is not None and row[0]["title"] == GEN1[url]["title"]
        kinds = rows(database, "SELECT change FROM field_changes WHERE url = ?", url)
        assert [k["change"] for k in kinds if k["change"] == "withdrawn"] == ["withdrawn"]


def test_changes_since_lists_what_generation_two_changed(archives) -> None:
    _, database = archives
    result = cli(database, "changes", "--since", "2000-01-01", "--field", "validity", "--json")
    assert result.returncode == 0, result.stderr
    listed = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    validity = {
        url
        for url, now in expected_documents(SITE_GEN2).items()
        if url in GEN1 and GEN1[url]["validity"] != now["validity"]
    }
    assert {change["url"] for change in listed} == validity and len(validity) >= 3
    assert all(c["kind"] == "document" and c["spider"] == "sc_zwgk" for c in listed)


def test_the_demo_crawls_both_halves_of_the_saved_site(tmp_path: Path) -> None:
    """`make demo`'s command: every spider, one summary each, a healthy exit."""
    database = tmp_path / "demo.sqlite3"
    command = [
        *GOVCRAWLER,
        "crawl",
        "--replay",
        str(SITE_COPY),
        "--database",
        f"sqlite:///{database}",
    ]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=240)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "spider: sc_open_governance" in result.stdout and "spider: sc_zwgk" in result.stdout
    assert f"documents: {len(GEN1)} extracted" in result.stdout
    assert rows(database, "SELECT COUNT(*) AS n FROM documents")[0]["n"] == len(GEN1)
    assert "PROBLEM" not in result.stderr


def test_exports_carry_a_documents_metadata(archives, tmp_path: Path) -> None:
    database, _ = archives
    out = tmp_path / "archive.jsonl"
    assert cli(database, "export", "--format", "jsonl", "-o", str(out)).returncode == 0
    exported = {row["url"]: row for row in map(json.loads, out.read_text("utf-8").splitlines())}
    for url, expected in GEN1.items():
        number = expected["doc_number"]
        assert exported[url]["doc_number_raw"] == (number["raw"] if number else None), url
        assert exported[url]["validity"] == expected["validity"], url
        assert exported[url]["column_path"] == expected["column_path"], url


def test_list_pages_are_captured_each_run_and_unchanged_ones_are_revisits(archives) -> None:
    """'What did this column (or API series) list on day D': every list page and list API
    answer read in each run is a capture; generation 2's changed lists and answers store their
    new bytes, the others point at the first. A capture is its request: URL and query."""
    _, database = archives
    changed = {
        ("https://" + path.relative_to(SITE_GEN2).as_posix(), None)
        for path in SITE_GEN2.rglob("*.shtml")
        if not path.name.endswith((".expected.json", ".meta.json"))
        and not (path.with_name(path.name + ".expected.json")).exists()
    }
    changed |= {(API_URL, query) for query in gen2_api_queries()}
    captures = rows(
        database,
        "SELECT url, request_body, revisit_of IS NOT NULL AS is_revisit FROM capture"
        " WHERE kind = 'list' ORDER BY id",
    )
    latest = {request_of(row): row["is_revisit"] for row in captures}
    assert changed and changed <= latest.keys()
    assert all(latest[request] == 0 for request in changed)
    unchanged = [request for request in latest if request not in changed]
    assert unchanged and all(latest[request] == 1 for request in unchanged)
    assert any(url == API_URL for url, _ in unchanged)


def request_of(row: sqlite3.Row) -> tuple[str, bytes | None]:
    """A list capture's request: its URL and query (spelled as replay names it), None for a
    GET."""
    body = row["request_body"]
    return row["url"], canonical_body(body) if body is not None else None


def gen2_api_queries() -> set[bytes]:
    """The queries whose saved answer generation 2 changed (its `.POST-…` files with bytes
    other than generation 1's), spelled as replay names them."""
    found = set()
    for path in SITE_GEN2.rglob("*.POST-*"):
        first = SITE_COPY / path.relative_to(SITE_GEN2)
        if path.name.endswith(".json") or (
            first.is_file() and first.read_bytes() == path.read_bytes()
        ):
            continue
        meta = json.loads(path.with_name(path.name + ".meta.json").read_text("utf-8"))
        found.add(canonical_body(json.dumps(meta["request"]["json"]).encode()))
    assert found, "generation 2 changes no answer of the list API"
    return found
