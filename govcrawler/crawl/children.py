"""What every worker process of a crawl or a re-extraction (the archive's writer, the text
readers, the extraction workers) does first.

It ignores SIGINT and SIGTERM, which a terminal or a service manager sends the whole process
group: the parent stops gracefully and ends its workers itself, after handing them their last
work. And it quits as soon as its parent is gone: after a SIGKILL of the parent, a worker left
running would hold the parent's stdout and stderr open, and whoever waits for them (cron, a
test) would wait forever.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from multiprocessing.connection import wait


def start_child(role: str) -> None:
    """Call first in a worker process started by `multiprocessing`; `role` names it to the
    system (`ps -o comm`, `top`: `gc-writer`, `gc-text`, `gc-extract`), where every spawned
    worker's command line is the same."""
    _name(f"gc-{role}")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent.sentinel,), daemon=True).start()


def _exit_with(sentinel: int) -> None:
    """Quit, mid-work or not (a transaction under way is rolled back), once the parent is gone."""
    wait([sentinel])  # readable once the parent is gone
    os._exit(1)


def _name(name: str) -> None:
    try:
        with open("/proc/self/comm", "w", encoding="ascii") as comm:
            comm.write(name[:15])
    except OSError:  # not Linux: the name is only a convenience
        pass
