"""Where the log of an in-process crawl goes: a rotating file with every detail, or the
terminal with one line per record.

Scrapy logs some errors with their traceback (robots.txt that cannot be fetched, a twisted
failure): on a terminal, and in the mail cron sends, the line above the traceback says it
all, so the terminal never shows one. The file keeps them for whoever debugs.
"""

from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

from scrapy.settings import Settings

_installed: logging.Handler | None = None


class OneLineFormatter(logging.Formatter):
    """A record's own line, without its traceback or stack."""

    def format(self, record: logging.LogRecord) -> str:
        kept = record.exc_info, record.exc_text, record.stack_info
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        try:
            return super().format(record)
        finally:  # other handlers (a file) still get the whole record
            record.exc_info, record.exc_text, record.stack_info = kept


def install(settings: Settings, log_file: Path | None = None) -> None:
    """Send the log to `log_file` (rotated at 10 MB, 5 kept), else to stderr one line per
    record, else (`LOG_ENABLED` false) nowhere; replaces the handler a previous call put in.
    Scrapy's own root handler is switched off (`LOG_INSTALL_ROOT_HANDLER`)."""
    global _installed  # one handler per process, as Scrapy keeps its own
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
    fmt, datefmt = settings.get("LOG_FORMAT"), settings.get("LOG_DATEFORMAT")
    handler: logging.Handler
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(
            log_file, maxBytes=10_000_000, backupCount=5, encoding="utf-8"
        )
        handler.setFormatter(logging.Formatter(fmt, datefmt))
    elif settings.getbool("LOG_ENABLED"):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(OneLineFormatter(fmt, datefmt))
    else:
        handler = logging.NullHandler()
    handler.setLevel(settings.get("LOG_LEVEL"))
    root = logging.getLogger()
    if _installed is not None:
        root.removeHandler(_installed)
        _installed.close()
    root.addHandler(handler)
    root.setLevel(handler.level)
    _installed = handler
