"""Near-duplicates: a MinHash-LSH index finds candidates, a 64-bit SimHash decides.

Both work on the *set* of word shingles of a text. The text is NFKC-normalised and
lower-cased; apostrophes are dropped (``province’s`` = ``province's``) and any other character
that is not a letter or digit separates words. A Chinese (or Japanese kana) character is a word
of its own, so on Chinese text a shingle of ``SHINGLE`` words is a character n-gram. Words and
shingles are hashed in numpy with fixed 64-bit arithmetic (a polynomial over code points, then
the splitmix64 finaliser), so every value is the same in every process and on every machine;
Python's ``hash()`` is never used.

- ``lsh_keys``: the index keys. An article is stored under its keys (one indexed
  ``(band_key, article_id)`` row per band); the articles sharing a key with a new one are its
  candidates: texts whose shingle sets overlap, a handful however large the archive.
- ``fingerprint`` / ``is_near_duplicate``: the SimHash and the threshold on its Hamming
  distance, measured on the fixtures (``MAX_DISTANCE``), applied to the candidates.

SimHash alone cannot serve as its own index at this threshold: exact-match bands of 64 bits
that guarantee recall at 12 bits are 4-5 bits wide and return about a third of the archive.

Every value is signed 64-bit: it fits an SQLite INTEGER as it is. A text without any word has
the fingerprint 0 ("no fingerprint") and no keys: it is never anybody's near-duplicate.
"""

from __future__ import annotations

import unicodedata
from functools import cache

import numpy as np
import numpy.typing as npt

__all__ = [
    "BANDS",
    "MAX_DISTANCE",
    "ROWS",
    "SHINGLE",
    "fingerprint",
    "hamming",
    "is_near_duplicate",
    "lsh_keys",
    "signature",
]

#: Words per shingle, chosen by measurement on the fixtures over 100 hash functions (the
#: figures below): single words gave the smallest near-duplicate distances but linked 5x more
#: distinct pairs and brought long texts on one theme close (two halves of the government work
#: reports: 13 bits at worst); 3-word shingles put the light edits at up to 18 bits. Word
#: pairs separated the two best; in Chinese, character bigrams beat single characters too
#: (different texts 28-32 bits apart instead of 17-26).
SHINGLE = 2

#: Largest Hamming distance between near-duplicates. Measured with this module (the tests
#: recompute it): the 16 edited copies of 16 fixture articles (tests/fixtures/near_duplicates)
#: are 0-10 bits from their originals; the 630 pairs of distinct fixture articles 18-43 bits;
#: a Chinese edit 8 bits, two different Chinese texts 32. 12 keeps a margin of 2 bits on the
#: near side and 6 on the distinct side, leaning that way because distinct pairs grow as N**2
#: with the archive. Over 100 other hash functions, 12 missed 1.1 % of the edited copies and
#: linked 2 of 63,000 distinct fixture pairs. Two unrelated texts fall within 12 bits with
#: probability 2.3e-7: about 0.1 chance links among 1,000 articles, 11 among 10,000. Texts of
#: one formula are not unrelated: two short 省政府令 (about 400 characters each, the same
#: promulgation sentence and 第N条 frame) are 12 bits apart; they share no LSH band, so the
#: archive never compares them (tests/test_neardup.py checks every such fixture pair).
MAX_DISTANCE = 12

#: MinHash-LSH candidate index: BANDS bands of ROWS min-hashes. Every edited copy of the
#: fixtures shares a band with its original; of the 630 distinct fixture pairs, none does
#: (tests/test_neardup.py recomputes both).
BANDS = 16
ROWS = 4
PERMUTATIONS = BANDS * ROWS

_BITS = 64
_MASK = (1 << _BITS) - 1
# Character classes: separator, letter or digit, a word by itself (CJK), dropped (apostrophe).
_SEPARATOR, _LETTER, _IDEOGRAPH, _DROPPED = 0, 1, 2, 3
_IDEOGRAPHS = [(0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF)]
_APOSTROPHES = "'`\u2018\u2019\u02bc\u2032"
# Odd 64-bit constants: the polynomial base (golden ratio) and the splitmix64 multipliers.
_BASE = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)

U64Array = npt.NDArray[np.uint64]


def _mix(x: U64Array) -> U64Array:
    """The splitmix64 finaliser, element-wise (uint64 arithmetic wraps modulo 2**64)."""
    x = (x ^ (x >> np.uint64(30))) * _MIX1
    x = (x ^ (x >> np.uint64(27))) * _MIX2
    return x ^ (x >> np.uint64(31))


# The min-hash permutations x -> a*x + b (mod 2**64), a odd: fixed constants derived with
# splitmix64 from their index, so the keys never change with a library's random generator.
_PERM_A = _mix(np.arange(1, PERMUTATIONS + 1, dtype=np.uint64) * _BASE) | np.uint64(1)
_PERM_B = _mix(np.arange(PERMUTATIONS + 1, 2 * PERMUTATIONS + 1, dtype=np.uint64) * _BASE)


@cache
def _classes() -> npt.NDArray[np.uint8]:
    """The class of every BMP code point; index 0x10000 stands for all the others (one-char
    words). Built once per process (about 15 ms) from `str.isalnum`, i.e. regex ``[^\\W_]``."""
    table = np.fromiter((chr(c).isalnum() for c in range(0x10000)), np.uint8) * _LETTER
    for first, last in _IDEOGRAPHS:
        table[first : last + 1] = np.where(table[first : last + 1], _IDEOGRAPH, _SEPARATOR)
    table[[ord(c) for c in _APOSTROPHES]] = _DROPPED
    return np.append(table, np.uint8(_IDEOGRAPH))


def _word_hashes(text: str) -> U64Array:
    """One 64-bit hash per word of `text`, in order (see the module docstring for "word")."""
    normal = unicodedata.normalize("NFKC", text).lower()
    codes = np.frombuffer(normal.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    kinds = _classes()[np.minimum(codes, 0x10000)]
    codes, kinds = codes[kinds != _DROPPED], kinds[kinds != _DROPPED]
    in_word = kinds != _SEPARATOR
    before = np.concatenate((np.zeros(1, np.uint8), kinds[:-1]))
    starts = in_word & ((before == _SEPARATOR) | (before == _IDEOGRAPH) | (kinds == _IDEOGRAPH))
    first = np.flatnonzero(starts[in_word])
    if not len(first):
        return np.empty(0, np.uint64)
    word_of = np.cumsum(starts[in_word]) - 1
    position = np.arange(len(word_of)) - first[word_of]
    powers = np.cumprod(np.full(int(position.max()) + 1, _BASE, np.uint64))
    terms = (codes[in_word].astype(np.uint64) + np.uint64(1)) * powers[position]
    return _mix(np.add.reduceat(terms, first))


def _shingle_hashes(words: U64Array) -> U64Array:
    """Distinct hashes of the runs of `SHINGLE` consecutive words (of all words if fewer)."""
    width = min(SHINGLE, len(words))
    combined = words[: len(words) - width + 1].copy()
    for offset in range(1, width):
        combined = combined * _BASE + words[offset : len(words) - width + 1 + offset]
    ordered = np.sort(_mix(combined))
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]


def fingerprint(text: str) -> int:
    """The signed 64-bit SimHash of `text`; 0 when `text` has no word at all.

    Bit ``i`` is set when more than half of the distinct shingles have bit ``i`` set. A text
    shorter than one shingle is fingerprinted as a single shingle of all its words.

    >>> fingerprint("")
    0
    >>> fingerprint("Sichuan’s daily") == fingerprint("SICHUAN'S, Daily!")
    True
    """
    return signature(text)[0]


def signature(text: str) -> tuple[int, list[int]]:
    """`fingerprint(text)` and `lsh_keys(text)` together, the text's words hashed once."""
    words = _word_hashes(text)
    if not len(words):
        return 0, []
    shingles = _shingle_hashes(words)
    return _simhash(shingles), _band_keys(shingles)


def _simhash(shingles: U64Array) -> int:
    octets = shingles.astype("<u8").view(np.uint8)
    matrix = np.unpackbits(octets, bitorder="little").reshape(-1, _BITS).astype(np.float32)
    ones = np.ones(len(shingles), np.float32) @ matrix  # per-bit counts, exact below 2**24
    bits = np.packbits(ones * 2 > len(shingles), bitorder="little")
    return int.from_bytes(bits.tobytes(), "little", signed=True)


def hamming(a: int, b: int) -> int:
    """The number of bits in which the signed 64-bit fingerprints `a` and `b` differ."""
    return ((a ^ b) & _MASK).bit_count()


def lsh_keys(text: str) -> list[int]:
    """The `BANDS` MinHash-LSH keys of `text`: its near-duplicate candidates' index keys.

    `PERMUTATIONS` min-hashes of the shingle set, cut into `BANDS` bands of `ROWS`; a band's
    key hashes its rows and carries the band number in its low 4 bits. Two texts share a key
    with probability 1 - (1 - J**ROWS)**BANDS for shingle-set Jaccard similarity J: 0.99 at
    J = 0.7, 1e-4 for unrelated texts (J ~ 0.05), so a lookup returns the few texts that
    resemble this one, never a share of the archive. Text without words has no keys.
    """
    return signature(text)[1]


def _band_keys(shingles: U64Array) -> list[int]:
    # One permutation per row, computed in place: a second temporary of this size (~0.4 MB)
    # cost ten times the arithmetic (benchmarks/bench_write.py: 1.0 -> 0.25 ms per body).
    values = np.multiply(_PERM_A[:, None], shingles[None, :])
    np.add(values, _PERM_B[:, None], out=values)
    rows = values.min(axis=1).reshape(BANDS, ROWS)
    combined = rows[:, 0]
    for column in range(1, ROWS):
        combined = _mix(combined * _BASE + rows[:, column])
    keys = (combined & ~np.uint64(0xF)) | np.arange(BANDS, dtype=np.uint64)
    return [int(key) - (1 << 64) if key >> 63 else int(key) for key in keys.tolist()]


def is_near_duplicate(a: int, b: int) -> bool:
    """True when fingerprints `a` and `b` are within `MAX_DISTANCE` bits (never for 0)."""
    return a != 0 and b != 0 and hamming(a, b) <= MAX_DISTANCE
