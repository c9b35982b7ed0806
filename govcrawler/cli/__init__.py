"""The `govcrawler` command: crawl the site (or a saved copy of it) into an archive, then
search, show, export and count what it holds, and keep the test fixtures.

One click group (`main`); its commands live in the modules below, by what they work on.
"""

from govcrawler.cli import (
    archive_commands,
    changes_command,
    crawl_commands,
    db_commands,
    export_command,
    fixture_commands,
    reextract_command,
)
from govcrawler.cli.common import main

__all__ = [
    "archive_commands",
    "changes_command",
    "crawl_commands",
    "db_commands",
    "export_command",
    "fixture_commands",
    "main",
    "reextract_command",
]
