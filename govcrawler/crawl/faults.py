"""Fault injection for the crash-safety tests: SIGKILL at a named point of a crawl.

`GOVCRAWLER_KILL_AT` names the point and how many times it must be reached first:
`response:N` (the N-th article response), `commit:N` (inside the N-th batch's transaction,
after its writes, before its commit), `batch:N` (just after the N-th commit). Empty (the
default) disables it. A SIGKILL gives the process no chance to clean up, as a power loss or
the OOM killer would not.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from typing import Any


class KillSwitch:
    def __init__(self, spec: str, also: int | None = None) -> None:
        """`also`: a process killed first (the crawl, when the archive's writer process dies)."""
        self.point, self.after, self.also = "", 0, also
        if spec:
            point, _, count = spec.partition(":")
            if point not in ("response", "commit", "batch") or not count.isdigit():
                raise ValueError(
                    f"GOVCRAWLER_KILL_AT must be response|commit|batch:N, not {spec!r}"
                )
            self.point, self.after = point, int(count)
        self.reached: Counter[str] = Counter()

    @classmethod
    def from_settings(cls, settings: Any) -> KillSwitch:
        return cls(settings.get("GOVCRAWLER_KILL_AT", "") or "")

    def tick(self, point: str) -> None:
        """Count one pass through `point`; die there if this is the pass named."""
        if point != self.point:
            return
        self.reached[point] += 1
        if self.reached[point] == self.after:
            if self.also is not None:
                os.kill(self.also, signal.SIGKILL)
            os.kill(os.getpid(), signal.SIGKILL)
