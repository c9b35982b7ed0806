"""Time `storage.neardup` (a script, not a test: timings never go in tests).

    .venv/bin/python benchmarks/bench_neardup.py [--repeat 15]

Measures the SimHash `fingerprint` and the MinHash-LSH `lsh_keys`, each per body.

Bodies: every article of the saved site (tests/fixtures/site, "body" of each expected.json)
and a synthetic ~6,500-character English body made of fixture sentences (fixed seed). Our
machines drift up to 2x in speed within minutes, so each measurement is interleaved with
SHA-256 of the same body (35-50 us for 6.5k characters in PERF-NOTES.md) and the ratio is
printed beside the median; compare ratios, not microseconds, across runs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import statistics
import time
from collections.abc import Callable
from itertools import combinations
from pathlib import Path

from storage.neardup import BANDS, MAX_DISTANCE, ROWS, fingerprint, lsh_keys

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "tests" / "fixtures" / "site"


def fixture_bodies() -> list[str]:
    """The body text of every fixture article, paragraphs joined by newlines."""
    pages = sorted(SITE.rglob("*.expected.json"))
    return ["\n".join(json.loads(p.read_text("utf-8"))["body"]) for p in pages]


def synthetic_body(sentences: list[str], size: int = 6500) -> str:
    """About `size` characters of fixture sentences in random order, 5 per paragraph."""
    rng, picked = random.Random(20240611), list[str]()
    while sum(len(s) + 1 for s in picked) < size:
        picked.append(rng.choice(sentences))
    paragraphs = [" ".join(picked[i : i + 5]) for i in range(0, len(picked), 5)]
    return "\n".join(paragraphs)


def per_call_us(function: Callable[[], object], calls: int) -> float:
    """Microseconds per call over one batch of `calls` calls."""
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls * 1e6


def compare(
    label: str, bodies: list[str], repeat: int, calls: int, function: Callable[[str], object]
) -> None:
    """Median µs per body of `function` vs SHA-256, interleaved, over `repeat` rounds."""
    encoded = [b.encode() for b in bodies]
    ours, reference = [], []
    for _ in range(repeat):
        ours.append(per_call_us(lambda: [function(b) for b in bodies], calls) / len(bodies))
        sha = per_call_us(lambda: [hashlib.sha256(b).digest() for b in encoded], calls)
        reference.append(sha / len(bodies))
    mean_chars = sum(map(len, bodies)) / len(bodies)
    ratio = statistics.median(o / r for o, r in zip(ours, reference, strict=True))
    print(
        f"{label:<38} {mean_chars:>7.0f} chars  {function.__name__} "
        f"{statistics.median(ours):7.1f} µs"
        f"  (min {min(ours):6.1f})  sha256 {statistics.median(reference):5.1f} µs"
        f"  ratio ×{ratio:.1f}"
    )


def band_selectivity(bodies: list[str]) -> tuple[int, int]:
    """Pairs of different fixture bodies that share an LSH key (candidates), of all pairs."""
    keys = [set(lsh_keys(body)) for body in set(bodies)]
    pairs = list(combinations(range(len(keys)), 2))
    return sum(1 for a, b in pairs if keys[a] & keys[b]), len(pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="rounds per measurement")
    args = parser.parse_args()
    bodies = fixture_bodies()
    sentences = [s for b in bodies for s in re.split(r"(?<=[.!?])\s+", b) if len(s) > 40]
    fingerprint("warm-up")  # builds the character table once (~15 ms per process)
    long_body = synthetic_body(sentences)
    for function in (fingerprint, lsh_keys):
        compare(f"fixture bodies ({len(bodies)})", bodies, args.repeat, 20, function)
        compare("synthetic English body", [long_body], args.repeat, 200, function)
        compare(
            "synthetic body, 40 KB", [synthetic_body(sentences, 40_000)], args.repeat, 40, function
        )
    shared, pairs = band_selectivity(bodies)
    print(
        f"MAX_DISTANCE={MAX_DISTANCE}, LSH {BANDS} bands x {ROWS} rows: {shared} of {pairs} "
        "pairs of different fixture articles share a key (candidates per lookup)"
    )


if __name__ == "__main__":
    main()
