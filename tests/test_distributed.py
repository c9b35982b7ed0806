"""Distributed crawl (govcrawler/distributed.py) against a real Redis, and a real PostgreSQL or a
shared SQLite file as the archive: two `govcrawler crawl` workers share one job.

Needs `eval "$(ci/services.sh)"` (GOVCRAWLER_TEST_REDIS_URL, GOVCRAWLER_TEST_POSTGRES_URL): the
tests skip without it, and fail when CI=true. Each test has its own Redis key prefix and, for
PostgreSQL, its own fresh database.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest
import sqlalchemy as sa

import storage
from tests.conftest import SITE_COPY, ReplayCrawl
from tests.test_incremental import UNCHANGED_RUN

ROOT = Path(__file__).resolve().parent.parent
GOVCRAWLER = [sys.executable, "-c", "from govcrawler.cli import main; main()"]
ROBOTS = "https://www.sc.gov.cn/robots.txt"
# A pace that spreads the saved site's ~55 requests over a few seconds, so both workers get
# work and a kill lands mid-run.
DELAY = "0.15"
# What must be equal between a one-worker crawl and a distributed one (any SQL archive).
SNAPSHOT = {
    "articles": "SELECT url, title, published_on, column_id, column_name, body, version_count,"
    " alias_count, withdrawn_at FROM articles ORDER BY url",
    "aliases": "SELECT al.url, a.url FROM article_alias AS al JOIN article AS a"
    " ON a.id = al.article_id ORDER BY al.url",
    "near duplicates": "SELECT c.url, o.url FROM near_duplicate AS n JOIN article AS c"
    " ON c.id = n.article_id JOIN article AS o ON o.id = n.original_id ORDER BY c.url",
    "versions per url": "SELECT url, COUNT(*) FROM article_versions GROUP BY url ORDER BY url",
}
# Only a run that fetched nothing twice also has the same captures.
CAPTURES = "SELECT url, status, COUNT(*) FROM captures GROUP BY url, status ORDER BY url, status"


def service(variable: str) -> str:
    value = os.environ.get(variable)
    if value:
        return value
    reason = f'{variable} is not set: start the services with eval "$(ci/services.sh)"'
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture
def redis_url() -> Iterator[str]:
    return service("GOVCRAWLER_TEST_REDIS_URL")


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    """A Redis key prefix of the test's own, deleted afterwards."""
    import redis

    name = f"govcrawler-test-{uuid.uuid4().hex[:12]}"
    yield name
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(f"{name}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture(params=["sqlite", "postgresql"])
def archive(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh archive: a SQLite file both workers share, or a new PostgreSQL
    database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
        storage.open_archive(url).dispose()
        yield url
        return
    admin_url = service("GOVCRAWLER_TEST_POSTGRES_URL")
    name = f"govcrawler_dist_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    storage.open_archive(url).dispose()  # the schema, before two workers race to create it
    yield url
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def worker(database: str, redis_url: str, prefix: str, worker_id: str, **env: str) -> Worker:
    """A `govcrawler crawl` worker of the distributed crawl, logging every request."""
    command = [
        *GOVCRAWLER,
        "crawl",
        "--replay",
        str(SITE_COPY),
        "--database",
        database,
        "--redis-url",
        redis_url,
        "--worker-id",
        worker_id,
        "--log-level",
        "DEBUG",
    ]
    environment = {
        **os.environ,
        "GOVCRAWLER_REDIS_PREFIX": prefix,
        "GOVCRAWLER_DOWNLOAD_DELAY": DELAY,
        "GOVCRAWLER_WORKER_TIMEOUT": "2",
        "GOVCRAWLER_LOCK_DIR": str(ROOT / ".pytest_cache" / "locks"),
        **env,
    }
    logs = Path(tempfile.mkdtemp(prefix=f"{worker_id}-"))
    out, err = (logs / "stdout").open("w+"), (logs / "stderr").open("w+")
    process = subprocess.Popen(
        command, cwd=ROOT, env=environment, text=True, stdout=out, stderr=err
    )
    return Worker(process, out, err)


@dataclass
class Worker:
    """A worker process whose output goes to files (a pipe left unread would stall it)."""

    process: subprocess.Popen[str]
    out: IO[str]
    err: IO[str]


def finish(worker: Worker) -> tuple[int, str, str]:
    worker.process.wait(timeout=240)
    texts = []
    for handle in (worker.out, worker.err):
        handle.seek(0)
        texts.append(handle.read())
        handle.close()
    return worker.process.returncode, texts[0], texts[1]


def fetched(log: str) -> list[str]:
    """Every URL the worker's downloader answered (a retried URL once per attempt)."""
    return re.findall(r"Crawled \(\d+\) <GET (\S+)>", log)


def request_count(log: str) -> int:
    """The worker's own count (the dump's top level, not the job's sums nested in it)."""
    return int(re.findall(r"^[ {]'downloader/request_count': (\d+)", log, re.MULTILINE)[-1])


def snapshot(database: str, *, captures: bool = False) -> dict[str, list[tuple]]:
    engine = sa.create_engine(database)
    queries = SNAPSHOT | ({"captures": CAPTURES} if captures else {})
    try:
        with engine.connect() as connection:
            return {
                name: [tuple(row) for row in connection.execute(sa.text(sql))]
                for name, sql in queries.items()
            }
    finally:
        engine.dispose()


def normalised(rows: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """Dates as text, so a SQLite and a PostgreSQL archive compare."""
    return {
        name: [tuple(str(v)[:10] if hasattr(v, "isoformat") else v for v in row) for row in table]
        for name, table in rows.items()
    }


@pytest.fixture(scope="module")
def one_worker(
    replay_crawl: ReplayCrawl, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict, list[str], int]:
    """The reference: a plain one-process crawl of the saved site (the session's shared one,
    tests/conftest.py)."""
    copy = replay_crawl.copy(tmp_path_factory.mktemp("one") / "archive.sqlite3")
    database = f"sqlite:///{copy}"
    result = replay_crawl.result
    rows = normalised(snapshot(database, captures=True))
    return rows, fetched(result.stderr), request_count(result.stderr)


@pytest.mark.slow
def test_two_workers_crawl_each_page_once_into_one_archive(
    one_worker, archive: str, redis_url: str, prefix: str
) -> None:
    reference, reference_fetched, reference_requests = one_worker
    first = worker(archive, redis_url, prefix, "w1")
    job_started(redis_url, prefix)  # w1 creates the job, w2 joins it
    second = worker(archive, redis_url, prefix, "w2")
    (code1, _, log1), (code2, _, log2) = finish(first), finish(second)
    assert code1 == 0, log1[-3000:]
    assert code2 == 0, log2[-3000:]
    assert "worker w1 started job" in log1
    assert "worker w2 joined job" in log2
    # every article exactly once, as one worker archives it; captures too: nothing fetched twice
    assert normalised(snapshot(archive, captures=True)) == reference
    by_url = Counter(url for url in fetched(log1) + fetched(log2) if url != ROBOTS)
    assert by_url == Counter(url for url in reference_fetched if url != ROBOTS)
    assert fetched(log1) and fetched(log2)  # both did a share
    assert fetched(log1).count(ROBOTS) == fetched(log2).count(ROBOTS) == 1  # each reads it
    assert request_count(log1) + request_count(log2) == reference_requests + 1
    assert "job 1 finished here" in log1 + log2
    assert leftover_keys(redis_url, prefix) == job_over(prefix)


@pytest.mark.slow
def test_a_killed_worker_loses_nothing(
    one_worker, archive: str, redis_url: str, prefix: str
) -> None:
    """SIGKILL at a worker's 6th article response, its batch uncommitted and requests in
    flight: the other worker takes them back once the heartbeat has expired and finishes
    the job; the archive is the one a clean crawl makes."""
    reference = {k: v for k, v in one_worker[0].items() if k != "captures"}
    doomed = worker(archive, redis_url, prefix, "w1", GOVCRAWLER_KILL_AT="response:6")
    job_started(redis_url, prefix)
    survivor = worker(archive, redis_url, prefix, "w2")
    (code1, _, log1), (code2, _, log2) = finish(doomed), finish(survivor)
    assert code1 == -signal.SIGKILL, log1[-3000:]
    assert code2 == 0, log2[-3000:]
    assert "worker w2 joined job 1" in log2
    assert re.search(r"re-queued \d+ requests of dead workers", log2), log2[-3000:]
    assert normalised(snapshot(archive)) == reference
    assert leftover_keys(redis_url, prefix) == job_over(prefix)


@pytest.mark.slow
def test_the_next_run_is_a_new_job_that_reads_the_lists_again(
    tmp_path: Path, redis_url: str, prefix: str
) -> None:
    database = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    code, _, log = finish(worker(database, redis_url, prefix, "w1"))
    assert code == 0, log[-3000:]
    code, out, log = finish(worker(database, redis_url, prefix, "w1"))
    assert code == 0, log[-3000:]
    assert "worker w1 started job 2" in log
    assert sorted(set(fetched(log))) == UNCHANGED_RUN  # incremental: lists, no known article
    assert "articles: 0 new," in out


def test_a_worker_id_runs_once(tmp_path: Path, redis_url: str, prefix: str) -> None:
    """Each worker has its own lock: a second `w1` exits 75 at once, a `w2` may run."""
    from govcrawler.cli.lock import ArchiveLock, lock_path

    database = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    with ArchiveLock(lock_path(database, "w1")):
        code, _, err = finish(worker(database, redis_url, prefix, "w1"))
    assert code == 75, err[-2000:]
    assert err.strip().count("\n") == 0 and "another crawl is running" in err
    assert lock_path(database, "w1").name == "archive.sqlite3.w1.lock"


def test_the_pace_is_reserved_for_every_worker(redis_url: str, prefix: str) -> None:
    """The Lua reservation: each request waits the delay after the one before it, whichever
    worker sent it; a Retry-After holds the host for all."""
    import redis

    from govcrawler.distributed import hold_host, reserve_slot

    first, second = redis.Redis.from_url(redis_url), redis.Redis.from_url(redis_url)
    key = f"{prefix}:pace:www.sc.gov.cn"
    assert reserve_slot(first, key, 0.5) == 0
    assert 0.4 <= reserve_slot(second, key, 0.5) <= 0.5  # right after the first one
    assert 0.9 <= reserve_slot(first, key, 0.5) <= 1.0
    hold_host(second, key, 5)
    assert 4.9 <= reserve_slot(first, key, 0) <= 5.0


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis://127.0.0.1:1/0", "cannot use Redis at redis://127.0.0.1:1/0"),
        ("nonsense", "not a Redis URL"),
    ],
)
def test_an_unusable_redis_is_one_line_and_status_1(tmp_path: Path, url: str, message: str) -> None:
    command = [*GOVCRAWLER, "crawl", "--replay", str(SITE_COPY), "--redis-url", url]
    command += ["--database", f"sqlite:///{tmp_path / 'archive.sqlite3'}"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def job_started(redis_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + 60
    while not client.exists(f"{prefix}:sc_open_governance:job"):
        assert time.monotonic() < deadline, "the first worker never started the job"
        time.sleep(0.05)


def job_over(prefix: str) -> set[str]:
    """What Redis keeps once job 1 is over: the job counter, the site's pace (a minute) and
    the job's summed counts (an hour)."""
    base = f"{prefix}:sc_open_governance"
    return {f"{base}:job-counter", f"{base}:pace:www.sc.gov.cn", f"{base}:job:1:stats"}


def leftover_keys(redis_url: str, prefix: str) -> set[str]:
    import redis

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    return set(client.scan_iter(f"{prefix}:*"))
