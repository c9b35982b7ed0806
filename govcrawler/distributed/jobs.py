"""Jobs: which workers crawl together, and whether the last job went through the section.

A job is one crawl of one spider by every worker that joins it. `<prefix>:<spider>:job` holds
JSON of what its workers must agree on (id, full, recovering, now); scrapy-redis's queue and
duplicate filter are the job's own keys (`...:job:<id>:requests`, `...:job:<id>:dupefilter`),
so the next job reads every list page again. The members set names the worker processes
that joined (id, pid, start).

- A worker joins the job if one of its members is alive (its worker key names the job), else
  it starts a new job.
- A worker that closes with `finished` (or `blocked`, as far as the site let it) leaves the
  member set, adding its counts to the job's; the last to leave, if no member is left, ends
  the job and deletes its keys.
- A worker that dies or stops early stays a member without a live key. A job left with such
  members is *unfinished*: requests it had taken are lost, so the next job is `recovering`
  and reads every list page, as the run after a crashed single-process run does. The archive
  keeps what was committed; nothing in Redis needs to survive.

Each step is one Redis transaction (WATCH on the job key), so two workers that start or end
at the same moment agree on one job.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import redis
from redis.client import Pipeline

from govcrawler.distributed.workers import parse_worker, worker_key, worker_value

T = TypeVar("T")


@dataclass(frozen=True)
class Job:
    id: int
    full: bool
    recovering: bool
    now: datetime

    def to_json(self) -> str:
        fields = {"id": self.id, "full": self.full, "recovering": self.recovering}
        return json.dumps(fields | {"now": self.now.isoformat()})

    @classmethod
    def from_json(cls, raw: Any) -> Job | None:
        try:
            fields = json.loads(raw)
            now = datetime.fromisoformat(fields["now"])
            return cls(int(fields["id"]), bool(fields["full"]), bool(fields["recovering"]), now)
        except (TypeError, ValueError, KeyError):
            return None


@dataclass(frozen=True)
class JobKeys:
    """The Redis keys of one spider's jobs, seen by one worker process (started `since`)."""

    prefix: str
    spider: str
    worker: str
    since: str

    @property
    def member(self) -> str:
        """This process in a member set: a dead predecessor under the same id stays apart."""
        return f"{self.worker}/{os.getpid()}/{self.since}"

    @property
    def job(self) -> str:
        return f"{self.prefix}:{self.spider}:job"

    @property
    def counter(self) -> str:
        return f"{self.prefix}:{self.spider}:job-counter"

    @property
    def alive(self) -> str:
        return worker_key(self.prefix, self.worker)

    def tag(self, job_id: int) -> str:
        return f"{self.spider}:{job_id}"

    def template(self, job_id: int, name: str) -> str:
        """A scrapy-redis key setting: it formats `%(spider)s` itself."""
        return f"{self.prefix.replace('%', '%%')}:%(spider)s:job:{job_id}:{name}"

    def of_job(self, job_id: int, name: str) -> str:
        return self.template(job_id, name) % {"spider": self.spider}

    def data(self, job_id: int) -> list[str]:
        """What a job accumulates: scrapy-redis's queue and fingerprints, its counts."""
        return [self.of_job(job_id, name) for name in ("requests", "dupefilter", "stats")]


def join(server: redis.Redis, keys: JobKeys, fresh: Job, ttl_ms: int) -> tuple[Job, bool]:
    """Join the job that has a live member, else start `fresh` (its id assigned here; it is
    `recovering` too if the job it replaces was unfinished). True if started here."""

    def attempt(pipe: Pipeline) -> tuple[Job, bool]:
        current = Job.from_json(pipe.get(keys.job))
        if current is not None and live_members(pipe, keys, current.id):
            pipe.multi()
            _enter(pipe, keys, current.id, ttl_ms)
            return current, False
        unfinished = current is not None and bool(pipe.scard(members(keys, current.id)))
        job = Job(
            int(pipe.incr(keys.counter)), fresh.full, fresh.recovering or unfinished, fresh.now
        )
        pipe.multi()
        if current is not None:
            pipe.delete(members(keys, current.id), *keys.data(current.id))
        pipe.set(keys.job, job.to_json())
        _enter(pipe, keys, job.id, ttl_ms)
        return job, True

    return _watching(server, keys.job, attempt)


def _watching(server: redis.Redis, key: str, step: Callable[[Pipeline], T]) -> T:
    """redis-py's `transaction`, typed: `step` reads with `key` watched, then queues its
    writes after `multi()`; run again if another worker changed `key` in between."""
    with server.pipeline() as pipe:
        while True:
            try:
                pipe.watch(key)
                result = step(pipe)
                pipe.execute()
                return result
            except redis.WatchError:
                continue


def _enter(pipe: Pipeline, keys: JobKeys, job_id: int, ttl_ms: int) -> None:
    pipe.sadd(members(keys, job_id), keys.member)
    pipe.set(keys.alive, worker_value(keys.tag(job_id), keys.member, keys.since), px=ttl_ms)


def members(keys: JobKeys, job_id: int) -> str:
    return keys.of_job(job_id, "workers")


def live_members(server: redis.Redis | Pipeline, keys: JobKeys, job_id: int) -> list[str]:
    """The worker ids of the job's other members whose worker key still names them."""
    entries = sorted(_text(entry) for entry in server.smembers(members(keys, job_id)))
    others = [entry for entry in entries if entry != keys.member]
    if not others:
        return []
    values = server.mget([worker_key(keys.prefix, _worker(entry)) for entry in others])
    tag = keys.tag(job_id)
    alive = []
    for entry, raw in zip(others, values, strict=True):
        holder = parse_worker(raw)
        if holder.get("member") == entry and holder.get("job") == tag:
            alive.append(_worker(entry))
    return alive


def leave(
    server: redis.Redis, keys: JobKeys, job_id: int, counts: dict[str, int]
) -> tuple[str, dict[str, int]]:
    """This worker went through its share: leave the job. Returns what became of it, with
    the job's summed counts when it ended here: `ended` (every member finished), `left`
    (others still work, or one of them ended it), `unfinished` (members died or stopped)."""
    pipe = server.pipeline(transaction=False)
    for key, value in counts.items():
        pipe.hincrby(keys.of_job(job_id, "stats"), key, value)
    pipe.srem(members(keys, job_id), keys.member)
    pipe.delete(keys.alive)
    pipe.execute()
    if live_members(server, keys, job_id):
        return "left", {}
    if server.scard(members(keys, job_id)):
        server.delete(*keys.data(job_id))  # the job key and its dead members stay: unfinished
        return "unfinished", {}

    def end(pipe: Pipeline) -> tuple[str, dict[str, int]]:
        current = Job.from_json(pipe.get(keys.job))
        if current is None or current.id != job_id:
            pipe.multi()
            return "left", {}
        summed = pipe.hgetall(keys.of_job(job_id, "stats"))
        pipe.multi()
        pipe.delete(keys.job, members(keys, job_id), *keys.data(job_id))
        return "ended", {_text(key): int(value) for key, value in summed.items()}

    return _watching(server, keys.job, end)


def stop(server: redis.Redis, keys: JobKeys) -> None:
    """This worker stopped before its share was done: it stays a member, no longer alive."""
    server.delete(keys.alive)


def dead_members(server: redis.Redis, keys: JobKeys, job_id: int) -> list[str]:
    """The worker ids of the members that did not leave the job (for the log)."""
    return sorted({_worker(_text(entry)) for entry in server.smembers(members(keys, job_id))})


def _worker(entry: str) -> str:
    return entry.split("/", 1)[0]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
