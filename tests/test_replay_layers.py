"""Replay over several copies: the first that has a request's file answers it, a sidecar alone
in an upper copy answers its status (a page taken down), and any unreadable copy fails closed."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.utils.test import get_crawler

from govcrawler.crawl.replay import ReplayDownloadHandler, check_replay_dir, replay_dirs
from govcrawler.exceptions import BadSetting

SITE = "https://www.sc.gov.cn"
PAGE = "/10462/zfwjts/2025/4/22/9c3e5a7b1d2f4e6a8b0c2d4e6f8a0b1c.shtml"


def save(root: Path, path: str, text: str | None, meta: dict[str, object] | None = None) -> None:
    target = root / "www.sc.gov.cn" / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    if text is not None:
        target.write_text(text, encoding="utf-8")
    if meta is not None:
        target.with_name(target.name + ".meta.json").write_text(json.dumps(meta))


@pytest.fixture
def layers(tmp_path: Path) -> tuple[Path, Path]:
    lower, upper = tmp_path / "gen1", tmp_path / "gen2"
    save(lower, PAGE, "<html>有效性：尚未施行</html>")
    save(lower, "/10462/zfwjts/zfwj.shtml", "<html>landing 1</html>")
    save(
        lower, "/10462/c103047/2020/6/11/fec77427f475ba5f15b91d5ad04d91bc.shtml", "<html>函</html>"
    )
    save(upper, PAGE, "<html>有效性：有效</html>")
    save(
        upper,
        "/10462/c103047/2020/6/11/fec77427f475ba5f15b91d5ad04d91bc.shtml",
        None,
        {"status": 404},
    )
    (upper / "www.sc.gov.cn" / "10462" / "empty").mkdir(parents=True)
    return upper, lower


def serve(setting: object, path: str) -> tuple[int, bytes, object]:
    crawler = get_crawler(settings_dict={"GOVCRAWLER_REPLAY_DIR": setting})
    handler = ReplayDownloadHandler(crawler)
    response = asyncio.run(handler.download_request(Request(SITE + path)))
    assert crawler.stats is not None
    return response.status, response.body, crawler.stats


def test_the_upper_copy_wins_and_the_lower_answers_the_rest(layers: tuple[Path, Path]) -> None:
    upper, lower = layers
    setting = os.pathsep.join([str(upper), str(lower)])
    assert serve(setting, PAGE)[:2] == (200, "<html>有效性：有效</html>".encode())
    assert serve(setting, "/10462/zfwjts/zfwj.shtml")[:2] == (200, b"<html>landing 1</html>")
    assert serve(setting, "/10462/nowhere.shtml")[0] == 404
    # the other order: generation 1 on top
    assert serve([str(lower), str(upper)], PAGE)[1] == "<html>有效性：尚未施行</html>".encode()


def test_a_sidecar_alone_in_the_upper_copy_answers_its_status(layers: tuple[Path, Path]) -> None:
    upper, lower = layers
    path = "/10462/c103047/2020/6/11/fec77427f475ba5f15b91d5ad04d91bc.shtml"
    status, body, stats = serve([str(upper), str(lower)], path)
    assert (status, body) == (404, b"")
    assert stats.get_value("replay/withdrawn") == 1  # type: ignore[attr-defined]
    assert serve([str(lower)], path)[0] == 200  # generation 1 alone still has it


def test_replay_dirs_reads_a_list_or_a_path_list() -> None:
    assert replay_dirs(f"a{os.pathsep}b") == ["a", "b"]
    assert replay_dirs(["a", "b"]) == ["a", "b"]
    assert replay_dirs("a") == ["a"]
    assert replay_dirs("") == []


def test_any_unreadable_copy_fails_closed(layers: tuple[Path, Path], tmp_path: Path) -> None:
    upper, lower = layers
    check_replay_dir(os.pathsep.join([str(upper), str(lower)]))
    with pytest.raises(BadSetting, match="no directory"):
        check_replay_dir([str(upper), str(tmp_path / "missing")])
    with pytest.raises(BadSetting, match="names no directory"):
        check_replay_dir(os.pathsep)


def test_the_keyed_answers_of_generation_2_and_of_the_bad_api_are_named_by_their_request() -> None:
    from govcrawler.crawl.replay import KEYED_NAME, RESERVED_SUFFIXES, read_sidecar, request_suffix
    from tests.conftest import FIXTURES

    keyed = [
        path
        for root in (FIXTURES / "site-gen2", FIXTURES / "zh_api_bad")
        for path in root.rglob("*")
        if KEYED_NAME.search(path.name) and not path.name.endswith(RESERVED_SUFFIXES)
    ]
    assert len(keyed) >= 9
    for path in keyed:
        request = read_sidecar(path)["request"]
        assert path.name.endswith(request_suffix("POST", json.dumps(request["json"]).encode()))
