"""`govcrawler changes`: what the archive saw change, newest first (the `field_changes` view).

Read-only, as the other read commands: the archive is never created, upgraded or written."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from govcrawler.cli.common import (
    archive_session,
    database_option,
    json_option,
    main,
    one_line_errors,
)
from govcrawler.cli.render import count, when
from storage.changes import Change, list_changes


class BadOption(click.ClickException):
    """A bad option value: one line, exit 2 (as click's usage errors)."""

    exit_code = 2


def parse_since(value: str | None) -> datetime | None:
    """A YYYY-MM-DD day (from its start, UTC) or an ISO time; else one line, exit 2."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadOption(
            f"--since wants a date like 2026-12-01 (or 2026-12-01T08:00), not {value!r}"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(value: datetime) -> str:
    return value.isoformat()


def describe(change: Change) -> str:
    """What changed, in one line: the field and its old and new value, or the event."""
    if change.change != "changed":
        return change.change
    if change.origin == "reextract":  # our extraction changed, not the site: said first
        return (
            f"re-extracted {change.field}: {_value(change.old_value)} → {_value(change.new_value)}"
        )
    return f"changed {change.field}: {_value(change.old_value)} → {_value(change.new_value)}"


def _value(value: str | None, width: int = 60) -> str:
    if value is None:
        return "(none)"
    return value if len(value) <= width else value[: width - 1] + "…"


@main.command()
@click.option("--since", metavar="YYYY-MM-DD", help="Only changes detected on or after this day.")
@click.option("--field", "field_name", metavar="F", help="Only changes of this field (validity…).")
@click.option("--spider", metavar="NAME", help="Only changes seen by this spider's runs.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many (the newest).")
@click.option(
    "--origin",
    type=click.Choice(["crawl", "reextract"]),
    help="Only what the site changed (crawl) or what re-extraction corrected (reextract).",
)
@json_option
@database_option
@one_line_errors
def changes(
    since: str | None,
    field_name: str | None,
    spider: str | None,
    limit: int | None,
    origin: str | None,
    as_json: bool,
    database: str,
) -> None:
    """List new, changed and withdrawn documents and articles, newest first.

    Each change: when it was detected, the article or document (id, 文号, title, URL), and
    what changed (the field, old → new; a body by its length and digest). A field that a newer
    extraction of an archived capture corrected (`govcrawler reextract`) is listed as
    "re-extracted", not "changed": the site did not change it. --json prints one JSON object
    per line (its "origin": crawl or reextract).

    Example: govcrawler changes --since 2026-12-01 --field validity
    """
    moment = parse_since(since)
    with archive_session(database) as session:
        found = list_changes(
            session, since=moment, field=field_name, spider=spider, limit=limit, origin=origin
        )
    if as_json:
        for change in found:
            row = {name: getattr(change, name) for name in Change.__dataclass_fields__}
            click.echo(json.dumps(row, ensure_ascii=False, default=_iso))
        return
    for change in found:
        number = f"{change.doc_number} " if change.doc_number else ""
        run = f"  (run {change.run_id}, {change.spider})" if change.run_id else ""
        click.echo(f"{when(change.detected_at)}  {describe(change)}{run}")
        click.echo(f"    {change.article_id}  {change.kind}  {number}{change.title}")
        click.echo(f"    {change.url}")
    click.echo(count(len(found), "change"), err=True)
