"""Expected outputs of fixture pages: `update_expected` rewrites each `<page>.expected.json`
from the current extraction, by the page's `page_type` (an article unless the file says
"document"), and says what changed as a unified diff."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govcrawler.crawl.replay import RESERVED_SUFFIXES, read_sidecar
from govcrawler.exceptions import ExtractionError, FixtureError
from govcrawler.extract.article import article_from_page
from govcrawler.extract.document import document_from_page
from govcrawler.extract.encoding import page_text
from govcrawler.extract.urls import HOST

SITE_FIXTURES = Path("tests/fixtures/site")
EXPECTED_SUFFIX = ".expected.json"


@dataclass(frozen=True)
class ExpectedChange:
    """What the current extraction changes in a page's expected output."""

    page: Path
    fields: tuple[str, ...] = ()
    diff: str = ""  # unified diff of `<page>.expected.json`; empty when unchanged
    text: str = ""  # the new file
    error: str | None = None

    def report(self) -> str:
        what = ", ".join(self.fields) or "new expected output"
        return f"{self.page}: {what}\n{self.diff}" if self.diff else ""


def expected_file(page: Path) -> Path:
    return page.with_name(page.name + EXPECTED_SUFFIX)


def fixture_pages(paths: Iterable[Path]) -> list[Path]:
    """The pages named: a page (or one of its sidecars), or a directory: its pages that
    already have an expected output. None named: those under tests/fixtures/site."""
    named = list(paths)
    if not named and not SITE_FIXTURES.is_dir():
        raise FixtureError(f"no {SITE_FIXTURES} here: name the pages, or run in the project")
    pages: list[Path] = []
    for path in named or [SITE_FIXTURES]:
        if path.is_dir():
            found = [
                f.with_name(f.name.removesuffix(EXPECTED_SUFFIX))
                for f in path.rglob("*" + EXPECTED_SUFFIX)
            ]
            # An expected file with no page beside it (relations.json) is no page's.
            pages.extend(sorted(page for page in found if page.is_file()))
            continue
        name = path.name
        for suffix in RESERVED_SUFFIXES:
            name = name.removesuffix(suffix)
        if not path.with_name(name).is_file():
            raise FixtureError(f"no fixture page {path.with_name(name)}")
        pages.append(path.with_name(name))
    return list(dict.fromkeys(pages))


def page_url(page: Path) -> str:
    """The URL a fixture page was saved from, read from its path in the replay layout."""
    parts = page.absolute().parts
    if HOST not in parts:
        raise FixtureError(f"{page} is not in the replay layout (no {HOST}/ in its path)")
    at = len(parts) - 1 - parts[::-1].index(HOST)
    return f"https://{HOST}/" + "/".join(parts[at + 1 :])


# Each page type's extraction, as its expected output is written (`"page_type"` in the file;
# articles' files carry none).
EXTRACTORS: dict[str, Callable[[str, str], dict[str, Any]]] = {
    "article": lambda html, url: article_from_page(html, url).as_json(),
    "document": lambda html, url: document_from_page(html, url).as_json(),
}


def page_type(page: Path) -> str:
    """The type its expected output names; a page without one is an article."""
    target = expected_file(page)
    try:
        old = json.loads(target.read_text(encoding="utf-8")) if target.is_file() else {}
    except ValueError:
        old = {}
    kind = old.get("page_type", "article") if isinstance(old, dict) else "article"
    if kind not in EXTRACTORS:
        raise FixtureError(f"{target}: unknown page_type {kind!r} (known: {', '.join(EXTRACTORS)})")
    return str(kind)


def extracted(page: Path) -> dict[str, Any]:
    """The current extraction of a fixture page by its page type's extractor."""
    headers = {k.lower(): v for k, v in (read_sidecar(page).get("headers") or {}).items()}
    text, _ = page_text(page.read_bytes(), headers.get("content-type"))
    extract = EXTRACTORS[page_type(page)]
    output: dict[str, Any] = json.loads(json_text(extract(text, page_url(page))))
    return output


def expected_change(page: Path) -> ExpectedChange:
    target = expected_file(page)
    try:
        new = extracted(page)
        before = target.read_text(encoding="utf-8") if target.is_file() else ""
    except (ExtractionError, FixtureError, OSError, ValueError) as error:
        return ExpectedChange(page, error=f"{page}: {error}")
    try:
        old = json.loads(before) if before else None
    except ValueError:
        old = None  # not JSON: rewritten whole
    if old == new:
        return ExpectedChange(page)
    fields: list[str] = []
    if isinstance(old, dict):  # diff in the new key order, so only the values show
        before = json_text({**{k: old[k] for k in new if k in old}, **old})
        fields = [k for k in new if old.get(k, ...) != new[k]] + [k for k in old if k not in new]
    after, name = json_text(new), target.as_posix()
    diff = difflib.unified_diff(before.splitlines(True), after.splitlines(True), name, name)
    return ExpectedChange(page, tuple(fields), "".join(diff), after)


def update_expected(pages: Iterable[Path], *, write: bool = True) -> list[ExpectedChange]:
    """Compare each page's expected output with the current extraction; with `write`,
    rewrite those that differ. A page that cannot be extracted is reported, not written."""
    changes = [expected_change(page) for page in pages]
    for change in changes:
        if write and change.diff:
            expected_file(change.page).write_text(change.text, encoding="utf-8")
    return changes


def json_text(data: Any) -> str:
    """JSON as the fixture files are written: indented, UTF-8 as is, a final newline."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
