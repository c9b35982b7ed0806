"""An older extraction, for the re-extraction tests: a process started with this directory on
PYTHONPATH extracts as govcrawler did before two rules existed (an English article's photo
captions, a document's 来源), so that its archive has pages a current `reextract` fixes.

Python imports `sitecustomize` at start-up, before any of govcrawler: the spiders then import
the pinned-off functions. Nothing in govcrawler knows about it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import govcrawler.extract.article
import govcrawler.extract.document

_article_from_page = govcrawler.extract.article.article_from_page
_document_from_page = govcrawler.extract.document.document_from_page


def article_without_captions(*args: Any, **kwargs: Any) -> Any:
    return replace(_article_from_page(*args, **kwargs), captions=())


def document_without_source(*args: Any, **kwargs: Any) -> Any:
    document = _document_from_page(*args, **kwargs)
    return replace(document, fields=replace(document.fields, source=None))


govcrawler.extract.article.article_from_page = article_without_captions
govcrawler.extract.document.document_from_page = document_without_source
