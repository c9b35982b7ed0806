"""Exporting the archive's articles as JSON Lines or CSV (WARC: `warc.py`; files:
`export_files.py`).

The writers take rows from `storage.read` and a stream; opening files and printing summaries is
the CLI's job.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.orm import Session

from storage import read
from storage.read import CONTENT_LISTS


def json_value(value: Any) -> Any:
    """`json.dumps` default: dates and times as ISO 8601."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def write_jsonl(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    """One JSON object per line (UTF-8, not escaped); returns the number of rows."""
    written = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False, default=json_value) + "\n")
        written += 1
    return written


def write_csv(rows: Iterable[dict[str, Any]], columns: list[str], out: TextIO) -> int:
    """A header line, then one line per row with the `articles` view's columns."""
    fields = [name for name in columns if name not in CONTENT_LISTS]
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    written = 0
    for row in rows:
        writer.writerow(row)
        written += 1
    return written


@contextmanager
def text_output(path: Path | None, stdout: TextIO) -> Iterator[TextIO]:
    """A UTF-8 text stream on `path`, or on `stdout` (left open) when there is no path."""
    if path is not None:
        with path.open("w", encoding="utf-8", newline="") as file:
            yield file
        return
    buffer = getattr(stdout, "buffer", None)
    if buffer is None:  # a text-only stream (a test's capture): already Unicode
        yield stdout
        return
    stdout.flush()
    wrapper = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
    try:
        yield wrapper
    finally:
        wrapper.flush()
        wrapper.detach()


def export_articles(session: Session, fmt: str, output: Path | None, day: date | None) -> str:
    """Write the articles published since `day` as JSON Lines or CSV; returns the summary."""
    rows = read.article_rows(session, day)
    with text_output(output, sys.stdout) as out:
        if fmt == "jsonl":
            written = write_jsonl(rows, out)
        else:
            written = write_csv(rows, read.article_columns(session), out)
    return (
        f"{(f'{written} article' + ('' if written == 1 else 's'))} written to {output or 'stdout'}"
    )
