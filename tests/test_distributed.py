"""Distributed crawl (govcrawler/distributed/) against a real Redis, and a real PostgreSQL or a
shared SQLite file as the archive: two `govcrawler crawl` workers share one job.

Needs `eval "$(ci/services.sh)"` (GOVCRAWLER_TEST_REDIS_URL, GOVCRAWLER_TEST_POSTGRES_URL): the
tests skip without it, and fail when CI=true. Each test has its own Redis key prefix and, for
PostgreSQL, its own fresh database.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
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
        *("--spider", "sc_open_governance"),
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
        "GOVCRAWLER_WORKER_TIMEOUT": "5",
        # above one engine heartbeat (5 s): a worker that joins before the first list page
        # is read waits for its links
        "GOVCRAWLER_WORKER_IDLE": "6",
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
    assert "job 1: left to the other workers" in log1 + log2
    assert leftover_keys(redis_url, prefix) == job_over(prefix)


@pytest.mark.slow
def test_after_a_killed_worker_the_next_run_misses_nothing(
    one_worker, archive: str, redis_url: str, prefix: str
) -> None:
    """SIGKILL at a worker's 6th article response, its batch uncommitted and requests taken:
    they are lost with it and the job is unfinished; the next run reads every list page and
    the archive is then the one a clean crawl makes."""
    reference = {k: v for k, v in one_worker[0].items() if k != "captures"}
    doomed = worker(archive, redis_url, prefix, "w1", GOVCRAWLER_KILL_AT="response:6")
    job_started(redis_url, prefix)
    survivor = worker(archive, redis_url, prefix, "w2")
    (code1, _, log1), (code2, _, log2) = finish(doomed), finish(survivor)
    assert code1 == -signal.SIGKILL, log1[-3000:]
    assert code2 == 0, log2[-3000:]
    assert "worker w2 joined job 1" in log2
    assert "job 1 is unfinished (w1 stopped before the end)" in log2, log2[-3000:]
    lost = urls(reference) - urls(normalised(snapshot(archive)))
    assert lost, "the killed worker's uncommitted articles should be missing after job 1"
    code, _, log = finish(worker(archive, redis_url, prefix, "w1"))
    assert code == 0, log[-3000:]
    assert "worker w1 started job 2 (recovering: the last job did not finish)" in log
    assert "the previous run did not finish: reading every list page" in log
    assert lost <= set(fetched(log))
    assert normalised(snapshot(archive)) == reference
    assert leftover_keys(redis_url, prefix) == job_over(prefix)


def urls(rows: dict[str, list[tuple]]) -> set[str]:
    return {row[0] for row in rows["articles"]}


@pytest.mark.slow
def test_the_next_run_is_a_new_job_that_reads_the_lists_again(
    tmp_path: Path, redis_url: str, prefix: str
) -> None:
    database = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    code, _, log = finish(worker(database, redis_url, prefix, "w1"))
    assert code == 0, log[-3000:]
    code, out, log = finish(worker(database, redis_url, prefix, "w1"))
    assert code == 0, log[-3000:]
    assert re.search(r"worker w1 started job 2$", log, re.MULTILINE)  # not recovering
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


def test_a_worker_id_live_on_another_host_is_refused(
    tmp_path: Path, redis_url: str, prefix: str
) -> None:
    """The worker key in Redis: a live `w1` elsewhere makes this `w1` exit 75, one line."""
    import redis

    holder = {"host": "crawler-b.example", "pid": 4242, "since": "2026-12-07T10:00:00+00:00"}
    client = redis.Redis.from_url(redis_url)
    client.set(f"{prefix}:worker:w1", json.dumps(holder | {"job": "sc_open_governance:1"}), ex=60)
    code, _, err = finish(worker(f"sqlite:///{tmp_path / 'a.sqlite3'}", redis_url, prefix, "w1"))
    assert code == 75, err[-2000:]
    assert err.strip() == (
        "govcrawler: worker 'w1' is running (pid 4242 on crawler-b.example since "
        "2026-12-07T10:00:00+00:00); give this one another --worker-id"
    )


def test_jobs_are_joined_ended_and_left_unfinished(redis_url: str, prefix: str) -> None:
    """The job rules on Redis alone: the second worker joins the first's job; the last to
    leave ends it; a member that died or stopped leaves it unfinished, and the next job
    recovers."""
    import redis

    from govcrawler.distributed.jobs import Job, JobKeys, join, leave, stop

    server = redis.Redis.from_url(redis_url)
    fresh = Job(0, full=False, recovering=False, now=datetime(2026, 12, 7, tzinfo=UTC))
    one, two = JobKeys(prefix, "toy", "w1", "t0"), JobKeys(prefix, "toy", "w2", "t0")
    first, created = join(server, one, fresh, 60_000)
    assert (first.id, created) == (1, True)
    joined, created = join(server, two, replace(fresh, now=datetime.now(UTC)), 60_000)
    assert (joined, created) == (first, False)  # the first worker's plan fields
    assert leave(server, one, 1, {"downloader/request_count": 3}) == ("left", {})
    assert leave(server, two, 1, {"downloader/request_count": 4}) == (
        "ended",
        {"downloader/request_count": 7},
    )
    assert not server.exists(one.job)

    second, _ = join(server, one, fresh, 60_000)
    join(server, two, fresh, 60_000)
    assert second.id == 2 and not second.recovering
    server.delete(two.alive)  # w2 dies: its key expires, it never leaves
    assert leave(server, one, 2, {}) == ("unfinished", {})
    third, created = join(server, one, fresh, 60_000)
    assert (third.id, third.recovering, created) == (3, True, True)
    stop(server, one)  # w1 stops early (a timeout): the next job recovers too
    fourth, _ = join(server, two, fresh, 60_000)
    assert (fourth.id, fourth.recovering) == (4, True)

    assert join(server, one, fresh, 60_000) == (fourth, False)
    server.delete(two.alive)  # w2 dies in job 4 and comes back while w1 works in it
    reborn = JobKeys(prefix, "toy", "w2", "t1")
    assert join(server, reborn, fresh, 60_000) == (fourth, False)
    assert leave(server, reborn, 4, {}) == ("left", {})
    assert leave(server, one, 4, {}) == ("unfinished", {})  # what the dead w2 took is lost


def test_the_pace_is_reserved_for_every_worker(redis_url: str, prefix: str) -> None:
    """The Lua reservation: each request waits the delay after the one before it, whichever
    worker sent it; a Retry-After holds the host for all."""
    import redis

    from govcrawler.distributed.pace import hold_host, reserve_slot

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
    assert list(tmp_path.iterdir()) == []  # no archive file left behind


@pytest.mark.slow
def test_a_redis_lost_mid_run_stops_the_worker_with_one_line(tmp_path: Path) -> None:
    """A private Redis, stopped while the worker crawls: exit 3, no traceback."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    redis_process = subprocess.Popen(
        [server, "--port", str(port), "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    try:
        url = f"redis://127.0.0.1:{port}/0"
        answering(url)
        database = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
        running = worker(database, url, "lost", "w1")
        job_started(url, "lost")
        time.sleep(1)  # a few pages in
    finally:
        redis_process.terminate()
        redis_process.wait(timeout=30)
    code, out, err = finish(running)
    assert code == 3, err[-3000:]
    assert "finished: redis_error" in out
    assert "Redis failed (" in err and "stopping this worker" in err
    assert "Traceback" not in err


def answering(redis_url: str) -> None:
    import redis

    deadline = time.monotonic() + 30
    while True:
        try:
            redis.Redis.from_url(redis_url).ping()
            return
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "the test's Redis never answered"
            time.sleep(0.05)


def job_started(redis_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + 60
    while not client.exists(f"{prefix}:sc_open_governance:job"):
        assert time.monotonic() < deadline, "the first worker never started the job"
        time.sleep(0.05)


def job_over(prefix: str) -> set[str]:
    """What Redis keeps once a job is over: the job counter and the site's pace (a minute)."""
    return {f"{prefix}:sc_open_governance:job-counter", f"{prefix}:pace:www.sc.gov.cn"}


def leftover_keys(redis_url: str, prefix: str) -> set[str]:
    import redis

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    return set(client.scan_iter(f"{prefix}:*"))
