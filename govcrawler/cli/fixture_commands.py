"""Commands of the developers' fixture workflow: `fixtures record`, `from-archive`, `update`.

The logic is in `govcrawler.cli.fixtures` (which imports Scrapy: loaded only when used)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import click

from govcrawler import settings as defaults
from govcrawler.cli.common import F, archive_session, database_option, main, one_line_errors
from govcrawler.cli.render import count

# --- fixtures: the developers' workflow; the logic is in govcrawler/cli/fixtures.py -------------

into_option = click.option(
    "--into",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("tests/fixtures/site"),
    show_default=True,
    help="Root of the saved copy (replay layout: DIR/<host>/<path>).",
)


def fixture_errors(command: F) -> F:
    """Turn a page that cannot be recorded, copied or checked, or a bad setting (a malformed
    GOVCRAWLER_GATEWAY), into one line, exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from govcrawler.exceptions import GovcrawlerError

        try:
            return command(*args, **kwargs)
        except GovcrawlerError as error:
            raise click.ClickException(str(error)) from error

    return wrapper  # type: ignore[return-value]


def json_body(ctx: click.Context, param: click.Parameter, value: str | None) -> bytes | None:
    """`--post`: JSON text, or `@FILE` holding it; the bytes are sent as given."""
    if value is None:
        return None
    if value.startswith("@"):
        try:
            body = Path(value[1:]).read_bytes()
        except OSError as error:
            raise click.BadParameter(f"cannot read {value[1:]}: {error.strerror}") from error
    else:
        body = value.encode("utf-8")
    try:
        json.loads(body)
    except ValueError as error:
        raise click.BadParameter(f"not JSON: {error}") from error
    return body


@main.group()
def fixtures() -> None:
    """Turn pages of the site into test fixtures; keep their expected outputs."""


@fixtures.command("record")
@click.argument("urls", metavar="URL...", nargs=-1, required=True)
@into_option
@click.option(
    "--delay",
    metavar="SECONDS",
    type=click.FloatRange(min=0),
    default=defaults.DOWNLOAD_DELAY,
    show_default=True,
    help="Seconds between requests to the site (AutoThrottle may stretch it).",
)
@click.option(
    "--post",
    metavar="JSON",
    callback=json_body,
    help="POST this JSON body (or @FILE) to each URL instead of a GET (the list API).",
)
@click.option("--referer", metavar="URL", help="The Referer header of each URL's request.")
@fixture_errors
def fixtures_record(
    urls: tuple[str, ...], into: Path, delay: float, post: bytes | None, referer: str | None
) -> None:
    """Fetch pages of www.sc.gov.cn as the crawler does; save them as fixtures.

    Into DIR/<host>/<path>, the replay layout: the bytes as received (decompressed:
    Content-Encoding and Content-Length are not kept), and <file>.meta.json: status,
    headers, final URL, fetch time. Redirects are saved hop by hop. robots.txt is obeyed.
    With --post (Content-Type: application/json) the answer is saved as
    <path>.POST-<digest of the body>, the request in its sidecar (headers such as
    --referer are sent, not part of the file's name).

    Example: govcrawler fixtures record https://www.sc.gov.cn/10462/10758/10760/10765/2022/9/26/18e9f46a8996bdf07fa9667505648f34.shtml

    The list API: --post @query.json --referer <its page> URL, where query.json holds
    {"pageSize":10,"pageNum":1,"channelId":["..."]} (any key order or spacing).
    """
    from govcrawler.cli import fixtures as workflow

    result = workflow.record(urls, into, delay, post, referer)
    for page, saved in result.saved:
        click.echo(workflow.saved_line(page, saved))
    if len(result.failures) == 1:  # one clear line
        raise click.ClickException(f"not recorded: {result.failures[0]}")
    for failure in result.failures:
        click.echo(f"not recorded: {failure}", err=True)
    if result.failures:
        raise click.ClickException(f"{count(len(result.failures), 'page')} not recorded")


@fixtures.command("from-archive")
@click.argument("article", metavar="ID_OR_URL")
@into_option
@database_option
@one_line_errors
@fixture_errors
def fixtures_from_archive(article: str, into: Path, database: str) -> None:
    """Save an archived capture as a fixture page: a page that broke in production.

    The latest capture of ID_OR_URL (any URL of an article, http:// too; for an archive id,
    the article's URL), with its status, headers and fetch time.

    Example: govcrawler fixtures from-archive 12 --into tests/fixtures/site
    """
    from govcrawler.cli import fixtures as workflow

    with archive_session(database) as session:
        saved = workflow.archived_response(session, article)
    click.echo(workflow.saved_line(workflow.write_fixture(into, saved), saved))


@fixtures.command("update")
@click.argument("paths", metavar="[PATH]...", nargs=-1, type=click.Path(path_type=Path))
@click.option("--check", is_flag=True, help="Only print the diff; exit 1 if anything would change.")
@fixture_errors
def fixtures_update(paths: tuple[Path, ...], check: bool) -> None:
    """Rewrite <page>.expected.json from the current extraction; print a diff of each change.

    PATH: a fixture page, or a directory (its pages that have one); default tests/fixtures/site.

    Example: govcrawler fixtures update --check
    """
    from govcrawler.cli import expected

    changes = expected.update_expected(expected.fixture_pages(paths), write=not check)
    click.echo("".join(change.report() for change in changes), nl=False)
    errors = [change.error for change in changes if change.error]
    for error in errors:
        click.echo(f"cannot extract {error}", err=True)
    changed = sum(1 for change in changes if change.diff)
    if errors:
        raise click.ClickException(f"{count(len(errors), 'page')} could not be extracted")
    if check and changed:
        raise click.ClickException(f"{count(changed, 'expected output')} would change")
