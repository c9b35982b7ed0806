from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from govcrawler.extract.encoding import page_text

FIXTURES = Path(__file__).parent / "fixtures"
SITE_COPY = FIXTURES / "site"


@dataclass(frozen=True)
class FixturePage:
    """An article page of the saved site and the extraction it must give."""

    path: Path
    url: str
    expected: dict

    @property
    def id(self) -> str:
        return self.path.relative_to(SITE_COPY).as_posix()

    def html(self) -> str:
        """The page decoded as the crawler decodes it (declared charset, else detection)."""
        content_type = None
        sidecar = self.path.with_name(self.path.name + ".meta.json")
        if sidecar.is_file():
            headers = json.loads(sidecar.read_text(encoding="utf-8")).get("headers", {})
            content_type = headers.get("Content-Type")
        text, _ = page_text(self.path.read_bytes(), content_type)
        return text


def fixture_pages() -> list[FixturePage]:
    pages = []
    for expected_file in sorted(SITE_COPY.rglob("*.expected.json")):
        page = expected_file.with_name(expected_file.name.removesuffix(".expected.json"))
        url = "https://" + page.relative_to(SITE_COPY).as_posix()
        pages.append(FixturePage(page, url, json.loads(expected_file.read_text("utf-8"))))
    return pages
