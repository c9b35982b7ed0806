"""What a re-extraction result would change, field by field, against the current version:
the same comparison the write path records (`storage.changes.changed_fields`), and for the
report a readable diff of each field (a body paragraph by paragraph)."""

from __future__ import annotations

import difflib
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import storage
from storage.changes import changed_fields
from storage.models import Article, ArticleVersion, DocumentVersion

EXAMPLES = 3  # examples with diffs per field in a report


@dataclass(frozen=True)
class Change:
    """One page whose result differs: which fields, and a diff of each."""

    article_id: int
    url: str
    fields: dict[str, str]  # field -> a diff (or old → new)


@dataclass(frozen=True)
class Current:
    """What the writer needs of an article's current version to pass over an unchanged result
    without loading the version."""

    url: str
    canonical_id: str
    digest: str
    attachments: Any
    is_document: bool

    def unchanged_by(self, record: storage.ArticleRecord) -> bool:
        """True when `change_of` would certainly find nothing: an article's digest covers every
        compared field but its attachments (compared here as stored). Anything else, a
        document among them, is left to `change_of`."""
        return (
            not self.is_document
            and record.document is None
            and record.digest == self.digest
            and record.attachments == self.attachments
        )


def currents(session: Session, article_ids: list[int]) -> dict[int, Current]:
    """The current version of each of these articles, in one statement."""
    query = (
        select(
            Article.id,
            Article.url,
            Article.canonical_id,
            ArticleVersion.content_digest,
            ArticleVersion.attachments,
            DocumentVersion.version_id.is_not(None),
        )
        .join(ArticleVersion, ArticleVersion.id == Article.current_version_id)
        .outerjoin(DocumentVersion, DocumentVersion.version_id == ArticleVersion.id)
        .where(Article.id.in_(article_ids))
    )
    return {row[0]: Current(*row[1:]) for row in session.execute(query)}


def change_of(session: Session, record: storage.ArticleRecord, article_id: int) -> Change | None:
    """How `record` differs from the article's current version (None: it does not). Unchanged
    as the write path decides: the same digest and no compared field apart."""
    version = session.scalar(
        select(ArticleVersion)
        .join(Article, Article.current_version_id == ArticleVersion.id)
        .where(Article.id == article_id)
    )
    if version is None:
        return None
    document = session.get(DocumentVersion, version.id)
    found = changed_fields(version, document, record)  # type: ignore[arg-type]
    if not found and record.digest == version.content_digest:
        return None
    diffs = {name: _diff(name, version, document, record, old, new) for name, old, new in found}
    return Change(article_id, record.url, diffs or {"content": "digest differs"})


def _diff(
    name: str, version: Any, document: Any, record: storage.ArticleRecord, old: Any, new: Any
) -> str:
    if name == "body":
        before, after = version.body.split("\n\n"), record.body.split("\n\n")
        lines = difflib.unified_diff(before, after, "archived", "re-extracted", n=1, lineterm="")
        return "\n".join(list(lines)[2:])
    if name == "captions":
        old = json.dumps(version.captions, ensure_ascii=False)
        new = json.dumps(record.captions, ensure_ascii=False)
    return f"- {_shown(old)}\n+ {_shown(new)}"


def _shown(value: Any) -> str:
    return "(none)" if value is None else str(value)


@dataclass
class Report:
    """Counts per field and a few examples of each, over a whole run."""

    pages: int = 0
    changed: int = 0
    problems: int = 0
    fields: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[tuple[int, str, str]]] = field(default_factory=dict)
    changes: list[tuple[int, str, list[str]]] = field(default_factory=list)  # id, url, fields

    def add(self, change: Change) -> None:
        self.changed += 1
        self.changes.append((change.article_id, change.url, sorted(change.fields)))
        for name, diff in change.fields.items():
            self.fields[name] += 1
            shown = self.examples.setdefault(name, [])
            if len(shown) < EXAMPLES:
                shown.append((change.article_id, change.url, diff))

    def lines(self, applied: bool) -> list[str]:
        verb = "re-extracted as a new version" if applied else "would change"
        out = [f"{self.pages} pages read, {self.changed} {verb}, {self.problems} problems"]
        for name, n in sorted(self.fields.items(), key=lambda item: (-item[1], item[0])):
            out.append(f"  {name}: {n}")
        for name in sorted(self.examples):
            for article_id, url, diff in self.examples[name]:
                out.append(f"\n{name} of {article_id} {url}:")
                out += [f"    {line}" for line in diff.splitlines()]
        return out

    def as_json(self, applied: bool) -> dict[str, Any]:
        """The report for a program: every changed page with its fields, the counts."""
        return {
            "applied": applied,
            "pages": self.pages,
            "changed": self.changed,
            "problems": self.problems,
            "fields": dict(sorted(self.fields.items())),
            "changes": [
                {"article_id": article_id, "url": url, "fields": fields}
                for article_id, url, fields in self.changes
            ],
        }
