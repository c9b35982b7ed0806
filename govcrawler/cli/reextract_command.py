"""`govcrawler reextract`: the current extraction over the archive's captures (offline)."""

from __future__ import annotations

import json
import sys

import click

import storage
from govcrawler import settings as defaults
from govcrawler.cli.changes_command import parse_since
from govcrawler.cli.common import (
    EXIT_LOCKED,
    database_option,
    json_option,
    main,
    one_line_errors,
)
from govcrawler.cli.lock import ArchiveLock, ArchiveLocked, lock_path
from govcrawler.crawl.faults import KillSwitch
from govcrawler.reextraction.pages import SPIDER_KINDS, Selection
from govcrawler.reextraction.pool import default_workers
from govcrawler.reextraction.run import BATCH
from govcrawler.reextraction.run import reextract as run_reextraction


def _problem(line: str) -> None:
    click.echo(f"problem: {line}", err=True)


def _ids(given: str | None) -> tuple[int | None, int | None]:
    if given is None:
        return None, None
    first, dash, last = given.partition("-")
    if not first.isdigit() or (dash and not last.isdigit()):
        raise click.BadParameter(f"not an id or a range of ids: {given!r}", param_hint="--id")
    return int(first), int(last) if dash else None


@main.command()
@click.option("--spider", type=click.Choice(sorted(SPIDER_KINDS)), help="Only its pages.")
@click.option("--since", metavar="YYYY-MM-DD", help="Only pages captured on or after this day.")
@click.option(
    "--id",
    "article_id",
    metavar="N|N-M",
    help="Only this article or document (N-M: those with ids from N to M).",
)
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option(
    "--batch",
    type=click.IntRange(min=1),
    default=BATCH,
    show_default=True,
    help="Pages per transaction (a killed run loses at most one).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=default_workers,
    show_default="the CPU count",
    envvar="GOVCRAWLER_REEXTRACT_WORKERS",
    help="Processes that extract, while this one writes (0: extract in this one too).",
)
@json_option
@database_option
@one_line_errors
def reextract(
    spider: str | None,
    since: str | None,
    article_id: str | None,
    dry_run: bool,
    batch: int,
    workers: int,
    as_json: bool,
    database: str,
) -> None:
    """Run the current extraction again over the latest capture of every article and
    document, from the archive alone (no network).

    A page whose result differs becomes a new version made by re-extraction (`changes` and
    `show --versions` say so), never an edit by the site; an unchanged one writes nothing.
    --dry-run prints what would change, field by field, with a few diffs (--json: every page
    that changes, with its fields). Safe to kill and rerun; holds the archive's lock, as a
    crawl does. One line on stderr per page that cannot be re-extracted. The extraction runs
    in --workers processes (default: one per CPU; 0: none) a few batches ahead of the one
    writer, which applies the results in id order: the same archive as with 0.

    Example: govcrawler reextract --spider sc_zwgk --dry-run
    """
    kind = SPIDER_KINDS[spider] if spider else None
    selection = Selection(kind, parse_since(since), *_ids(article_id))
    if dry_run:
        engine = storage.open_archive(database, read_only=True)
        try:
            sessions = storage.session_factory(engine)
            report = run_reextraction(
                sessions, selection, False, _problem, workers=workers, batch=batch
            )
        finally:
            engine.dispose()
    else:
        try:
            with ArchiveLock(lock_path(database, lock_dir=defaults.GOVCRAWLER_LOCK_DIR)):
                engine = storage.open_archive(database)
                try:
                    kill_switch = KillSwitch(defaults.GOVCRAWLER_KILL_AT)
                    sessions = storage.session_factory(engine)
                    report = run_reextraction(
                        sessions, selection, True, _problem, kill_switch, workers, batch
                    )
                finally:
                    engine.dispose()
        except ArchiveLocked as error:
            click.echo(str(error), err=True)
            sys.exit(EXIT_LOCKED)
    if as_json:
        click.echo(json.dumps(report.as_json(applied=not dry_run), ensure_ascii=False))
        return
    for line in report.lines(applied=not dry_run):
        click.echo(line)
