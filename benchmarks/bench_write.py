"""What the archive's write path costs per article, step by step (a script, not a test).

    .venv/bin/python -m benchmarks.bench_write [--articles 1000] [--repeat 5]

B1 compares the whole crawl with a bare spider that archives nothing. This prices the work
that archiving cannot skip, on B3's synthetic articles (~40 KB page, ~6,700 characters of
text): compressing and hashing the raw page, the near-duplicate signature, the text as the
search index takes it, the content digest, and then the whole `record_capture` +
`record_article` into a fresh archive, 500 articles per transaction (commit and search index
included). Medians of `repeat` rounds, each round over every article; the machine drifts, so
read the steps against each other, and the total against B1's bare spider measured in the
same minutes.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import storage
from benchmarks.b3_archive import Prepared, prepare
from benchmarks.sitegen import SiteSpec
from storage import neardup
from storage.captures import COMPRESSION_LEVEL
from storage.search import index as fulltext


def per_article_us(articles: list[Prepared], step: Callable[[Prepared], object]) -> float:
    start = time.perf_counter()
    for article in articles:
        step(article)
    return (time.perf_counter() - start) / len(articles) * 1e6


def archive_us(articles: list[Prepared], batch: int = 500) -> float:
    """µs per article of the real storage calls into a fresh archive, commits included."""
    with tempfile.TemporaryDirectory() as folder:
        engine = storage.open_archive(f"sqlite:///{Path(folder) / 'archive.sqlite3'}")
        sessions = storage.session_factory(engine)
        start = time.perf_counter()
        for first in range(0, len(articles), batch):
            with sessions.begin() as session:
                for article in articles[first : first + batch]:
                    capture = storage.record_capture(session, article.capture)
                    storage.record_article(
                        session, article.record, article.capture.fetched_at, capture.id
                    )
        spent = time.perf_counter() - start
        engine.dispose()
    return spent / len(articles) * 1e6


STEPS: dict[str, Callable[[Prepared], object]] = {
    "zlib level 6 of the raw page": lambda a: zlib.compress(a.capture.body, COMPRESSION_LEVEL),
    "SHA-256 of the raw page": lambda a: hashlib.sha256(a.capture.body).digest(),
    "near-duplicate signature (SimHash + LSH keys)": lambda a: neardup.signature(a.record.body),
    "search-index text (Chinese bigrams)": lambda a: (
        fulltext.index_text(a.record.title),
        fulltext.index_text(a.record.body),
    ),
    "content digest (JSON + SHA-256)": lambda a: storage.content_digest(
        a.record.title, a.record.published_on, a.record.body, a.record.captions
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    spec = SiteSpec(args.articles, chinese_share=0.1)
    articles = [prepare(spec, i) for i in range(args.articles)]
    neardup.signature("warm-up")
    timings: dict[str, list[float]] = {name: [] for name in [*STEPS, "whole write path"]}
    for _ in range(args.repeat):
        for name, step in STEPS.items():
            timings[name].append(per_article_us(articles, step))
        timings["whole write path"].append(archive_us(articles))
    pages = sum(len(a.capture.body) for a in articles) / len(articles)
    text = sum(a.text_bytes for a in articles) / len(articles)
    print(f"{args.articles} articles: {pages:,.0f} bytes of page, {text:,.0f} bytes of text")
    for name, values in timings.items():
        print(f"  {statistics.median(values):8.0f} µs  {name}")


if __name__ == "__main__":
    main()
