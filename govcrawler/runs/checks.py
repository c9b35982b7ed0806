"""What the health checks share: their thresholds, the problem they report, and reading Scrapy
stats (counters by key and prefix, shares as text)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

Stats = Mapping[str, Any]
# Slack in share comparisons: a figure exactly at its threshold passes despite float rounding
# (a coverage drop from 90% to 70% computes as 0.20000000000000007).
SLACK = 1e-9
_T = TypeVar("_T", int, float)


@dataclass(frozen=True)
class Thresholds:
    """Limits a run must stay within; built from the GOVCRAWLER_* settings by the caller."""

    max_fallback_share: float = 0.2
    max_error_rate: float = 0.2
    max_coverage_drop: float = 0.2
    min_pages: int = 5

    @classmethod
    def from_settings(cls, get: Callable[[str], Any]) -> Thresholds:
        """Read `GOVCRAWLER_MAX_*` and `GOVCRAWLER_HEALTH_MIN_PAGES` through `get`.

        `get` is `dict.get` or a Scrapy `Settings.get`; missing settings keep the defaults and
        command-line strings ("0.3", "10") are converted. A bad value raises `ValueError`
        naming the setting.
        """
        d = cls()
        return cls(
            _setting(get, "GOVCRAWLER_MAX_FALLBACK_SHARE", d.max_fallback_share),
            _setting(get, "GOVCRAWLER_MAX_ERROR_RATE", d.max_error_rate),
            _setting(get, "GOVCRAWLER_MAX_COVERAGE_DROP", d.max_coverage_drop),
            _setting(get, "GOVCRAWLER_HEALTH_MIN_PAGES", d.min_pages),
        )


@dataclass(frozen=True)
class Problem:
    """One failed check, `message` a single line for the operator with the figures in it.

    `check` is "blocked", "start_page", "nothing_found", "empty_column",
    "extraction_fallback", "field_coverage", "document_layout", "validity_source",
    "list_shape" or "error_rate"; `blocked` is True only for "blocked".
    """

    check: str
    message: str
    blocked: bool


def with_prefix(stats: Stats, prefix: str) -> dict[str, int]:
    return {key.removeprefix(prefix): count(stats, key) for key in stats if key.startswith(prefix)}


def count(stats: Stats, key: str) -> int:
    """A counter from the stats; a missing or non-numeric value counts as 0."""
    value = stats.get(key, 0)
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return int(value) if ok else 0


def when(age: int) -> str:
    return "the previous run" if age == 0 else f"an earlier run, {age + 1} runs ago"


def over(part: int, whole: int, limit: float, min_pages: int) -> bool:
    """True when part/whole exceeds `limit` and `whole` is big enough to prove anything."""
    return whole >= max(min_pages, 1) and part / whole > limit + SLACK


def num(share: float) -> str:
    """A share as a number of percent: 0.25 -> "25", 0.2167 -> "21.7"."""
    return f"{share * 100:.1f}".removesuffix(".0")


def pct(share: float) -> str:
    return num(share) + "%"


def _setting(get: Callable[[str], Any], name: str, default: _T) -> _T:
    """The setting converted to the default's type: a float share 0..1, or a count of 0 or more."""
    raw = get(name)
    if raw is None or raw == "":
        return default
    share = isinstance(default, float)
    try:
        value = type(default)(raw)
    except (TypeError, ValueError):
        value = None
    if value is None or not 0 <= value <= (1 if share else math.inf):  # NaN fails too
        bounds = "a number from 0 to 1" if share else "a whole number, 0 or more"
        raise ValueError(f"{name} must be {bounds}, got {raw!r}")
    return value
