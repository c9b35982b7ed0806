"""How the CLI shows articles, versions, diffs and stats: formatting only, no queries."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click

import storage
from storage import read


def count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else "never"


def echo_json(value: Any) -> None:
    from govcrawler.cli.export import json_value

    click.echo(json.dumps(value, ensure_ascii=False, indent=2, default=json_value))


def version_summary(v: storage.ArticleVersion) -> dict[str, Any]:
    fields = (
        "version_no",
        "first_seen_at",
        "last_seen_at",
        "title",
        "content_digest",
        "origin",
        "extractor_revision",
    )
    return {name: getattr(v, name) for name in fields}


def echo_article(detail: read.ArticleDetail, files: list[storage.PageFile]) -> None:
    """The header of `show`: what the article is, where it lives, what it links to (its
    images and attachments with what the archive holds of each)."""
    day = detail.published_on.isoformat() if detail.published_on else "(no date)"
    click.echo(click.style(detail.title, bold=True))
    click.echo(f"id {detail.id} · {day} · {detail.column_name or '-'} ({detail.column_id})")
    click.echo(f"url: {detail.url}")
    for alias in detail.aliases:
        click.echo(f"also at: {alias.url} ({alias.published_on or 'no date'})")
    click.echo(
        f"versions: {detail.version_count} (first seen {when(detail.first_seen_at)},"
        f" last seen {when(detail.last_seen_at)})"
    )
    if detail.withdrawn_at:
        click.echo(f"withdrawn: {when(detail.withdrawn_at)}")
    for label, links in (("copies", detail.copies), ("copied by", detail.copied_by)):
        for link in links:
            click.echo(f"{label}: {link.id} {link.url} (distance {link.distance}) {link.title}")
    for caption in detail.captions:
        click.echo(f"caption: {caption}")
    for file in files:
        click.echo(f"{file.role}: {file.url}  {file.name or ''}".rstrip())
        click.echo(f"  {file_state(file)}")


def file_state(file: storage.PageFile) -> str:
    """What the archive holds of a linked file, in a few words, its state first."""
    if file.sha256 is None:
        why = {
            "pending": "not fetched yet",
            "offsite": "on another host: never fetched",
            "too_large": f"{file.length or 0:,} bytes declared, over the limit: not kept",
        }.get(file.state, f"HTTP {file.status}, nothing stored")
        return f"{file.state}: {why}"
    text = f"text {file.text_length or 0:,} characters"
    if file.text_status != "ok":
        text = "text not read" if file.text_status in (None, "not_read") else "no text"
        text += f" ({file.text_status})" if file.text_status else ""
    now = "" if file.state == "stored" else f" (HTTP {file.status}: its last body kept)"
    return (
        f"{file.state}{now}: {file.media_type}, {file.length or 0:,} bytes, "
        f"sha256 {file.sha256[:12]}…, {text}"
    )


def echo_diff(changes: read.VersionDiff | None) -> None:
    if changes is None:
        click.echo("only one version: nothing to diff")
        return
    colours = {"+": "green", "-": "red", "@": "cyan"}
    for line in changes.lines:
        click.echo(click.style(line, fg=colours.get(line[:1])))


def stats_text(counts: read.ArchiveStats, where: str) -> str:
    """The text of `govcrawler stats`."""
    size = f", {counts.file_bytes:,} bytes on disk" if counts.file_bytes is not None else ""
    ratio = f" ({counts.stored_ratio:.1%} of raw)" if counts.stored_ratio is not None else ""
    lines = [
        f"archive: {where}{size}, schema {counts.schema_revision}",
        f"articles: {counts.articles} ({counts.articles_with_versions} with more than one"
        f" version, {counts.withdrawn} withdrawn)",
        f"versions: {counts.versions}",
        f"aliases: {counts.aliases}",
        f"near-duplicate links: {counts.near_duplicates}",
        f"captures: {counts.captures} ({counts.stored_bodies} stored bodies,"
        f" {counts.revisits} revisits; {counts.file_captures} of files)",
        f"bytes of pages and lists: {counts.raw_bytes:,} raw, {counts.stored_bytes:,} stored"
        f" compressed{ratio}",
        f"files: {counts.files} linked, {counts.stored_files} bodies stored"
        f" ({counts.file_raw_bytes:,} bytes raw, {counts.file_stored_bytes:,} stored compressed)",
        f"fetched: {when(counts.first_fetch)} to {when(counts.last_fetch)}",
        "per column:",
        *(f"  {n:>5}  {c or '-'}  {name or ''}" for c, name, n in counts.per_column),
        "per year:",
        *(f"  {n:>5}  {y or '(no date)'}" for y, n in counts.per_year),
    ]
    return "\n".join(lines)


_RUN_FIELDS = (
    "id",
    "spider",
    "started_at",
    "finished_at",
    "outcome",
    "exit_status",
    "full",
    "recovery",
    "requests",
    "responses_by_status",
    "new_articles",
    "new_versions",
    "withdrawn",
    "dropped",
    "extraction_fallbacks",
    "blocked",
    "problems",
)


def run_summary(run: storage.CrawlRun) -> dict[str, Any]:
    return {name: getattr(run, name) for name in _RUN_FIELDS}


def runs_text(runs: list[storage.CrawlRun]) -> str:
    """One line per run, newest first, and its problems indented below it."""
    width = max(len("spider"), *(len(run.spider) for run in runs))
    lines = [
        f"  id  {'spider':<{width}}  started (UTC)        took    outcome         exit"
        "  requests  new  versions  withdrawn  blocked"
    ]
    for run in runs:
        took = (
            f"{(run.finished_at - run.started_at).total_seconds():.0f}s" if run.finished_at else "-"
        )
        mode = " full" if run.full else " recovery" if run.recovery else ""
        lines.append(
            f"{run.id:>4}  {run.spider:<{width}}  {run.started_at:%Y-%m-%d %H:%M:%S}  {took:>6}  "
            f"{run.outcome + mode:<15} {run.exit_status if run.exit_status is not None else '-':>4}"
            f"  {run.requests:>8}  {run.new_articles:>3}  {run.new_versions:>8}"
            f"  {run.withdrawn:>9}  {run.blocked:>7}"
        )
        lines.extend(f"        problem: {problem}" for problem in run.problems)
    return "\n".join(lines)
