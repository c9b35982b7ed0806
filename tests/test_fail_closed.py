"""Offline modes fail closed: a replay directory or gateway that is set but unusable stops the
crawl before its first request, under `scrapy crawl` and under `govcrawler crawl`.

"No request" is proved, not assumed: every run goes through an HTTP proxy on 127.0.0.1
(`https_proxy`, which Scrapy's HttpProxyMiddleware honours) that counts the connections it
gets. A control run without replay shows that a crawl that does go out is seen there.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from govcrawler.crawl.gateway import check_origin
from govcrawler.crawl.replay import check_replay_dir
from govcrawler.exceptions import BadSetting
from tests.conftest import SITE_COPY, scrapy_crawl

ROOT = Path(__file__).resolve().parent.parent
GOVCRAWLER = [sys.executable, "-c", "from govcrawler.cli import main; main()"]
# The same fast settings for every run: they change how long a live run takes, not whether
# an add-on lets the crawl start.
REFUSAL = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
FAST = {"RETRY_TIMES": 0, "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False}


class CountingProxy:
    """A listening socket that counts connections and refuses each."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.getsockname()[1]}"

    def _serve(self) -> None:
        while self.running:
            try:
                client, _ = self.server.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with client:  # a quick refusal, so a crawl that got here ends soon
                client.settimeout(2)
                with contextlib.suppress(OSError):
                    client.recv(65536)
                    client.sendall(REFUSAL)

    def stop(self) -> None:
        self.running = False
        self.thread.join()
        self.server.close()


@pytest.fixture
def proxy() -> Iterator[CountingProxy]:
    counting = CountingProxy()
    yield counting
    counting.stop()


def proxied_env(proxy: CountingProxy, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVCRAWLER_")}
    for name in ("no_proxy", "NO_PROXY"):
        env.pop(name, None)
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        env[name] = proxy.url
    return env | extra


def run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)


def test_control_a_live_crawl_is_seen_by_the_proxy(tmp_path: Path, proxy: CountingProxy) -> None:
    command = scrapy_crawl(tmp_path / "a.sqlite3", GOVCRAWLER_REPLAY_DIR="", **FAST)
    crawl = subprocess.Popen(command, cwd=ROOT, env=proxied_env(proxy), stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while proxy.connections == 0 and crawl.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        crawl.kill()
        crawl.wait()
    assert proxy.connections >= 1


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"GOVCRAWLER_REPLAY_DIR": "tests/fixture/site"}, "GOVCRAWLER_REPLAY_DIR: no directory"),
        (
            {"GOVCRAWLER_REPLAY_DIR": "", "GOVCRAWLER_GATEWAY": "127.0.0.1:8765"},
            "GOVCRAWLER_GATEWAY must be an http(s) origin",
        ),
        (
            {"GOVCRAWLER_GATEWAY": "http://127.0.0.1:8765"},
            "GOVCRAWLER_GATEWAY (http://127.0.0.1:8765) are both set",
        ),
    ],
    ids=["mistyped-replay-dir", "gateway-without-scheme", "replay-and-gateway"],
)
def test_scrapy_crawl_with_an_unusable_setting_makes_no_request(
    tmp_path: Path, proxy: CountingProxy, settings: dict[str, str], message: str
) -> None:
    command = scrapy_crawl(tmp_path / "a.sqlite3", **FAST, **settings)
    result = run(command, proxied_env(proxy))
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr  # one line (govcrawler/commands/crawl.py)
    assert "Spider opened" not in result.stderr
    assert proxy.connections == 0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GOVCRAWLER_REPLAY_DIR": "tests/fixture/site"}, "GOVCRAWLER_REPLAY_DIR: no directory"),
        ({"GOVCRAWLER_GATEWAY": "http:/127.0.0.1:8765"}, "GOVCRAWLER_GATEWAY must be"),
    ],
    ids=["mistyped-replay-dir", "malformed-gateway"],
)
def test_govcrawler_crawl_with_an_unusable_setting_is_one_line_and_exit_1(
    tmp_path: Path, proxy: CountingProxy, env: dict[str, str], message: str
) -> None:
    database = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    result = run([*GOVCRAWLER, "crawl", "--database", database], proxied_env(proxy, **env))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert result.stdout == ""
    assert proxy.connections == 0


@pytest.mark.parametrize(
    "origin",
    ["http://127.0.0.1:8765", "https://mirror.example.org", "http://[::1]:8080/", "http://h:1"],
)
def test_a_gateway_origin_is_accepted(origin: str) -> None:
    check_origin(origin)


@pytest.mark.parametrize(
    "origin",
    [
        "127.0.0.1:8765",
        "localhost",
        "ftp://127.0.0.1",
        "http://",
        "http://127.0.0.1:0",
        "http://127.0.0.1:99999",
        "http://127.0.0.1:port",
        "http://[::1",
        "http://127.0.0.1:8765/mirror",
        "http://127.0.0.1:8765/?q=1",
    ],
)
def test_a_gateway_that_is_no_origin_is_a_bad_setting(origin: str) -> None:
    with pytest.raises(BadSetting, match="GOVCRAWLER_GATEWAY"):
        check_origin(origin)


def test_a_replay_dir_must_be_a_readable_directory(tmp_path: Path) -> None:
    check_replay_dir(str(SITE_COPY))
    page = tmp_path / "page.html"
    page.write_text("<p>not a directory</p>")
    for root in (tmp_path / "missing", page):
        with pytest.raises(BadSetting, match="no directory"):
            check_replay_dir(str(root))
    with pytest.raises(BadSetting, match="both set"):
        check_replay_dir(str(SITE_COPY), "http://127.0.0.1:8765")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any directory")
def test_an_unreadable_replay_dir_is_a_bad_setting(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0)
    try:
        with pytest.raises(BadSetting, match="cannot read"):
            check_replay_dir(str(locked))
    finally:
        locked.chmod(0o700)
