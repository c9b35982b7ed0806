"""Time the extraction of article pages (a script, not a test: timings never go in tests).

    .venv/bin/python -m benchmarks.bench_extract [--site DIR] [--articles 600] [--repeat 7]

Per page, median over `--repeat` rounds: `article_from_page`, then the cleaning CleanPipeline
applies to its result (NFC, `strip_boilerplate`, caption filter; copied here, since the
pipeline's item types are not needed to time it). Pages: the synthetic site (`benchmarks.sitegen`,
`--articles` pages written to a temporary directory unless `--site` names one) and every article
page of the saved site (tests/fixtures/site). Pages are decoded once before timing, as the spider
decodes them.

Our machines drift up to 2x in speed within minutes, so each round is interleaved with a
reference, parsing the same pages into a parsel tree (`Selector(text=html).css("body")`), and the
ratio is printed beside the median; compare ratios, not microseconds, across runs. Caches of the
extract package (`functools` caches) are cleared before each round, so every round pays what a
crawl pays once per process.

Results: old (e24afe6) and new (8be5963) trees run alternately, twice each, --repeat 5, the
600-article synthetic site and the 38 fixture article pages. The machine drifted about 2x in
speed during the runs (the parse reference went from 590 to 1,430 µs), so the ratio to parsing
is the figure to compare. Medians, µs per page:

| pages | run | extraction | × parsing | pipeline cleaning |
|---|---|---|---|---|
| synthetic | old 1 / old 2 | 12,729 / 16,383 | ×12.4 / ×20.2 | 2,341 / 3,078 |
| synthetic | new 1 / new 2 | 6,881 / 2,443 | ×4.8 / ×4.6 | 120 / 43 |
| fixtures | old 1 / old 2 | 5,941 / 2,504 | ×10.9 / ×10.5 | 444 / 211 |
| fixtures | new 1 / new 2 | 3,589 / 1,715 | ×4.7 / ×5.0 | 101 / 34 |

Extraction costs about a third of what it did (×12-20 of a parse down to ×4.6-5), and the
pipeline's second `strip_boilerplate` pass about 1/30 (its per-paragraph results are cached).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import statistics
import sys
import tempfile
import time
import unicodedata
from dataclasses import replace
from pathlib import Path

from parsel import Selector

from govcrawler.exceptions import ExtractionError
from govcrawler.extract import article as article_module
from govcrawler.extract import blocks as blocks_module
from govcrawler.extract import text as text_module
from govcrawler.extract import urls as urls_module
from govcrawler.extract.article import article_from_page
from govcrawler.extract.encoding import page_text
from govcrawler.extract.model import Article
from govcrawler.extract.text import strip_boilerplate
from govcrawler.extract.urls import article_ref

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "site"

Page = tuple[str, str]  # (html, url)


def load_pages(root: Path, expected_only: bool) -> list[Page]:
    """The article pages under `root` (a replay layout), decoded as the spider decodes them."""
    pages = []
    for path in sorted(root.rglob("*.shtml")):
        if expected_only and not path.with_name(path.name + ".expected.json").is_file():
            continue
        url = "https://" + path.relative_to(root).as_posix()
        if article_ref(url) is None:
            continue
        content_type = None
        sidecar = path.with_name(path.name + ".meta.json")
        if sidecar.is_file():
            headers = json.loads(sidecar.read_text("utf-8")).get("headers", {})
            content_type = headers.get("Content-Type")
        pages.append((page_text(path.read_bytes(), content_type)[0], url))
    return pages


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def pipeline_clean(article: Article) -> Article:
    """What CleanPipeline.process_item does to an article (govcrawler/pipelines/articles.py)."""
    body = tuple(strip_boilerplate([_nfc(p) for p in article.body]))
    return replace(
        article,
        title=" ".join(_nfc(article.title).split()),
        body=body,
        captions=tuple(c for c in (_nfc(c) for c in article.captions) if c in body),
    )


def clear_caches() -> None:
    """Every functools cache in the extract modules, so a round starts cold."""
    for module in (article_module, blocks_module, text_module, urls_module):
        for value in vars(module).values():
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()


def extract_all(pages: list[Page]) -> list[Article]:
    articles = []
    for html, url in pages:
        with contextlib.suppress(ExtractionError):
            articles.append(article_from_page(html, url))
    return articles


def crawl_order(pages: list[Page]) -> tuple[float, float]:
    """Seconds of extraction and of pipeline cleaning over `pages`, each article cleaned right
    after its page is extracted, as in a crawl."""
    gc.collect()
    extracting = cleaning = 0.0
    clock = time.perf_counter
    for html, url in pages:
        start = clock()
        try:
            article = article_from_page(html, url)
        except ExtractionError:
            extracting += clock() - start
            continue
        extracted = clock()
        pipeline_clean(article)
        extracting += extracted - start
        cleaning += clock() - extracted
    return extracting, cleaning


def parse_all(pages: list[Page]) -> float:
    """Seconds to parse `pages` into parsel trees."""
    gc.collect()
    start = time.perf_counter()
    for html, _ in pages:
        Selector(text=html).css("body")
    return time.perf_counter() - start


def measure(label: str, pages: list[Page], repeat: int) -> None:
    extract, clean, parse = [], [], []
    for _ in range(repeat):
        clear_caches()
        extracting, cleaning = crawl_order(pages)
        extract.append(extracting / len(pages) * 1e6)
        clean.append(cleaning / len(pages) * 1e6)
        parse.append(parse_all(pages) / len(pages) * 1e6)
    ratio = statistics.median(e / p for e, p in zip(extract, parse, strict=True))
    print(
        f"{label:<28} {len(pages):>4} pages  extraction {statistics.median(extract):7.0f} µs"
        f" (min {min(extract):6.0f}, ×{ratio:.2f} of parsing)"
        f"  pipeline cleaning {statistics.median(clean):6.0f} µs"
        f"  parse reference {statistics.median(parse):6.0f} µs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--site", type=Path, help="a synthetic site already generated")
    parser.add_argument("--articles", type=int, default=600)
    parser.add_argument("--repeat", type=int, default=7, help="rounds per measurement")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        site = args.site
        if site is None:
            from benchmarks.sitegen import SiteSpec, generate

            site = Path(scratch) / "site"
            generate(site, SiteSpec(args.articles, 4, 20))
        synthetic = load_pages(site, expected_only=False)
    fixtures = load_pages(FIXTURES, expected_only=True)
    extract_all(fixtures)  # imports trafilatura once, outside the timing
    print(f"python {sys.version.split()[0]}, repeat {args.repeat}")
    measure("synthetic site", synthetic, args.repeat)
    measure("fixture article pages", fixtures, args.repeat)


if __name__ == "__main__":
    main()
