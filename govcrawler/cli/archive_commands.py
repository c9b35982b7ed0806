"""Commands that read the archive: `search`, `show`, `stats` (`export`: export_command.py).

They never create or upgrade an archive; their queries live in `storage.read` and
`storage.search.ranking`, their formatting in `govcrawler.cli.render`."""

from __future__ import annotations

import dataclasses
import sys
import unicodedata
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

import storage
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
from govcrawler.extract.docnumber import doc_number_query
from govcrawler.extract.urls import canonical_url
from govcrawler.extract.validity import VALIDITY_WORDS, normalise_validity
from storage import read
from storage.models import FileBlob
from storage.search.ranking import DocumentFilter, search_articles


def documents_filter(
    query: str, issuer: str | None, series: str | None, validity: str | None
) -> tuple[str, DocumentFilter]:
    """The text to search and what documents must have: a query that is a 文号 (any bracket
    form) is searched as the phrase of its normalised form, its documents first."""
    number = doc_number_query(query)
    wanted = validity
    if validity is not None and (wanted := normalise_validity(validity)) is None:
        words = ", ".join(sorted(set(VALIDITY_WORDS.values())))
        raise click.ClickException(f"unknown --validity {validity!r}: use one of {words}")
    found = DocumentFilter(
        doc_number=number,
        issuer=" ".join(issuer.split()) if issuer is not None else None,
        series="".join(unicodedata.normalize("NFKC", series).split()) if series else series,
        validity=wanted,
    )
    return (f'"{number}"' if number else query), found


@main.command()
@click.argument("query")
@click.option("--since", metavar="YYYY-MM-DD", help="Only articles published on or after this day.")
@click.option("--until", metavar="YYYY-MM-DD", help="Only articles published on or before it.")
@click.option("--column", metavar="ID_OR_NAME", help="Only this column (10766, or its name).")
@click.option("--issuer", metavar="NAME", help="Only documents of this issuer (发布机构, exact).")
@click.option("--series", metavar="PREFIX", help="Only documents of this 文号 series (川府发).")
@click.option(
    "--validity", metavar="WORD", help="Only documents this valid (有效, 失效, 尚未施行)."
)
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
    issuer: str | None,
    series: str | None,
    validity: str | None,
    limit: int,
    as_json: bool,
    database: str,
) -> None:
    """Search titles, 文号 and bodies, best matches first.

    Prints each hit's id, date, column, 文号, title, URL and a snippet with the matches marked;
    a page found by the text of one of its files (a PDF, a DOCX …) names the file, and its
    snippet is the file's.
    QUERY is words (all must match), "a phrase", OR, NOT, prefix*; Chinese works as typed. A
    文号 in any bracket form (川府发[2024]3号) lists the document with it first, then the
    texts that mention it.

    Example: govcrawler search "giant panda" --since 2019-01-01
    """
    bold = not as_json and sys.stdout.isatty()
    mark = (click.style("", bold=True, reset=False), click.style("", reset=True)) if bold else None
    searched, wanted = documents_filter(query, issuer, series, validity)
    with archive_session(database) as session:
        hits = search_articles(
            session,
            searched,
            since=parse_day(since, "--since"),
            until=parse_day(until, "--until"),
            column=column,
            limit=limit,
            mark=mark or ("[", "]"),
            documents_filter=wanted,
        )
    if as_json:
        fields = (
            *("article_id", "url", "title", "published_on", "column_name", "snippet", "score"),
            *("doc_number", "number_match"),
        )
        echo_json(
            [
                {name: getattr(hit, name) for name in fields}
                | {
                    "matched_file": dataclasses.asdict(hit.matched_file)
                    if hit.matched_file
                    else None
                }
                for hit in hits
            ]
        )
        return
    if not hits:
        click.echo(f"no {'documents' if wanted.given() else 'articles'} match {query!r}")
        return
    for index, hit in enumerate(hits):
        if wanted.doc_number and index == 0 and hit.number_match:
            click.echo(f"numbered {wanted.doc_number}:")
        if (
            wanted.doc_number
            and not hit.number_match
            and (index == 0 or hits[index - 1].number_match)
        ):
            click.echo(f"mentioning {wanted.doc_number}:")
        day = hit.published_on.isoformat() if hit.published_on else "(no date)"
        number = f"  {hit.doc_number}" if hit.doc_number else ""
        click.echo(f"{hit.article_id}  {day}  {hit.column_name or '-'}{number}  {hit.title}")
        click.echo(f"    {hit.url}")
        if hit.matched_file:
            name = f" ({hit.matched_file.name})" if hit.matched_file.name else ""
            click.echo(f"    in file {hit.matched_file.url}{name}")
        click.echo(f"    {hit.snippet}\n")
    more = f" (the first {limit}: raise --limit for more)" if len(hits) == limit else ""
    click.echo(f"{count(len(hits), 'article')}{more}")


_SAME = {"doc_number_guessed: 0", "is_interpretation: 0"}  # the usual: not worth a line


def echo_document(fields: dict[str, Any]) -> None:
    """A document's metadata under the header of `show`, one line each (its meta tags aside:
    `--json` has them)."""
    for name, value in fields.items():
        if value in (None, "", [], {}) or name == "meta" or f"{name}: {value}" in _SAME:
            continue
        if name.endswith("_raw") and value == fields.get(name.removesuffix("_raw")):
            continue
        if name == "column_path":
            value = " > ".join(value)
        if name in ("interpretations", "related"):
            for link in value:
                click.echo(f"{name}: {link.get('url')}  {link.get('title') or ''}".rstrip())
            continue
        click.echo(f"{name}: {value}")


def file_texts(session: Session, files: list[storage.PageFile]) -> dict[str, str]:
    """The text read from each stored file, by digest."""
    digests = [file.sha256 for file in files if file.sha256]
    query = select(FileBlob.sha256, FileBlob.text).where(FileBlob.sha256.in_(digests))
    return {sha256: text for sha256, text in session.execute(query) if text}


@main.command()
@click.argument("article", metavar="ID_URL_OR_NUMBER")
@click.option("--versions", is_flag=True, help="List every version of the article.")
@click.option("--diff", is_flag=True, help="Diff the two latest versions, paragraph by paragraph.")
@click.option(
    "--files-text", is_flag=True, help="Print the text read from each file after the body."
)
@json_option
@database_option
@one_line_errors
def show(
    article: str, versions: bool, diff: bool, files_text: bool, as_json: bool, database: str
) -> None:
    """Print one article or document, its links and its body.

    ID_URL_OR_NUMBER is the archive id, any URL of the article (an alias, http:// or
    https://), or a document's 文号 in any bracket form (川府发〔2024〕3号).

    Example: govcrawler show 12 --versions --diff
    """
    number = None if article.strip().isdigit() else doc_number_query(article)
    key = int(article) if article.strip().isdigit() else canonical_url(article)
    with archive_session(database) as session:
        numbered = read.find_documents(session, number) if number else []
        found = numbered[0] if numbered else None
        if found is None and key is not None and not number:
            found = read.find_article(session, key)
        if found is None:
            raise click.ClickException(
                f"no article {article!r} in the archive (give an id, URL or 文号; search finds ids)"
            )
        detail = read.article_detail(session, found)
        metadata = read.document_fields(session, found)
        history = read.article_versions(session, found.id) if versions else []
        changes = read.version_diff(session, found.id) if diff else None
        files = storage.page_files(session, found.id)
        texts = file_texts(session, files) if files_text else {}
    if as_json:
        output = dataclasses.asdict(detail)
        output["document"] = metadata
        output["files"] = [dataclasses.asdict(file) for file in files]
        for file_output in output["files"] if files_text else []:
            file_output["text"] = texts.get(file_output["sha256"])
        if numbered[1:]:
            output["also_numbered"] = [other.id for other in numbered[1:]]
        if versions:
            output["versions"] = [version_summary(v) for v in history]
        if diff:
            output["diff"] = changes.lines if changes else None
        echo_json(output)
        return
    echo_article(detail, files)
    echo_document(metadata or {})
    if numbered[1:]:
        others = ", ".join(str(other.id) for other in numbered[1:])
        click.echo(f"also numbered {number}: {others}")
    if versions:
        click.echo("\nversions:")
        for v in history:
            click.echo(
                f"  {v.version_no}  first seen {when(v.first_seen_at)}  last seen "
                f"{when(v.last_seen_at)}  {v.content_digest[:12]}  {v.title}"
                + ("  (re-extracted)" if v.origin == "reextract" else "")
            )
    click.echo(f"\n{detail.body}")
    for file in files:
        if texts.get(file.sha256 or ""):
            click.echo(
                f"\n--- {file.role}: {file.name or file.url} ---\n{texts[file.sha256 or '']}"
            )
    if diff:
        click.echo()
        echo_diff(changes)


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
