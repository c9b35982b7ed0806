"""What the spider hands to the pipelines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from govcrawler.extract.model import Article


@dataclass
class ArticlePage:
    """An extracted article and how it was fetched."""

    article: Article
    fetched_at: datetime
    status: int = 200


@dataclass
class ColumnLabel:
    """A column's name as the site's navigation shows it, learned from a link to its list."""

    column_id: str
    name: str
    list_url: str
