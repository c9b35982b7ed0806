"""The queries B3 times, and the labelled extrapolation of their latency to a larger archive.

Searches go through `storage.search.ranking.search_articles` (what `govcrawler search` runs, top
20), one of them filtered by column and year; the URL lookup through `storage.read.find_article`
(what `govcrawler show URL` runs); the column-and-year filter is a plain query of the `articles`
view, as a researcher or Datasette would write it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from benchmarks import measure
from storage.search.ranking import parse_query, search_articles

BY_COLUMN_AND_YEAR = text(
    "SELECT id, url, title, published_on FROM articles "
    "WHERE column_id = :column AND year = :year ORDER BY published_on DESC LIMIT 20"
)

Query = Callable[[Session, dict[str, Any]], object]
SEARCHES = {
    "English word: bamboo": "bamboo",
    "English word: Sichuan": "Sichuan",
    'phrase: "giant panda"': '"giant panda"',
    "prefix: invest*": "invest*",
    "Chinese word: 改革": "改革",
}


def _search(words: str) -> Query:
    return lambda session, _: search_articles(session, words)


def _search_oldest_year(words: str, column: str) -> Query:
    """A search in one column and the archive's oldest year (2014): most of the archive is
    newer than it, which a search walking its matches newest first would cross."""
    return lambda session, _: search_articles(
        session, words, column=column, since=date(2014, 1, 1), until=date(2014, 12, 31)
    )


QUERIES: dict[str, Query] = {
    **{name: _search(words) for name, words in SEARCHES.items()},
    "English word, column 10766 + 2014: Sichuan": _search_oldest_year("Sichuan", "10766"),
    "lookup by URL (find_article)": lambda s, p: p["find"](s, p["url"]),
    "articles view, column 10765 + year": lambda s, p: s.execute(
        BY_COLUMN_AND_YEAR, {"column": "10765", "year": p["year"]}
    ).all(),
}


def hit_shares(session: Session) -> dict[str, float]:
    """The share of the archive's articles each search matches (its cost grows with it)."""
    total = session.scalar(text("SELECT COUNT(*) FROM article")) or 1
    count = text("SELECT COUNT(*) FROM articles_fts WHERE articles_fts MATCH :match")
    return {
        name: (session.scalar(count, {"match": parse_query(words)[0]}) or 0) / total
        for name, words in SEARCHES.items()
    }


def extrapolate(points: list[dict], size: int) -> dict[str, float]:
    """p50 of each query at `size` articles, from the log-log slope between the last two
    checkpoints (never below the last measured value). An estimate, not a measurement; with
    one checkpoint there is no slope and the last value is returned."""
    last = points[-1]
    before = points[-2] if len(points) > 1 else None
    projected = {}
    for name in QUERIES:
        p50 = measure.median(last["latency_ms"][name])
        if before is None or p50 <= 0:
            projected[name] = p50
            continue
        earlier = measure.median(before["latency_ms"][name])
        ratio = math.log(last["articles"] / before["articles"])
        exponent = max(0.0, math.log(p50 / earlier) / ratio) if earlier > 0 and ratio else 0.0
        projected[name] = p50 * (size / last["articles"]) ** exponent
    return projected
