"""What every worker process of a crawl (the archive's writer, the text readers) does first.

It ignores SIGINT and SIGTERM, which a terminal or a service manager sends the whole process
group: the crawl stops gracefully and ends its workers itself, after handing them their last
work. And it quits as soon as the crawl's process is gone: after a SIGKILL of the crawl, a
worker left running would hold the crawl's stdout and stderr open, and whoever waits for them
(cron, a test) would wait forever.
"""

from __future__ import annotations

import os
import signal
import threading
import time

POLL_S = 0.5


def start_child(crawl_pid: int) -> None:
    """Call first in a worker process of the crawl whose process id is `crawl_pid`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=_watch, args=(crawl_pid,), name="crawl-watch", daemon=True).start()


def _watch(crawl_pid: int) -> None:
    """Quit, mid-work or not (a transaction under way is rolled back), once the crawl is gone."""
    while os.getppid() == crawl_pid:
        time.sleep(POLL_S)
    os._exit(1)
