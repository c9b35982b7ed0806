"""The pipelines one by one, on a real crawler's stats and a temporary archive."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler
from sqlalchemy.orm import Session

from govcrawler.extract.model import Article, Attachment, Image
from govcrawler.items import ArticlePage, ColumnLabel, Fetch, FileRead
from govcrawler.pipelines import (
    PATHS,
    ArchivePipeline,
    CleanPipeline,
    DedupePipeline,
    ItemPath,
    ValidatePipeline,
)
from govcrawler.spiders.sc_open_governance import OpenGovernanceSpider

URL = (
    "https://www.sc.gov.cn/10462/10758/10760/10765/2019/4/16/b1dee5ed0c5a4b7c9a2d3e4f5a6b7c8d.shtml"
)
ARTICLE = Article(
    url=URL,
    canonical_id="b1dee5ed0c5a4b7c9a2d3e4f5a6b7c8d",
    column_id="10765",
    title="Sichuan  opens new\u00a0rail link",
    published_on=date(2019, 4, 16),
    body=(
        "The governor inspects the new station on April 15.",
        "The line cuts the journey between Chengdu and Yibin to two hours.",
        "Unit in Charge: General Office of Sichuan Provincial People's Government",
        "Sichuan ICP No. 13001288",
    ),
    language="en",
    template="contText",
    extraction_path="container",
    captions=("The governor inspects the new station on April 15.",),
    images=(Image(f"{URL.rsplit('/', 1)[0]}/W020190416.jpg", "The governor inspects"),),
    attachments=(Attachment("https://www.sc.gov.cn/files/plan.pdf", "The plan (PDF)"),),
)


def page(article: Article = ARTICLE) -> ArticlePage:
    html = f"<html><body><h1>{article.title}</h1><p>{article.body[0] if article.body else ''}"
    fetch = Fetch(
        article.url,
        article.url,
        200,
        datetime(2026, 11, 28, 8, 0, tzinfo=UTC),
        html.encode(),
        {"Content-Type": "text/html"},
    )
    return ArticlePage(article, fetch)


@pytest.fixture
def crawler(tmp_path: Path):
    crawler = get_crawler(
        OpenGovernanceSpider,
        {
            "GOVCRAWLER_DATABASE_URL": f"sqlite:///{tmp_path / 'a.sqlite3'}",
            "GOVCRAWLER_BATCH_SIZE": 2,
        },
    )
    return crawler


def test_clean_removes_footer_lines_and_folds_the_title(crawler) -> None:
    cleaned = CleanPipeline.from_crawler(crawler).process_item(page()).article
    assert cleaned.title == "Sichuan opens new rail link"
    assert cleaned.body == ARTICLE.body[:2]
    assert cleaned.captions == ARTICLE.captions


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"title": ""}, "missing_title"),
        ({"body": ()}, "missing_body"),
        ({"url": "https://www.sc-gov-cn.mirror-news.top/x.shtml"}, "bad_url"),
    ],
)
def test_validate_drops_with_a_counted_reason(crawler, change: dict, reason: str) -> None:
    pipeline = ValidatePipeline.from_crawler(crawler)
    with pytest.raises(DropItem, match=reason):
        pipeline.process_item(page(replace(ARTICLE, **change)))
    assert crawler.stats.get_value(f"govcrawler/dropped/{reason}") == 1


def test_dedupe_drops_a_page_seen_twice_in_a_run(crawler) -> None:
    pipeline = DedupePipeline.from_crawler(crawler)
    pipeline.process_item(page())
    with pytest.raises(DropItem, match="duplicate_in_run"):
        pipeline.process_item(page())
    assert crawler.stats.get_value("govcrawler/dropped/duplicate_in_run") == 1


def test_archive_writes_in_batches_and_on_close(crawler, tmp_path: Path) -> None:
    crawler.stats.open_spider()
    pipeline = ArchivePipeline.from_crawler(crawler)
    pipeline.open_spider()
    database = tmp_path / "a.sqlite3"
    pipeline.process_item(ColumnLabel("10765", "News", URL.rsplit("/", 5)[0] + "/index.shtml"))
    assert count(database) == 0  # not yet a batch
    pipeline.process_item(page(CleanPipeline.from_crawler(crawler).process_item(page()).article))
    assert count(database) == 1  # a batch of two: the label and the article
    second = replace(
        ARTICLE,
        url=URL.replace("b1dee5ed", "c2eeffee"),
        canonical_id="c2eeffee" + "0" * 24,
        body=("Another article entirely.",),
    )
    pipeline.process_item(page(second))
    assert count(database) == 1
    pipeline.close_spider()
    assert count(database) == 2
    assert crawler.stats.get_value("govcrawler/archive/new") == 2
    assert crawler.stats.get_value("govcrawler/archive/capture_stored") == 2
    with sqlite3.connect(database) as connection:
        row = connection.execute(
            "SELECT column_name, body FROM articles WHERE url = ?", (URL,)
        ).fetchone()
    assert row == ("News", "\n\n".join(ARTICLE.body[:2]))


def test_archive_without_a_database_url_is_not_configured() -> None:
    from scrapy.exceptions import NotConfigured

    crawler = get_crawler(OpenGovernanceSpider, {"GOVCRAWLER_DATABASE_URL": ""})
    with pytest.raises(NotConfigured):
        ArchivePipeline.from_crawler(crawler)


def count(database: Path) -> int:
    if not database.exists():
        return 0
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT COUNT(*) FROM article").fetchone()[0]


# --- page types are explicit: each item type has its path, an unknown one raises ------------

PIPELINES = [CleanPipeline, ValidatePipeline, DedupePipeline, ArchivePipeline]


@dataclass(frozen=True)
class Stray:
    """An item type no path was given for."""

    url: str


class SubclassedPage(ArticlePage):
    """Not an `ArticlePage` to the pipelines: a type is matched exactly, never by ancestry."""


@pytest.mark.parametrize("pipeline", PIPELINES, ids=lambda p: p.__name__)
@pytest.mark.parametrize(
    "make", [lambda: Stray(URL), lambda: SubclassedPage(ARTICLE, page().fetch)]
)
def test_an_item_type_without_a_path_raises_in_every_pipeline(crawler, pipeline, make) -> None:
    item = make()
    stage = pipeline.from_crawler(crawler)
    name = f"{type(item).__module__}.{type(item).__qualname__}"
    with pytest.raises(TypeError, match=rf"^{pipeline.__name__}: no path for item type {name} "):
        stage.process_item(item)
    assert not crawler.stats.get_stats()  # nothing counted, nothing dropped: an error


def test_every_item_type_of_govcrawler_has_a_path() -> None:
    from govcrawler import items

    item_types = {
        kind
        for kind in vars(items).values()
        if isinstance(kind, type)
        and kind.__module__ == items.__name__
        and kind not in (Fetch, FileRead)  # parts of items, not items
    }
    assert {path.item_type for path in PATHS} == item_types


def stray_archive(session: Session, item: Stray) -> list[str]:
    return ["stray"]


STRAY_PATH = ItemPath(Stray, url=lambda item: item.url, archive=stray_archive, dedupe=True)


def test_a_path_from_the_settings_carries_its_type_through_every_pipeline(tmp_path: Path) -> None:
    crawler = get_crawler(
        OpenGovernanceSpider,
        {
            "GOVCRAWLER_DATABASE_URL": f"sqlite:///{tmp_path / 'a.sqlite3'}",
            "GOVCRAWLER_ITEM_PATHS": [f"{__name__}.STRAY_PATH"],
        },
    )
    crawler.stats.open_spider()
    clean, validate, dedupe, archive = (p.from_crawler(crawler) for p in PIPELINES)
    archive.open_spider()
    item = Stray(URL)
    assert archive.process_item(
        dedupe.process_item(validate.process_item(clean.process_item(item)))
    )
    with pytest.raises(DropItem, match="duplicate_in_run"):
        dedupe.process_item(Stray(URL))
    archive.close_spider()
    assert crawler.stats.get_value("govcrawler/archive/stray") == 1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (f"{__name__}.URL", "is not an ItemPath"),
        ("govcrawler.pipelines.PATHS", "is not an ItemPath"),
    ],
)
def test_a_bad_item_path_setting_names_it(value: str, message: str) -> None:
    crawler = get_crawler(OpenGovernanceSpider, {"GOVCRAWLER_ITEM_PATHS": [value]})
    with pytest.raises(ValueError, match=f"GOVCRAWLER_ITEM_PATHS: {value} {message}"):
        CleanPipeline.from_crawler(crawler)


def test_a_second_path_for_a_type_is_refused() -> None:
    crawler = get_crawler(
        OpenGovernanceSpider,
        {"GOVCRAWLER_ITEM_PATHS": [f"{__name__}.STRAY_PATH", f"{__name__}.STRAY_PATH"]},
    )
    with pytest.raises(ValueError, match="gives a second path for its type"):
        ValidatePipeline.from_crawler(crawler)
