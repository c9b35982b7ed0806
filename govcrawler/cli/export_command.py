"""`govcrawler export`: articles as JSON Lines or CSV, captures as a WARC, files as files.

Like the other read commands it never creates nor upgrades an archive; the writers are in
export.py (jsonl, csv), warc.py and export_files.py, imported only when exporting (warcio).
"""

from __future__ import annotations

from pathlib import Path

import click

from govcrawler.cli.common import (
    archive_session,
    database_option,
    describe_database,
    main,
    one_line_errors,
    parse_day,
)


@main.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv", "warc", "files"]),
    required=True,
    help="Output format.",
)
@click.option(
    "--since",
    metavar="YYYY-MM-DD",
    help="jsonl/csv: articles published on or after this day; warc: captures fetched since then.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path, allow_dash=True),
    help="File to write; - (or none, for jsonl and csv) is standard output.",
)
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@database_option
@one_line_errors
def export(
    fmt: str, since: str | None, output: Path | None, directory: Path | None, database: str
) -> None:
    """Export articles (jsonl, csv), raw captures (warc) or the stored files (files DIR).

    jsonl and csv (UTF-8) have one row per article or document, to stdout or -o FILE; every
    time carries its zone (UTC, +00:00). warc writes a gzipped WARC of every capture (pages,
    lists, list API answers, images, attachments), a revisit record for each repeated one, a
    metadata record for a file whose body was not kept (too large, cut) and, before the answer
    to a request that was not a GET (the list API's POST), a request record with its method and
    body, to -o FILE (-o - for standard output).
    files writes each stored file once as DIR/<sha256>.<ext> and DIR/index.jsonl, one line per
    (file URL, page).

    Example: govcrawler export --format warc -o archive.warc.gz

    Example: govcrawler export --format files exported-files/
    """
    day = parse_day(since, "--since")
    if fmt == "files":
        _export_files(directory, output, since, database)
        return
    if directory is not None:
        raise click.ClickException(f"only --format files takes a directory (got {directory})")
    if fmt == "warc" and output is None:
        raise click.ClickException("--format warc writes a file: add -o FILE.warc.gz (or -o -)")
    to_stdout = output is not None and str(output) == "-"
    target = None if to_stdout else output
    try:
        with archive_session(database) as session:
            if fmt == "warc":
                from govcrawler.cli import warc  # warcio only when exporting

                summary = warc.export_warc(session, target, day, describe_database(database))
            else:
                from govcrawler.cli import export as writers

                summary = writers.export_articles(session, fmt, target, day)
    except OSError as error:
        raise click.ClickException(
            f"cannot write {'stdout' if target is None else target}: {error.strerror}"
        ) from error
    click.echo(summary, err=True)


def _export_files(
    directory: Path | None, output: Path | None, since: str | None, database: str
) -> None:
    from govcrawler.cli.export_files import ExportError, export_files

    if directory is None or output is not None or since is not None:
        raise click.ClickException(
            "--format files takes a directory only: export --format files DIR"
        )
    try:
        with archive_session(database) as session:
            summary = export_files(session, directory)
    except ExportError as error:
        raise click.ClickException(str(error)) from error
    except OSError as error:
        raise click.ClickException(f"cannot write to {directory}: {error.strerror}") from error
    click.echo(summary, err=True)
