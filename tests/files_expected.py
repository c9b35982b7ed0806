"""What the archive must make of the replay sites' files, read from tests/fixtures/site/FILES.md
(the fixtures' own table, written from their cases), and the crawls the file tests run.

The oracle is independent of the code under test: the expected kind, state, text status,
phrase and linking pages are FILES.md's words; digests and sizes are computed here from the
fixture bytes on disk."""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import subprocess
import zlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg.rows import dict_row
from sqlalchemy.engine import make_url

from tests.conftest import GOVCRAWLER, ROOT, SITE_COPY

SITE_GEN2 = SITE_COPY.parent / "site-gen2"
FILES_MD = (SITE_COPY / "FILES.md").read_text("utf-8")
PDF_ONLY_WORD = re.search(r"The PDF-only word: `([^`]+)`", FILES_MD).group(1)  # type: ignore[union-attr]
PAGES = "https://www.sc.gov.cn/10462/"

# The media type a file's bytes name, by the kind FILES.md gives (RAR has two in use).
MEDIA_TYPES = {
    "pdf": {"application/pdf"},
    "docx": {"application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    "xlsx": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    "html": {"text/html"},
    "rar": {"application/vnd.rar", "application/x-rar-compressed"},
    "jpeg": {"image/jpeg"},
}


@dataclass(frozen=True)
class ExpectedFile:
    """A row of FILES.md's tables."""

    id: str  # A1 … A23, I1 … I10
    path: str  # on www.sc.gov.cn, raw (the Chinese names unencoded)
    case: str
    kind: str | None  # file_blob.kind; None: no body
    subtype: str | None  # "jpeg" of "image (jpeg)"
    state: str
    text_status: str | None
    phrase: str | None
    phrase_gen2: str | None
    linked_from: tuple[str, ...]  # article URL prefixes

    @property
    def role(self) -> str:
        return "image" if self.id.startswith("I") else "attachment"

    @property
    def url(self) -> str:
        return "https://www.sc.gov.cn" + quote(self.path)

    @property
    def media_types(self) -> set[str]:
        return MEDIA_TYPES[self.subtype or self.kind or ""]

    def fixture(self, site: Path = SITE_COPY) -> Path:
        return site / "www.sc.gov.cn" / self.path.lstrip("/")

    @cached_property
    def body(self) -> bytes:
        return self.fixture().read_bytes()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    @property
    def kept(self) -> bool:
        """Whether the archive keeps a body of it (generation 1)."""
        return self.state == "stored"


def _word(cell: str) -> str | None:
    found = re.match(r"[a-z_0-9]+", cell)
    return found.group(0) if found else None


def _row(line: str) -> ExpectedFile:
    cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
    attachment = cells[0].startswith("A")
    kind = re.match(r"([a-z0-9_]+)(?: \((\w+)\))?", cells[3])
    phrase = cells[6] if attachment and cells[6] != "—" else None
    gen2 = re.fullmatch(r"(.*?) \(gen 2: (.*)\)", phrase) if phrase else None
    return ExpectedFile(
        id=cells[0],
        path=cells[1].strip("`"),
        case=cells[2],
        kind=kind.group(1) if kind else None,
        subtype=kind.group(2) if kind else None,
        state=str(_word(cells[4])),
        text_status=_word(cells[5]),
        phrase=gen2.group(1) if gen2 else phrase,
        phrase_gen2=gen2.group(2) if gen2 else None,
        linked_from=tuple(PAGES + p.rstrip("…") for p in re.findall(r"`([^`]+)`", cells[-1])),
    )


EXPECTED = [_row(line) for line in FILES_MD.splitlines() if re.match(r"\| [AI]\d+ \|", line)]
BY_ID = {file.id: file for file in EXPECTED}
assert EXPECTED and len(BY_ID) == len(EXPECTED), "FILES.md: one row per file, ids unique"


def expected(predicate_text: str) -> ExpectedFile:
    """The one file whose case (FILES.md's words) says `predicate_text`."""
    found = [file for file in EXPECTED if predicate_text in file.case]
    assert len(found) == 1, (predicate_text, [file.id for file in found])
    return found[0]


Database = Path | str  # a SQLite archive's file, or a PostgreSQL archive's URL


def database_url(database: Database) -> str:
    return f"sqlite:///{database}" if isinstance(database, Path) else database


def rows(database: Database, sql: str, *args: object) -> list[Any]:
    """The rows of `sql` (`?` parameters), each read by column name."""
    if isinstance(database, Path):
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
            connection.row_factory = sqlite3.Row
            return connection.execute(sql, args).fetchall()
    url = make_url(database).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, row_factory=dict_row) as connection:
        return connection.execute(sql.replace("?", "%s"), args).fetchall()


def blob_bytes(database: Database, blob_id: int) -> bytes:
    """A stored body, from its chunks (zlib, as the schema says), in order."""
    chunks = rows(database, "SELECT data FROM file_chunk WHERE blob_id = ? ORDER BY seq", blob_id)
    return b"".join(zlib.decompress(chunk["data"]) for chunk in chunks)


def crawl(database: Database, spool: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`govcrawler crawl` (both spiders) into `database`, bodies spooled under `spool`, which
    must be empty again when it is over; INFO log (the stats) on stderr."""
    spool.mkdir(parents=True, exist_ok=True)
    command = [*GOVCRAWLER, "crawl", "--database", database_url(database), "--log-level", "INFO"]
    env = os.environ | {"GOVCRAWLER_SPOOL_DIR": str(spool)}
    result = subprocess.run(
        [*command, *args], capture_output=True, text=True, cwd=ROOT, timeout=300, env=env
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "crawl stopped early" not in result.stdout + result.stderr, result.stderr[-3000:]
    lost = re.findall(r"ERROR: archive write failed.*", result.stderr)
    assert not lost, f"the crawl exited 0 and said finished, but: {lost}"
    left = sorted(str(p.relative_to(spool)) for p in spool.rglob("*"))
    assert not left, f"the crawl left files in the spool: {left}"
    return result


def stats(result: subprocess.CompletedProcess[str], prefix: str) -> dict[str, int]:
    """The govcrawler counters of a crawl's stats dumps (summed over the spiders) under
    `prefix`, keyed by the rest of their name."""
    found: dict[str, int] = {}
    for name, value in re.findall(r"'(govcrawler/[^']+)': (\d+)", result.stderr):
        if name.startswith(prefix):
            found[name[len(prefix) :]] = found.get(name[len(prefix) :], 0) + int(value)
    return found


def age(database: Path, days: int) -> None:
    """Make the archive's crawl `days` older: what it fetched and saw, `days` earlier."""
    shift = f"strftime('%Y-%m-%d %H:%M:%f000', {{0}}, '-{days} days')"
    with sqlite3.connect(database) as connection:
        for table, column in (
            ("capture", "fetched_at"),
            ("article", "last_seen_at"),
            ("article_alias", "last_seen_at"),
            ("site_file", "last_fetched_at"),
            ("site_file", "last_seen_at"),
        ):
            connection.execute(f"UPDATE {table} SET {column} = {shift.format(column)}")
    connection.close()
