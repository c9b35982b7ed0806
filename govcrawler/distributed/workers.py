"""Reaching Redis, and who holds a worker id.

A live worker keeps `<prefix>:worker:<id>` in Redis, with a TTL it refreshes
(`GOVCRAWLER_WORKER_TIMEOUT`): JSON of its host, pid, start time and the job it works on. On
its own host the worker's lock file already stops a second copy; the key is how a worker on
another host learns that the id is taken, and how a job tells live members from dead ones.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import UTC, datetime
from typing import Any

import redis
from scrapy_redis import connection, defaults

from govcrawler.cli.lock import valid_worker_id
from govcrawler.exceptions import RedisUnavailable


def redis_client(url: str) -> redis.Redis:
    """A client with scrapy-redis's connection defaults (bytes in and out)."""
    return connection.get_redis(url=url, **defaults.REDIS_PARAMS)


def check_redis(url: str) -> None:
    """Raise `RedisUnavailable` with one line unless `url` names a Redis that answers."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
        client.ping()
    except ValueError as error:
        raise RedisUnavailable(f"not a Redis URL: {url!r} ({error})") from None
    except redis.RedisError as error:
        raise unavailable(url, error) from None


def unavailable(url: str, error: Exception) -> RedisUnavailable:
    return RedisUnavailable(f"cannot use Redis at {safe_url(url)}: {error}")


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    head, at, tail = url.rpartition("@")
    if not at:
        return url
    scheme, _, credentials = head.partition("://")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{tail}" if user else f"{scheme}://***@{tail}"


def default_worker_id() -> str:
    """The host name, made fit for file names and Redis keys."""
    name = "".join(c if c.isalnum() or c in "._-" else "-" for c in socket.gethostname())
    name = name.strip(".-_")[:64]
    return name if valid_worker_id(name) else "worker"


def worker_key(prefix: str, worker: str) -> str:
    return f"{prefix}:worker:{worker}"


def worker_value(job: str, member: str, since: str) -> str:
    """What a live worker keeps in its key: where it runs, since when, which job
    (`spider:id`) and under which member name."""
    host, pid = socket.gethostname(), os.getpid()
    return json.dumps({"host": host, "pid": pid, "since": since, "job": job, "member": member})


def started_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def parse_worker(raw: Any) -> dict[str, Any]:
    """A worker key's value ({} if missing or not ours)."""
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def worker_holder(url: str, prefix: str, worker: str) -> str | None:
    """Who runs `worker` on another host right now, or None. On this host the worker's lock
    file already tells: a key of this host is a dead predecessor's."""
    try:
        holder = parse_worker(redis_client(url).get(worker_key(prefix, worker)))
    except redis.RedisError as error:
        raise unavailable(url, error) from None
    if not holder or holder.get("host") == socket.gethostname():
        return None
    return f"pid {holder.get('pid')} on {holder.get('host')} since {holder.get('since')}"
