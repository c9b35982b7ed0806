"""Replay maps URLs to files of a wget --mirror copy, and never reads outside it."""

import json
from pathlib import Path

import pytest

from govcrawler.crawl.replay import ReplayRefused, read_sidecar, replay_path

SITE = "https://www.sc.gov.cn"


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    root = tmp_path / "copy"
    pages = root / "www.sc.gov.cn" / "10462" / "10758"
    pages.mkdir(parents=True)
    (pages / "index.shtml").write_text("<html>home</html>")
    (pages / "index.html").write_text("<html>directory index</html>")
    (pages / "list.shtml?page=2").write_text("<html>query page</html>")
    (pages / "moved.shtml").write_text("")
    (pages / "moved.shtml.meta.json").write_text(
        json.dumps({"status": 301, "headers": {"Location": f"{SITE}/10462/10758/index.shtml"}})
    )
    (pages / "a.shtml.expected.json").write_text("{}")
    (tmp_path / "secret.txt").write_text("outside the copy")
    return root


def test_a_url_maps_to_its_file(copy: Path) -> None:
    path = replay_path(copy, f"{SITE}/10462/10758/index.shtml")
    assert path is not None and path.read_text() == "<html>home</html>"


def test_a_directory_url_is_its_index_html_as_wget_saves_it(copy: Path) -> None:
    path = replay_path(copy, f"{SITE}/10462/10758/")
    assert path is not None and path.name == "index.html"


def test_a_query_string_is_part_of_the_file_name(copy: Path) -> None:
    path = replay_path(copy, f"{SITE}/10462/10758/list.shtml?page=2")
    assert path is not None and path.read_text() == "<html>query page</html>"


def test_a_missing_page_and_the_sidecars_are_not_pages(copy: Path) -> None:
    assert replay_path(copy, f"{SITE}/10462/10758/nothing.shtml") is None
    assert replay_path(copy, f"{SITE}/10462/10758/moved.shtml.meta.json") is None
    assert replay_path(copy, f"{SITE}/10462/10758/a.shtml.expected.json") is None
    assert replay_path(copy, "https://www.other.example/10462/10758/index.shtml") is None


@pytest.mark.parametrize(
    "path",
    [
        "/10462/../../secret.txt",
        "/10462/%2e%2e/%2E%2E/secret.txt",
        "/10462/10758/..%2f..%2f..%2fsecret.txt",
        "/10462/10758/%5c..%5csecret.txt",
    ],
)
def test_traversal_is_refused_never_read(copy: Path, path: str) -> None:
    with pytest.raises(ReplayRefused):
        replay_path(copy, f"{SITE}{path}")


def test_a_symlink_out_of_the_copy_is_refused(copy: Path, tmp_path: Path) -> None:
    link = copy / "www.sc.gov.cn" / "10462" / "leak.shtml"
    link.symlink_to(tmp_path / "secret.txt")
    with pytest.raises(ReplayRefused):
        replay_path(copy, f"{SITE}/10462/leak.shtml")


def test_the_saved_status_and_headers_are_read_from_the_sidecar(copy: Path) -> None:
    page = replay_path(copy, f"{SITE}/10462/10758/moved.shtml")
    assert page is not None
    saved = read_sidecar(page)
    assert saved["status"] == 301
    assert saved["headers"]["Location"].endswith("/10462/10758/index.shtml")
    assert read_sidecar(copy / "www.sc.gov.cn" / "10462" / "10758" / "index.shtml") == {}
