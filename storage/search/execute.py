"""Running a search statement on either backend: a query the database cannot read becomes a
`SearchQueryError` of one line for the user."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, TextClause
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from storage.exceptions import SearchQueryError


def _execute(session: Session, search: TextClause, params: dict[str, Any]) -> list[Row[Any]]:
    """The search's rows; a query the database cannot run becomes one line for the user."""
    try:
        return list(session.execute(search, params))
    except (OperationalError, DBAPIError) as error:
        message = " ".join(str(error.orig).split())
        if message.startswith("fts5") or "no such column" in message or "tsquery" in message:
            raise SearchQueryError(
                f"the search index cannot read this query ({message}): "
                'put unusual words in double quotes, e.g. "NEAR"'
            ) from error
        raise
