"""Commands that read the archive: `search`, `show`, `export`, `stats`.

They never create or upgrade an archive; their queries live in `storage.read` and
`storage.search.ranking`, their formatting in `govcrawler.cli.render`."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import click

from govcrawler.cli.common import (
    archive_session,
    database_option,
    describe_database,
    json_option,
    main,
    one_line_errors,
    parse_day,
)
from govcrawler.cli.render import (
    count,
    echo_article,
    echo_diff,
    echo_json,
    stats_text,
    version_summary,
    when,
)
from govcrawler.extract.urls import canonical_url
from storage import read
from storage.search.ranking import search_articles


@main.command()
@click.argument("query")
@click.option("--since", metavar="YYYY-MM-DD", help="Only articles published on or after this day.")
@click.option("--until", metavar="YYYY-MM-DD", help="Only articles published on or before it.")
@click.option("--column", metavar="ID_OR_NAME", help="Only this column (10766, or its name).")
@click.option(
    "--limit",
    type=click.IntRange(min=1, max=1000),
    default=20,
    show_default=True,
    help="Most hits shown.",
)
@json_option
@database_option
@one_line_errors
def search(
    query: str,
    since: str | None,
    until: str | None,
    column: str | None,
    limit: int,
    as_json: bool,
    database: str,
) -> None:
    """Search titles and bodies, best matches first.

    Prints each hit's id, date, column, title, URL and a snippet with the matches marked.
    QUERY is words (all must match), "a phrase", OR, NOT, prefix*; Chinese works as typed.

    Example: govcrawler search "giant panda" --since 2019-01-01
    """
    bold = not as_json and sys.stdout.isatty()
    mark = (click.style("", bold=True, reset=False), click.style("", reset=True)) if bold else None
    with archive_session(database) as session:
        hits = search_articles(
            session,
            query,
            since=parse_day(since, "--since"),
            until=parse_day(until, "--until"),
            column=column,
            limit=limit,
            mark=mark or ("[", "]"),
        )
    if as_json:
        fields = ("article_id", "url", "title", "published_on", "column_name", "snippet", "score")
        echo_json([{name: getattr(hit, name) for name in fields} for hit in hits])
        return
    if not hits:
        click.echo(f"no articles match {query!r}")
        return
    for hit in hits:
        day = hit.published_on.isoformat() if hit.published_on else "(no date)"
        click.echo(f"{hit.article_id}  {day}  {hit.column_name or '-'}  {hit.title}")
        click.echo(f"    {hit.url}\n    {hit.snippet}\n")
    more = f" (the first {limit}: raise --limit for more)" if len(hits) == limit else ""
    click.echo(f"{count(len(hits), 'article')}{more}")


@main.command()
@click.argument("article", metavar="ID_OR_URL")
@click.option("--versions", is_flag=True, help="List every version of the article.")
@click.option("--diff", is_flag=True, help="Diff the two latest versions, paragraph by paragraph.")
@json_option
@database_option
@one_line_errors
def show(article: str, versions: bool, diff: bool, as_json: bool, database: str) -> None:
    """Print one article, its links and its body.

    ID_OR_URL is the archive id, or any URL of the article (an alias, http:// or https://).

    Example: govcrawler show 12 --versions --diff
    """
    key = int(article) if article.strip().isdigit() else canonical_url(article)
    with archive_session(database) as session:
        found = read.find_article(session, key) if key is not None else None
        if found is None:
            raise click.ClickException(
                f"no article {article!r} in the archive (give an id or URL; search finds ids)"
            )
        detail = read.article_detail(session, found)
        history = read.article_versions(session, found.id) if versions else []
        changes = read.version_diff(session, found.id) if diff else None
    if as_json:
        output = dataclasses.asdict(detail)
        if versions:
            output["versions"] = [version_summary(v) for v in history]
        if diff:
            output["diff"] = changes.lines if changes else None
        echo_json(output)
        return
    echo_article(detail)
    if versions:
        click.echo("\nversions:")
        for v in history:
            click.echo(
                f"  {v.version_no}  first seen {when(v.first_seen_at)}  last seen "
                f"{when(v.last_seen_at)}  {v.content_digest[:12]}  {v.title}"
            )
    click.echo(f"\n{detail.body}")
    if diff:
        click.echo()
        echo_diff(changes)


@main.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv", "warc"]),
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
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default stdout; required for warc).",
)
@database_option
@one_line_errors
def export(fmt: str, since: str | None, output: Path | None, database: str) -> None:
    """Export articles (jsonl, csv) or raw captures (warc).

    jsonl and csv (UTF-8) have one row per article, to stdout or -o FILE; warc writes a
    gzipped WARC file of every capture, a revisit record for each repeated one.

    Example: govcrawler export --format warc -o archive.warc.gz
    """
    from govcrawler.cli import export as writers  # warcio only when exporting

    day = parse_day(since, "--since")
    if fmt == "warc" and output is None:
        raise click.ClickException("--format warc writes a file: add -o FILE.warc.gz")
    try:
        with archive_session(database) as session:
            if output is not None and fmt == "warc":
                summary = writers.export_warc(session, output, day, describe_database(database))
            else:
                summary = writers.export_articles(session, fmt, output, day)
    except OSError as error:
        raise click.ClickException(
            f"cannot write {output or 'stdout'}: {error.strerror}"
        ) from error
    click.echo(summary, err=True)


@main.command()
@json_option
@database_option
@one_line_errors
def stats(as_json: bool, database: str) -> None:
    """Count what the archive holds.

    Articles, versions, aliases, near-duplicates, captures and their bytes, columns, years.

    Example: govcrawler stats --json
    """
    with archive_session(database) as session:
        counts = read.archive_stats(session)
    if as_json:
        output = dataclasses.asdict(counts)
        output["stored_ratio"] = counts.stored_ratio
        output["per_column"] = [
            {"column_id": c, "column_name": name, "articles": n} for c, name, n in counts.per_column
        ]
        output["per_year"] = [{"year": y, "articles": n} for y, n in counts.per_year]
        output["archive"] = describe_database(database)
        echo_json(output)
        return
    click.echo(stats_text(counts, describe_database(database)))
