"""B2, incremental runs: what a second crawl of an unchanged site, and one after ten new
articles, request and cost.

A first crawl archives the whole synthetic site; a second runs over it unchanged; a third runs
over a hard-linked copy with `new` more articles (their pages, and the list pages, channel and
home page that show them). Requests are counted from the crawl's stats (retries included) and
each fetched URL is classified from the DEBUG log ("Crawled (200) <GET ...>").
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

from benchmarks import measure
from benchmarks.b1_pipeline import site
from benchmarks.report import Goal, Section
from benchmarks.sitegen import SiteInfo, SiteSpec, add_articles

_CRAWLED = re.compile(r"Crawled \((\d+)\) <GET (\S+)>")
_REQUESTS = re.compile(r"'downloader/request_count': (\d+)")
_REVISITS = re.compile(r"'govcrawler/incremental/revisits': (\d+)")
_ARTICLE = re.compile(r"/\d{4}/\d{1,2}/\d{1,2}/[0-9a-f]+\.shtml$")


def kind(url: str) -> str:
    """What a fetched URL is, for the table."""
    if url.endswith("/robots.txt"):
        return "robots.txt"
    if url.endswith("/10462/10758/index.shtml"):
        return "home page"
    if url.endswith("/10462/10758/10760/index.shtml"):
        return "channel page"
    if _ARTICLE.search(url):
        return "article pages"
    if re.search(r"_\d+\.shtml$", url):
        return "list pages 2+"
    return "first list pages"


def crawl(root: Path, database: Path, logs: Path, level: str = "DEBUG") -> dict:
    """One crawl; at INFO (no per-request lines) for the first, big one."""
    result = measure.run(
        measure.govcrawler_crawl(root, database, "--log-level", level), logs
    ).check()
    fetched = [url for _, url in _CRAWLED.findall(result.stderr)]
    revisits = _REVISITS.findall(result.stderr)
    return {
        "requests": int(_REQUESTS.findall(result.stderr)[-1]),
        "kinds": dict(Counter(kind(url) for url in fetched)),
        "fetched": fetched,
        "wall_s": result.wall_s,
        "cpu_s": result.cpu_s,
        "revisits": int(revisits[-1]) if revisits else 0,
        "new": measure.summary_count(result.stdout, "new"),
    }


def run(workdir: Path, articles: int = 10_000, columns: int = 6, new: int = 10) -> Section:
    base_dir = workdir / "b2"
    spec = SiteSpec(articles, columns)
    info = site(base_dir, spec)
    database = base_dir / "archive.sqlite3"
    for stale in base_dir.glob("archive.sqlite3*"):
        stale.unlink()
    first = crawl(info.root, database, base_dir / "first", "INFO")
    print(f"  B2 first crawl: {first['requests']} requests, {first['wall_s']:.0f} s", flush=True)
    unchanged = crawl(info.root, database, base_dir / "unchanged")
    grown: SiteInfo = add_articles(info.root, base_dir / "site-grown", spec, new)
    after = crawl(grown.root, database, base_dir / "grown")
    shutil.rmtree(grown.root)
    new_fetched = sorted(set(after["fetched"]) & set(grown.new_urls))

    def row(label: str, result: dict) -> list[str]:
        kinds = ", ".join(f"{count} {name}" for name, count in sorted(result["kinds"].items()))
        kinds = kinds or "every page (not itemised)"
        return [
            label,
            str(result["requests"]),
            kinds,
            str(result["revisits"]),
            str(result["new"]),
            f"{result['wall_s']:.1f}",
            f"{result['cpu_s']:.1f}",
        ]

    fixed = 3  # robots.txt, the home page, the channel page: read by every run
    allowed_unchanged = columns + unchanged["revisits"]
    # Every run reads each column's first list page; the new articles may add later pages.
    allowed_new = columns + grown.later_lists_showing_new + new + after["revisits"]
    extra_unchanged = unchanged["requests"] - fixed - allowed_unchanged
    extra_new = after["requests"] - fixed - allowed_new
    return Section(
        key="b2",
        title=f"B2 incremental runs ({articles:,} articles, {columns} columns)",
        columns=[
            "run",
            "requests",
            "what was fetched",
            "due revisits",
            "new articles",
            "wall s",
            "CPU s",
        ],
        rows=[
            row("first crawl, empty archive", first),
            row("re-run, site unchanged", unchanged),
            row(f"re-run after {new} new articles", after),
        ],
        notes=[
            "Every run also reads robots.txt, the home page and the channel page (3 requests), "
            "counted apart from the goals' list pages.",
            f"The {new} new articles went to list pages: {grown.lists_showing_new} list pages "
            f"show them (page 1 of the columns they joined); {len(new_fetched)} of them were "
            "fetched.",
            "Due revisits: 0 is expected right after a crawl (the shortest revisit interval is "
            "a day); wall and CPU time include the interpreter start and reading the plan.",
        ],
        goals=[
            Goal(
                "B2 unchanged re-run requests ≤ columns' first list pages + due revisits",
                "met" if extra_unchanged <= 0 else "missed",
                f"{unchanged['requests']} requests = {fixed} entry pages + "
                f"{unchanged['requests'] - fixed} (allowed {allowed_unchanged}: {columns} "
                f"first list pages + {unchanged['revisits']} due revisits)",
            ),
            Goal(
                f"B2 {new} new articles ≤ list pages that show them + {new} detail requests",
                "met" if extra_new <= 0 and len(new_fetched) == new else "missed",
                f"{after['requests']} requests = {fixed} entry pages + "
                f"{after['requests'] - fixed} (allowed {allowed_new}: {columns} first list "
                f"pages, read by every run, {grown.lists_showing_new} of them showing the new "
                f"articles, + {grown.later_lists_showing_new} later list pages showing them + "
                f"{new} articles + {after['revisits']} due revisits); {max(extra_new, 0)} more"
                + (
                    f": {after['kinds'].get('list pages 2+', 0)} list pages 2+ fetched that "
                    "show no new article"
                    if extra_new > 0
                    else ""
                ),
            ),
        ],
        data={
            "first": {k: v for k, v in first.items() if k != "fetched"},
            "unchanged": unchanged,
            "after": after,
            "new_urls": grown.new_urls,
        },
    )
