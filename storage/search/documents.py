"""Searching documents by their metadata: the hits with a 文号, and the document filters.

Storage does not parse a 文号 (that is `govcrawler.extract.docnumber`): the caller passes the
normalised form (`川府发〔2024〕3号`), compared with `document_version.doc_number`. The filters
(issuer, series, validity) keep documents only; they are conditions on the current version's
`document_version` row, written out only for the filters given (PostgreSQL cannot type a NULL
test of an unused parameter).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, inspect, text
from sqlalchemy.orm import Session

from storage.exceptions import SearchQueryError

# The current version's metadata of an article (`{id}`: the article id, e.g. f.id).
_CURRENT = (
    "SELECT 1 FROM article AS dr JOIN document_version AS dv "
    "ON dv.version_id = dr.current_version_id WHERE dr.id = {id}"
)
_COLUMNS = {"issuer": "issuer", "series": "doc_series", "validity": "validity"}
_SHOWN = "f.id, f.url, f.title, f.published_on, f.column_name, f.body"
# Documents with the number now, then those that had it in an earlier version (re-numbered).
_NUMBERED = """
SELECT {shown}, 0 AS former FROM document_version AS d
JOIN article AS r ON r.current_version_id = d.version_id JOIN articles AS f ON f.id = r.id
WHERE d.doc_number = :doc_number {where}
ORDER BY d.is_interpretation, f.published_on, f.id
"""
_FORMERLY = """
SELECT DISTINCT {shown}, 1 AS former FROM document_version AS d
JOIN articles AS f ON f.id = d.article_id
WHERE d.doc_number = :doc_number AND f.id NOT IN ({taken}) {where}
ORDER BY f.id
"""
_NUMBERS = (
    "SELECT r.id, d.doc_number FROM article AS r JOIN document_version AS d "
    "ON d.version_id = r.current_version_id WHERE r.id IN ({})"
)
_KNOWN = (
    "SELECT d.{column} AS value FROM article AS r JOIN document_version AS d "
    "ON d.version_id = r.current_version_id WHERE d.{column} IS NOT NULL "
    "GROUP BY d.{column} ORDER BY COUNT(*) DESC, d.{column} LIMIT 12"
)


@dataclass(frozen=True)
class DocumentFilter:
    """What a search asks of documents: a normalised 文号 whose documents come first, and
    metadata every hit must have (then only documents are found)."""

    doc_number: str | None = None
    issuer: str | None = None
    series: str | None = None
    validity: str | None = None

    def given(self) -> dict[str, str]:
        """The metadata filters set, by name."""
        values = {"issuer": self.issuer, "series": self.series, "validity": self.validity}
        return {name: value for name, value in values.items() if value is not None}


def condition(article_id: str, wanted: DocumentFilter) -> str:
    """` AND EXISTS (…)` keeping the articles whose current version has the metadata asked
    for (bound as :doc_issuer, :doc_series, :doc_validity), or "" when none is asked for."""
    given = wanted.given()
    if not given:
        return ""
    tests = "".join(f" AND dv.{_COLUMNS[name]} = :doc_{name}" for name in given)
    return f" AND EXISTS ({_CURRENT.format(id=article_id)}{tests})"


def parameters(wanted: DocumentFilter) -> dict[str, Any]:
    return {f"doc_{name}": value for name, value in wanted.given().items()}


def numbered(
    session: Session,
    wanted: DocumentFilter,
    limit: int,
    where: str = "",
    params: dict[str, Any] | None = None,
) -> list[Row[Any]]:
    """The documents with the 文号 `wanted.doc_number` (and its filters, and the conditions
    `where` on `articles AS f` with their `params`): those numbered so now, an original before
    its 解读, oldest first; then those numbered so formerly."""
    if not wanted.doc_number:
        return []
    params = {**(params or {}), "doc_number": wanted.doc_number, **parameters(wanted)}
    where += condition("f.id", wanted)
    rows = list(session.execute(text(_NUMBERED.format(shown=_SHOWN, where=where)), params))
    taken = ",".join(str(row.id) for row in rows) or "0"
    sql = _FORMERLY.format(shown=_SHOWN, where=where, taken=taken)
    rows += session.execute(text(sql), params)
    return rows[:limit]


def available(session: Session) -> bool:
    """Whether the archive has documents at all (revision 0008 or later): the search API
    also reads archives of earlier revisions."""
    return inspect(session.connection()).has_table("document_version")


def doc_numbers(session: Session, ids: list[int]) -> dict[int, str | None]:
    """The current 文号 of the documents among `ids` (articles are absent)."""
    if not ids or not available(session):
        return {}
    found = session.execute(text(_NUMBERS.format(",".join(str(int(i)) for i in ids))))
    return {row.id: row.doc_number for row in found}


def check_filters(session: Session, wanted: DocumentFilter) -> None:
    """A `SearchQueryError` naming known values for a filter no current document matches
    (asked only when a filtered search found nothing)."""
    for name, value in wanted.given().items():
        column = _COLUMNS[name]
        exists = session.execute(
            text(
                "SELECT 1 FROM article AS r JOIN document_version AS d "
                f"ON d.version_id = r.current_version_id WHERE d.{column} = :value LIMIT 1"
            ),
            {"value": value},
        ).first()
        if exists:
            continue
        known = session.execute(text(_KNOWN.format(column=column))).scalars().all()
        listing = ", ".join(map(str, known)) or "none yet"
        raise SearchQueryError(f"no document has {name} {value!r}: known values are {listing}")
