"""A synthetic copy of the site, in the replay layout (`wget --mirror`), of any size.

    .venv/bin/python -m benchmarks.sitegen /tmp/site --articles 2000 --columns 4

Article `i` depends only on (seed, i): its column, date, id, title and text are drawn from
`random.Random(f"{seed}:{i}")`, and dates grow with `i` from 2014 to mid-2025. So a site made
with `new_articles=10` is the same site plus ten newer articles (and the list pages, channel
and home page that show them): `add_articles` turns a hard-linked copy into that.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import shutil
import subprocess
from collections import deque
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from benchmarks import filesite
from benchmarks.corpus import Text, chinese_article, english_article
from benchmarks.pages import (
    Link,
    article_page,
    channel_page,
    home_page,
    html_pager,
    list_page,
    script_pager,
)

HOST = "www.sc.gov.cn"
CHANNEL = "/10462/10758/10760"
START, END = date(2014, 1, 6), date(2025, 6, 30)
COLUMN_NAMES = (
    ("10765", "News", "index"),
    ("10766", "Report on the Work of the Government", "gzbg"),
    ("10767", "Policies", "index"),
    ("10768", "Policy Interpretation", "index"),
    ("10769", "Announcements", "list"),
    ("10770", "Press Releases", "index"),
    ("10771", "Statistics", "tjsj"),
    ("10772", "Personnel", "index"),
)


@dataclass(frozen=True)
class SiteSpec:
    articles: int
    columns: int = 4
    per_page: int = 20
    new_articles: int = 0
    seed: int = 1
    chars: int = 6500
    chinese_share: float = 0.0
    files: bool = False  # each article links an image and a PDF (benchmarks/filesite.py)
    big_files: str = ""  # with files: MiB of a few big attachments, "20,60,99,150"

    def column(self, k: int) -> tuple[str, str, str]:
        """(id, name, list URL) of the k-th column."""
        column_id, name, stem = (
            COLUMN_NAMES[k] if k < len(COLUMN_NAMES) else (str(10765 + k), f"Column {k}", "index")
        )
        return column_id, name, f"https://{HOST}{CHANNEL}/{column_id}/{stem}.shtml"


@dataclass(frozen=True)
class SynthArticle:
    index: int
    url: str
    doc_id: str
    column: tuple[str, str]
    published_on: date
    text: Text

    def link(self) -> Link:
        return Link(self.url, self.text.title, self.published_on)


@dataclass
class SiteInfo:
    root: Path
    articles: int = 0
    list_pages: int = 0
    columns: int = 0
    new_urls: list[str] = field(default_factory=list)
    lists_showing_new: int = 0  # list pages that link a new article
    later_lists_showing_new: int = 0  # those of them that are not a column's first page
    files: int = 0  # file URLs linked (an image and an attachment per article with files)

    @property
    def pages(self) -> int:
        """Every page a full crawl fetches: articles, list pages, the channel, the home page."""
        return self.articles + self.list_pages + 2


def synth_article(spec: SiteSpec, i: int) -> SynthArticle:
    """Article `i` of the site (new articles are those with i >= spec.articles)."""
    rng = random.Random(f"{spec.seed}:{i}")
    weights = [4, *[1] * (spec.columns - 1)]
    k = rng.choices(range(spec.columns), weights=weights)[0]
    column_id, name, _ = spec.column(k)
    if i < spec.articles:
        published = START + timedelta(days=(END - START).days * i // max(spec.articles, 1))
    else:
        published = END + timedelta(days=1 + (i - spec.articles) // 3)
    if published.year <= 2018:
        doc_id = str(10_300_000 + i)
    else:
        doc_id = hashlib.md5(f"{spec.seed}:{i}".encode()).hexdigest()
    if rng.random() < spec.chinese_share:
        text = chinese_article(rng, spec.chars // 3)
    else:
        text = english_article(rng, spec.chars)
    url = (
        f"https://{HOST}{CHANNEL}/{column_id}/"
        f"{published.year}/{published.month}/{published.day}/{doc_id}.shtml"
    )
    return SynthArticle(i, url, doc_id, (column_id, name), published, text)


def page_of(article: SynthArticle, latest: list[Link], files: bool = False) -> str:
    media = filesite.media_html(article.url, article.doc_id) if files else ""
    return article_page(
        article.url, article.doc_id, article.column, article.published_on, article.text, latest,
        media,
    )  # fmt: skip


def local_path(root: Path, url: str) -> Path:
    return root / url.removeprefix("https://")


def _write(path: Path, content: str) -> None:
    """Write a file anew (a hard link to a copy's original is broken, never written through)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    path.write_text(content, encoding="utf-8")


def generate(root: Path, spec: SiteSpec, only_new: bool = False) -> SiteInfo:
    """Write the site under `root`; with `only_new`, only the new articles and every page
    that lists articles (the rest is already there, e.g. in a hard-linked copy)."""
    info = SiteInfo(root=root, columns=spec.columns)
    by_column: dict[str, list[Link]] = {spec.column(k)[0]: [] for k in range(spec.columns)}
    recent: deque[Link] = deque(maxlen=8)
    new: set[str] = set()
    big = filesite.big_positions(spec.articles, spec.big_files) if spec.files else {}
    pool = min(filesite.POOL, spec.articles + spec.new_articles)
    for i in range(spec.articles + spec.new_articles):
        article = synth_article(spec, i)
        if not only_new or i >= spec.articles:
            _write(local_path(root, article.url), page_of(article, list(recent), spec.files))
            if spec.files:
                filesite.write_files(
                    lambda url: local_path(root, url), article.url, article.doc_id, spec.seed,
                    i, big.get(i), pool,
                )  # fmt: skip
                info.files += 2
        if i >= spec.articles:
            new.add(article.url)
            info.new_urls.append(article.url)
        recent.appendleft(article.link())
        by_column[article.column[0]].append(article.link())
    info.articles = spec.articles + spec.new_articles
    columns = [spec.column(k) for k in range(spec.columns)]
    for k, (column_id, name, list_url) in enumerate(columns):
        links = sorted(by_column[column_id], key=lambda link: link.published_on, reverse=True)
        count = max(1, math.ceil(len(links) / spec.per_page))
        stem = list_url.rsplit("/", 1)[1].removesuffix(".shtml")
        for number in range(1, count + 1):
            shown = links[(number - 1) * spec.per_page : number * spec.per_page]
            pager = (script_pager if k % 2 else html_pager)(stem, number, count, len(links))
            page_url = list_url if number == 1 else list_url.replace(".shtml", f"_{number}.shtml")
            html = list_page((column_id, name), columns, shown, pager)
            _write(local_path(root, page_url), html)
            info.list_pages += 1
            showing = any(link.url in new for link in shown)
            info.lists_showing_new += showing
            info.later_lists_showing_new += showing and number > 1
    latest = {
        cid: sorted(by_column[cid], key=lambda x: x.published_on)[-5:][::-1] for cid in by_column
    }
    _write(root / HOST / f"{CHANNEL[1:]}/index.shtml", channel_page(columns, latest))
    _write(root / HOST / "10462/10758/index.shtml", home_page(columns, list(recent)))
    (root / "site.json").write_text(json.dumps({"spec": spec.__dict__, "pages": info.pages}))
    return info


def add_articles(base: Path, target: Path, spec: SiteSpec, count: int) -> SiteInfo:
    """`target`: a hard-linked copy of the site at `base` with `count` newer articles."""
    if target.exists():
        shutil.rmtree(target)
    subprocess.run(["cp", "-al", str(base), str(target)], check=True)
    spec = SiteSpec(**{**spec.__dict__, "new_articles": count})
    return generate(target, spec, only_new=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="Write a synthetic copy of the site.")
    parser.add_argument("root", type=Path)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--columns", type=int, default=4)
    parser.add_argument("--per-page", type=int, default=20)
    parser.add_argument("--files", action="store_true", help="an image and a PDF per article")
    parser.add_argument("--big-files", default="", help='with --files: MiB, "20,60,99,150"')
    args = parser.parse_args()
    spec = SiteSpec(args.articles, args.columns, args.per_page, files=args.files)
    spec = SiteSpec(**{**spec.__dict__, "big_files": args.big_files})
    info = generate(args.root, spec)
    size = sum(f.stat().st_size for f in args.root.rglob("*.shtml"))
    print(f"{info.pages} pages ({info.list_pages} list pages), {size / 1e6:.0f} MB in {args.root}")
    if info.files:
        print(f"{info.files} files linked ({filesite.library()})")
    os.sync()


if __name__ == "__main__":
    main()
