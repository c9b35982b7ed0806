"""A document's metadata values from its block, its scripts and the fallbacks of SITE-ZH §0.

有效性 comes from the old red notice, else the `file_status` script literal (what the page shows:
SITE-ZH §3.4), else the static cell; each value records which. A value that does not parse is
kept as published where the model has room for it (文号 raw, 有效性 raw), never guessed.
"""

from __future__ import annotations

import re
from datetime import date
from itertools import pairwise

from govcrawler.extract.docnumber import DocNumber, find_doc_numbers, parse_doc_number
from govcrawler.extract.model import Document, DocumentFields
from govcrawler.extract.urls import article_ref
from govcrawler.extract.validity import epoch_date, normalise_validity, validity_from_script
from govcrawler.extract.zhdates import date_from_text, signature_date

_EPOCH = re.compile(r"^\d{10}(?:\d{3})?$")
_NOTICE_WORD = re.compile(r"已?废止|失效|尚未施行|有效")
# A 省政府令 is signed before the rule's text (`省长 <姓名>`, then the date): SITE-ZH §3.2.
_SIGNER = re.compile(r"^(?:代理)?省长\s*\S{2,4}$")
_SIGNER_WINDOW = 8


def heading_number(raw: str | None, heading_lines: list[str]) -> DocNumber | None:
    """The block's 文号 (kept raw when it does not parse), else the first one on the heading
    lines (a `四川省人民政府令` / `第N号` pair too), else None."""
    if raw:
        return parse_doc_number(raw)
    pairs = [a + b for a, b in pairwise(heading_lines)]
    for line in [*heading_lines, *pairs]:
        parsed = parse_doc_number(line)
        if parsed.normalised:
            return parsed
    for line in heading_lines:
        found = find_doc_numbers(line)
        if found and len(line) <= len(found[0].raw) + 4:
            return found[0]
    return None


def document_fields(
    values: dict[str, str],
    meta: dict[str, str],
    scripts: str,
    notice: str | None,
    lines: list[str],
    url: str,
) -> DocumentFields:
    validity_raw, source = _validity(values.get("validity"), scripts, notice)
    return DocumentFields(
        index_number=values.get("index_number") or None,
        doc_type=values.get("doc_type") or None,
        issuer=values.get("issuer") or None,
        written_on=date_from_text(values.get("written_on") or "")
        or signature_date(lines)
        or _promulgation_date(lines),
        published_on=_published_on(values.get("published_on"), meta, url),
        validity=normalise_validity(validity_raw) if validity_raw else None,
        validity_raw=validity_raw,
        validity_source=source,
        abolished_on=_abolished_on(values.get("abolished_on"), scripts, notice),
        subject=values.get("subject") or None,
        source=values.get("source") or meta.get("ContentSource"),
    )


def _validity(
    static: str | None, scripts: str, notice: str | None
) -> tuple[str | None, str | None]:
    word = _NOTICE_WORD.search(notice or "")
    if word:
        return word[0], "red_notice"
    file_status, _ = validity_from_script(scripts)
    if file_status:
        return file_status, "script"
    if static:
        return static, "static"
    return None, None


def _promulgation_date(lines: list[str]) -> date | None:
    """The date under the governor's name near the top of a 省政府令 page."""
    for index, line in enumerate(lines[:_SIGNER_WINDOW]):
        if _SIGNER.match(line) and index + 1 < len(lines):
            return signature_date([lines[index + 1]])
    return None


def _published_on(value: str | None, meta: dict[str, str], url: str) -> date | None:
    for text in (value, meta.get("PubDate")):
        found = date_from_text(text or "")
        if found:
            return found
    ref = article_ref(url)
    return ref.url_date if ref else None


def _abolished_on(value: str | None, scripts: str, notice: str | None) -> date | None:
    """The cell's date (a leaked epoch too), else the `losetime` literal, else the notice's."""
    value = (value or "").strip()
    if _EPOCH.match(value):
        return epoch_date(value)
    if value and date_from_text(value):
        return date_from_text(value)
    _, losetime = validity_from_script(scripts)
    found = epoch_date(losetime) if losetime else None
    return found or (date_from_text(notice) if notice else None)


def unread_fields(document: Document) -> list[str]:
    """The metadata fields the page published in a form we do not read (kept raw in
    `Document.raw_fields`): a date that does not parse, a 文号 of no known form, a validity word
    outside the vocabulary."""
    raw = dict(document.raw_fields)
    unread = [
        name
        for name in ("written_on", "published_on")
        if raw.get(name) and date_from_text(raw[name]) is None
    ]
    abolished = raw.get("abolished_on", "").strip()
    if abolished and not (_EPOCH.match(abolished) or date_from_text(abolished)):
        unread.append("abolished_on")
    if document.doc_number is not None and not document.doc_number.normalised:
        unread.append("doc_number")
    if document.fields.validity_raw and not document.fields.validity:
        unread.append("validity")
    return unread
