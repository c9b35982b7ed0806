"""An item type's way through the pipelines (`ItemPath`), and what a path's archive step can
ask of the transaction it runs in (the crawl run, for the changes it records)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

T = TypeVar("T")
RUN_ID = "govcrawler.pipelines.run_id"  # session.info: the crawl run writing the batch


@dataclass(frozen=True)
class ItemPath(Generic[T]):
    """One item type's way through the pipelines."""

    item_type: type[T]
    url: Callable[[T], str]  # named in drop messages; the key of `dedupe`
    archive: Callable[[Session, T], list[str]]  # writes it; returns the outcomes to count
    clean: Callable[[T], T] | None = None
    validate: Callable[[T], str | None] | None = None  # the reason to drop it, or None
    dedupe: bool = False  # a second item of this type with the same URL in a run is dropped
    release: Callable[[T], None] | None = None  # after its batch ended, written or not


Paths = Mapping[type, ItemPath[Any]]


def run_of(session: Session) -> int | None:
    """The crawl run the archive pipeline writes this batch for (None outside a run)."""
    run_id = session.info.get(RUN_ID)
    return int(run_id) if run_id else None
