"""Captures of the list API's answers (revision 0011: `capture.method`, `capture.request_body`):
a revisit is the same URL, method, request body and bytes; an archive upgraded from 0010 says
GET for every capture; the Chinese crawl of the saved site captures each answer with its query
(a second run: revisits); the WARC export puts a `request` record before each such answer."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect
from warcio.archiveiterator import ArchiveIterator

import storage
from govcrawler.crawl.replay import canonical_body, request_suffix
from govcrawler.extract.zhapi import API_URL
from storage.db import _alembic_config
from tests.conftest import GOVCRAWLER, ROOT, SITE_COPY, raw_rows, url_of
from tests.test_cli_archive import WARCIO, cli, ok, query
from tests.test_storage_history import LATER, SEEN

ANSWER = b'{"results": []}'
QUERY_A, QUERY_B = b'{"pageNum": 1}', b'{"pageNum": 2}'
API_DIR = SITE_COPY / "www.sc.gov.cn" / "cms-scsrmzf"
# The saved answers of the list API: `<name>.POST-<16 hex of sha256(body)>` (crawl/replay.py).
ANSWERS = sorted(path for path in API_DIR.glob("*.POST-*") if not path.name.endswith(".json"))


def keep(engine: Engine, method: str, body: bytes | None, seen=SEEN) -> storage.Capture:
    record = storage.CaptureRecord(
        API_URL, API_URL, 200, seen, ANSWER, kind="list", method=method, request_body=body
    )
    with storage.session_factory(engine).begin() as session:
        return storage.record_capture(session, record)


def test_a_revisit_is_the_same_request_and_bytes(engine: Engine) -> None:
    first = keep(engine, "POST", QUERY_A)
    other_query = keep(engine, "POST", QUERY_B)  # same URL, same bytes: another series' page
    as_get = keep(engine, "GET", None)
    again = keep(engine, "POST", QUERY_A, LATER)
    get_again = keep(engine, "GET", None, LATER)
    assert (first.revisit_of, other_query.revisit_of, as_get.revisit_of) == (None, None, None)
    assert (again.revisit_of, get_again.revisit_of) == (first.id, as_get.id)
    rows = raw_rows(url_of(engine), "SELECT method, is_revisit FROM captures ORDER BY id")
    assert [(r["method"], r["is_revisit"]) for r in rows] == [
        ("POST", 0),
        ("POST", 0),
        ("GET", 0),
        ("POST", 1),
        ("GET", 1),
    ]
    bodies = raw_rows(url_of(engine), "SELECT request_body FROM capture ORDER BY id")
    assert [bytes(r["request_body"]) if r["request_body"] else None for r in bodies] == [
        QUERY_A,
        QUERY_B,
        None,
        QUERY_A,
        None,
    ]


def test_0011_from_0010_says_get_for_every_capture_and_downgrades(engine: Engine) -> None:
    keep(engine, "GET", None)
    keep(engine, "POST", QUERY_A)
    url = url_of(engine)
    config = _alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0010")
    columns = {column["name"] for column in inspect(engine).get_columns("capture")}
    assert not columns & {"method", "request_body"}
    assert "method" not in {column["name"] for column in inspect(engine).get_columns("captures")}
    # the POST's answer stays, as a capture of its URL (0010 knew no other request)
    assert raw_rows(url, "SELECT id, url FROM captures ORDER BY id") == [
        {"id": 1, "url": API_URL},
        {"id": 2, "url": API_URL},
    ]
    storage.upgrade_archive(engine)
    assert raw_rows(url, "SELECT method FROM captures ORDER BY id") == [{"method": "GET"}] * 2
    assert raw_rows(url, "SELECT request_body FROM capture") == [{"request_body": None}] * 2
    assert keep(engine, "POST", QUERY_A).method == "POST"  # and new rows say theirs


# --- the crawl of the saved site, its WARC ---------------------------------------------------


def crawl(database: Path, *extra: str) -> str:
    command = [*GOVCRAWLER, "crawl", "--spider", "sc_zwgk", "--replay", str(SITE_COPY)]
    command += ["--database", f"sqlite:///{database}", *extra]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Path, str]:
    """(the archive after one crawl, its summary, a copy crawled again in full, its summary)."""
    folder = tmp_path_factory.mktemp("api-captures")
    first, second = folder / "once.sqlite3", folder / "twice.sqlite3"
    summary = crawl(first)
    shutil.copyfile(first, second)
    return first, summary, second, crawl(second, "--full")


def saved_queries() -> list[bytes]:
    """The query each saved answer was saved for (its sidecar's `request.json`), spelled as
    replay names files (`canonical_body`): the one its file name's hash is of."""
    bodies = []
    for answer in ANSWERS:
        meta = json.loads(answer.with_name(answer.name + ".meta.json").read_text("utf-8"))
        body = canonical_body(json.dumps(meta["request"]["json"]).encode())
        assert answer.name.endswith(request_suffix("POST", body))
        bodies.append(body)
    return sorted(bodies)


def list_counts(archive: Path, method: str) -> tuple[int, int]:
    """(stored, revisits) of the list captures of `method`."""
    sql = "SELECT COUNT(*) - SUM(is_revisit), SUM(is_revisit) FROM captures"
    found = query(archive, f"{sql} WHERE kind = 'list' AND method = ?", method)[0]
    return int(found[0] or 0), int(found[1] or 0)


@pytest.mark.slow
def test_the_crawl_captures_each_answer_of_the_list_api_with_its_query(crawled) -> None:
    first, summary, _, _ = crawled
    assert ANSWERS  # (12 in the saved site)
    rows = query(first, "SELECT request_body, body_sha256 FROM capture WHERE method = 'POST'")
    assert sorted(canonical_body(bytes(body)) for body, _ in rows) == saved_queries()
    assert sorted(digest for _, digest in rows) == sorted(
        hashlib.sha256(answer.read_bytes()).hexdigest() for answer in ANSWERS
    )
    assert query(first, "SELECT DISTINCT url, kind FROM captures WHERE method = 'POST'") == [
        (API_URL, "list")
    ]
    pages, api = list_counts(first, "GET"), list_counts(first, "POST")
    assert api == (len(ANSWERS), 0)
    assert f"list pages {pages[0] + api[0]} stored, 0 revisits" in summary  # 12 more
    assert query(first, "SELECT COUNT(*) FROM capture WHERE method = 'GET' AND request_body")[
        0
    ] == (0,)


@pytest.mark.slow
def test_a_second_run_finds_the_same_answers_revisits(crawled) -> None:
    first, _, second, summary = crawled
    before = list_counts(first, "GET")[0] + list_counts(first, "POST")[0]
    pages, api = list_counts(second, "GET"), list_counts(second, "POST")
    assert api == (len(ANSWERS), len(ANSWERS))  # each query's answer repeated: a revisit
    assert pages[0] == before - len(ANSWERS)
    assert f"list pages 0 stored, {pages[1] + api[1]} revisits" in summary


@pytest.mark.slow
def test_the_warc_holds_each_answer_after_its_request(crawled, tmp_path: Path) -> None:
    _, _, second, _ = crawled
    target = tmp_path / "api.warc.gz"
    result = cli(second, "export", "--format", "warc", "-o", str(target))
    ok(result)
    assert f"{2 * len(ANSWERS)} requests of non-GET captures" in result.stderr
    check = subprocess.run([WARCIO, "check", str(target)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    with target.open("rb") as stream:
        found = [
            (
                record.rec_type,
                dict(record.rec_headers.headers),
                record.http_headers.protocol if record.http_headers else None,
                record.http_headers.statusline if record.http_headers else None,
                record.content_stream().read(),
            )
            for record in ArchiveIterator(stream)
        ]
    requests = [i for i, (kind, *_) in enumerate(found) if kind == "request"]
    assert len(requests) == 2 * len(ANSWERS)  # the first run's responses, the second's revisits
    answered = []
    for i in requests:
        _, fields, method, target_line, body = found[i]
        answer_kind, answer_fields, *_ = found[i + 1]  # its answer, right after it
        assert answer_kind in ("response", "revisit")
        assert (method, target_line) == ("POST", "/cms-scsrmzf/qryZFWJListByConditionsNew HTTP/1.1")
        assert fields["WARC-Target-URI"] == answer_fields["WARC-Target-URI"] == API_URL
        assert fields["WARC-Concurrent-To"] == answer_fields["WARC-Record-ID"]
        answered.append((answer_kind, canonical_body(body)))
    queries = saved_queries()
    assert sorted(body for kind, body in answered if kind == "response") == queries
    assert sorted(body for kind, body in answered if kind == "revisit") == queries
