"""storage.neardup: the index and the threshold, justified by the fixtures, recomputed here.

Near-duplicates: tests/fixtures/near_duplicates/english.json holds edited copies of fixture
article bodies (typos, captions, a sentence added or removed, dates, apostrophes, a source
line); chinese.json a Chinese text, an edited copy and a different text. Distinct pairs: every
pair of different bodies of the saved site (a republished copy with an identical body, as under
/10462/newsdlb/, is a duplicate, not a distinct pair).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from functools import cache
from itertools import combinations
from pathlib import Path

from storage.neardup import (
    BANDS,
    MAX_DISTANCE,
    fingerprint,
    hamming,
    is_near_duplicate,
    lsh_keys,
)

TESTS = Path(__file__).resolve().parent
SITE = TESTS / "fixtures" / "site"
NEAR_DUPLICATES = TESTS / "fixtures" / "near_duplicates"
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MARGIN = 2  # bits kept free on each side of MAX_DISTANCE; re-measure if this fails

ENGLISH = "The provincial government held an executive meeting in Chengdu on April 21."
CHINESE = "四川省人民政府召开常务会议，研究部署春耕生产和防汛工作。"
# Fingerprints are stored in the archive: changing the algorithm must be a deliberate act.
GOLDEN = {ENGLISH: 848396134223025745, CHINESE: 8497721441689719580}


@cache
def site_outputs() -> dict[str, dict]:
    """The expected output of every fixture page, keyed by the expected.json path under the
    site."""
    return {
        path.relative_to(SITE).as_posix(): json.loads(path.read_text("utf-8"))
        for path in sorted(SITE.rglob("*.expected.json"))
        if path.with_name(path.name.removesuffix(".expected.json")).is_file()
    }


@cache
def site_bodies() -> dict[str, str]:
    """Body text of every fixture page (articles and documents)."""
    return {path: "\n".join(output["body"]) for path, output in site_outputs().items()}


def is_document(path: str) -> bool:
    return site_outputs()[path].get("page_type") == "document"


def share_a_band(a: str, b: str) -> bool:
    """Whether the archive would compare the two at all (a shared LSH key: candidates)."""
    return bool(set(lsh_keys(a)) & set(lsh_keys(b)))


@cache
def english_pairs() -> list[dict]:
    return json.loads((NEAR_DUPLICATES / "english.json").read_text("utf-8"))


@cache
def chinese_texts() -> dict[str, str]:
    return json.loads((NEAR_DUPLICATES / "chinese.json").read_text("utf-8"))


@cache
def site_pairs() -> list[dict]:
    """Pages of the saved site that are edited republications of another page."""
    return json.loads((NEAR_DUPLICATES / "site_pairs.json").read_text("utf-8"))


def near_duplicate_distances() -> dict[str, int]:
    """Distance from each edited copy to its original, keyed by "original: edit"."""
    bodies = site_bodies()
    copies = {f"{p['original']}: {p['edit']}": "\n".join(p["body"]) for p in english_pairs()}
    copies |= {f"{p['original']}: {p['edit']}": bodies[p["copy"]] for p in site_pairs()}
    return {
        key: hamming(fingerprint(bodies[key.split(": ", 1)[0]]), fingerprint(copy))
        for key, copy in copies.items()
    }


def distinct_distances() -> dict[tuple[str, str], int]:
    """Distance between every two fixture articles whose bodies differ (declared
    republications with small edits excepted: they are near-duplicates)."""
    prints = {body: fingerprint(body) for body in site_bodies().values()}
    paths = {body: path for path, body in reversed(site_bodies().items())}
    declared = {frozenset((p["copy"], p["original"])) for p in site_pairs()}
    return {
        (paths[a], paths[b]): hamming(prints[a], prints[b])
        for a, b in combinations(prints, 2)
        if frozenset((paths[a], paths[b])) not in declared
    }


def test_fixture_pairs_cover_enough_articles_and_really_differ() -> None:
    bodies = site_bodies()
    originals = {pair["original"] for pair in english_pairs()}
    assert len(originals) >= 8
    assert originals <= bodies.keys()
    for pair in english_pairs():
        assert "\n".join(pair["body"]) != bodies[pair["original"]], pair["edit"]
    assert len(distinct_distances()) >= 600


def test_threshold_splits_near_duplicates_from_distinct_articles() -> None:
    """As the archive decides: a pair is linked when it shares a band and is within the
    threshold."""
    near, distinct = near_duplicate_distances(), distinct_distances()
    bodies = site_bodies()
    too_far = {pair: d for pair, d in near.items() if d > MAX_DISTANCE}
    too_close = {
        pair: d
        for pair, d in distinct.items()
        if d <= MAX_DISTANCE and share_a_band(bodies[pair[0]], bodies[pair[1]])
    }
    assert not too_far, f"near-duplicates beyond {MAX_DISTANCE} bits: {too_far}"
    assert not too_close, f"distinct pages linked within {MAX_DISTANCE} bits: {too_close}"


def test_threshold_keeps_a_margin_on_both_sides() -> None:
    """SimHash alone, on the articles (the documents: below)."""
    near_max = max(near_duplicate_distances().values())
    distinct_min = min(
        d for (a, b), d in distinct_distances().items() if not (is_document(a) or is_document(b))
    )
    assert near_max + MARGIN <= MAX_DISTANCE < distinct_min - MARGIN, (near_max, distinct_min)


def test_formulaic_documents_close_by_simhash_are_kept_apart_by_the_bands() -> None:
    """Short rules of one formula (the promulgation sentence, 省长, 第N条, 本办法自…起施行)
    come within the SimHash margin of each other; the band index never makes them
    candidates, so no two distinct documents are linked."""
    bodies = site_bodies()
    close = [
        pair
        for pair, d in distinct_distances().items()
        if d <= MAX_DISTANCE + MARGIN and (is_document(pair[0]) or is_document(pair[1]))
    ]
    assert close, "no formulaic pair left within the margin: re-measure and restate the docs"
    for a, b in close:
        assert not share_a_band(bodies[a], bodies[b]), (a, b)


def test_republished_identical_copy_is_a_duplicate() -> None:
    bodies = site_bodies()
    copies = [path for path in bodies if "/10462/newsdlb/" in path]
    assert copies
    for copy in copies:
        original = next(p for p, b in bodies.items() if b == bodies[copy] and p != copy)
        assert hamming(fingerprint(bodies[original]), fingerprint(bodies[copy])) == 0
        assert is_near_duplicate(fingerprint(bodies[original]), fingerprint(bodies[copy]))


def test_chinese_edit_is_near_and_a_different_chinese_text_is_not() -> None:
    texts = chinese_texts()
    assert all(len(texts[k]) >= 250 for k in ("original", "edited", "different"))
    original, edited = fingerprint(texts["original"]), fingerprint(texts["edited"])
    different = fingerprint(texts["different"])
    assert hamming(original, edited) <= MAX_DISTANCE
    assert is_near_duplicate(original, edited)
    assert hamming(original, different) > MAX_DISTANCE
    assert not is_near_duplicate(original, different)


def test_candidates_come_from_the_band_index() -> None:
    """The archive's lookup: a band table indexed on band_key finds every original."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE article (id INTEGER PRIMARY KEY, path TEXT, simhash INTEGER)")
    db.execute("CREATE TABLE band (band_key INTEGER, article_id INTEGER)")
    db.execute("CREATE INDEX band_key_idx ON band (band_key)")
    for path, body in site_bodies().items():
        fp = fingerprint(body)
        article = db.execute("INSERT INTO article VALUES (NULL, ?, ?)", (path, fp)).lastrowid
        db.executemany("INSERT INTO band VALUES (?, ?)", [(k, article) for k in lsh_keys(body)])
    for pair in english_pairs():
        fp = fingerprint("\n".join(pair["body"]))
        keys = lsh_keys("\n".join(pair["body"]))
        rows = db.execute(
            "SELECT DISTINCT a.path, a.simhash FROM band b JOIN article a ON a.id = b.article_id"
            f" WHERE b.band_key IN ({','.join('?' * len(keys))})",
            keys,
        ).fetchall()
        assert pair["original"] in {path for path, stored in rows if is_near_duplicate(fp, stored)}
        stored = dict(rows)[pair["original"]]
        assert stored == fingerprint(site_bodies()[pair["original"]])  # INTEGER round trip


def test_fingerprints_are_signed_64_bit() -> None:
    prints = [fingerprint(body) for body in site_bodies().values()]
    prints += [fingerprint(text) for text in chinese_texts().values()]
    assert all(INT64_MIN <= fp <= INT64_MAX for fp in prints)
    assert min(prints) < 0 < max(prints)


def test_identical_text_has_distance_zero() -> None:
    for body in site_bodies().values():
        assert hamming(fingerprint(body), fingerprint(body)) == 0
        assert fingerprint(body) == fingerprint(body.replace("\n", "  "))


def test_case_apostrophes_and_punctuation_do_not_matter() -> None:
    assert fingerprint("Sichuan's economy, grew!") == fingerprint("SICHUAN’S ECONOMY GREW")
    assert fingerprint("（来源：四川日报）") == fingerprint("(来源:四川日报)")


def test_golden_fingerprints() -> None:
    assert {text: fingerprint(text) for text in GOLDEN} == GOLDEN


def test_stable_across_processes_and_hash_seeds() -> None:
    script = (
        "import json, sys\n"
        "from storage.neardup import fingerprint\n"
        "texts = json.load(sys.stdin)\n"
        "leaked = [m for m in sys.modules if m.split('.')[0] in ('scrapy', 'govcrawler')]\n"
        "print(json.dumps([[fingerprint(t) for t in texts], leaked]))\n"
    )
    texts = [ENGLISH, CHINESE, chinese_texts()["original"], *list(site_bodies().values())[:5]]
    children = [
        subprocess.Popen(
            [sys.executable, "-c", script],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=TESTS.parent,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        for seed in ("0", "4242")
    ]
    for child in children:
        output, _ = child.communicate(json.dumps(texts), timeout=120)
        assert child.returncode == 0
        prints, leaked = json.loads(output)
        assert prints == [fingerprint(text) for text in texts]
        assert leaked == [], "storage.neardup must not import scrapy or govcrawler"


def test_text_without_words_does_not_raise_and_is_never_linked() -> None:
    for text in ("", " ", "\n\t", "... ,;!? —", "'’"):
        assert fingerprint(text) == 0
        assert lsh_keys(text) == []
    assert not is_near_duplicate(0, 0)
    assert fingerprint("Sichuan") != 0
    assert fingerprint("川") != 0


def test_hamming() -> None:
    assert hamming(0, -1) == 64
    assert hamming(INT64_MIN, INT64_MAX) == 64
    assert hamming(INT64_MIN, 0) == 1
    assert hamming(5, 3) == hamming(3, 5) == 2


def test_distinct_fixture_articles_are_never_candidates() -> None:
    """The index is selective: no two different fixture articles share a key."""
    keys = {path: set(lsh_keys(body)) for path, body in site_bodies().items()}
    bodies = site_bodies()
    declared = {frozenset((p["copy"], p["original"])) for p in site_pairs()}
    shared = [
        (a, b)
        for a, b in combinations(keys, 2)
        if keys[a] & keys[b] and bodies[a] != bodies[b] and frozenset((a, b)) not in declared
    ]
    assert shared == []
    for pair in site_pairs():  # and each declared republication is its original's candidate
        assert keys[pair["copy"]] & keys[pair["original"]]


def test_chinese_edit_is_a_candidate_and_a_different_text_is_not() -> None:
    texts = chinese_texts()
    original = set(lsh_keys(texts["original"]))
    assert original & set(lsh_keys(texts["edited"]))
    assert not original & set(lsh_keys(texts["different"]))


def test_lsh_keys_carry_their_band_and_fit_sqlite() -> None:
    for body in site_bodies().values():
        keys = lsh_keys(body)
        assert len(keys) == BANDS
        assert [key & 0xF for key in keys] == list(range(BANDS))
        assert all(INT64_MIN <= key <= INT64_MAX for key in keys)
        assert keys == lsh_keys(body.upper())  # case does not matter
