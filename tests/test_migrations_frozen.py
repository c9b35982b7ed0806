"""Frozen migrations: no revision imports the live code of `storage` or `govcrawler`.

A revision that called today's functions would do something else tomorrow: an archive upgraded
next year from 0001 must get what the revision did when it was written. Each revision carries
its own copy of what it needs.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

VERSIONS = Path(__file__).parents[1] / "storage" / "migrations" / "versions"
LIVE_PACKAGES = {"storage", "govcrawler"}
IMPORT_CALLS = {"import_module", "__import__"}


def live_imports(source: str) -> list[str]:
    """Each import of `storage`/`govcrawler` in `source` (at any depth, relative ones too, and
    `importlib.import_module("…")`), as `line N: module`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            # A relative import reaches the package the revisions live in: storage.
            modules = ["." * node.level + (node.module or "")]
        elif isinstance(node, ast.Call) and _called_name(node.func) in IMPORT_CALLS:
            modules = [a.value for a in node.args[:1] if isinstance(a, ast.Constant)]
        found += [
            f"line {node.lineno}: {module}"
            for module in modules
            if isinstance(module, str)
            and (module.startswith(".") or module.split(".")[0] in LIVE_PACKAGES)
        ]
    return found


def _called_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else None


REVISIONS = sorted(path for path in VERSIONS.glob("*.py") if path.name != "__init__.py")


def test_there_are_revisions_to_check() -> None:
    assert len(REVISIONS) >= 6, REVISIONS


@pytest.mark.parametrize("revision", REVISIONS, ids=lambda path: path.name)
def test_a_revision_imports_neither_storage_nor_govcrawler(revision: Path) -> None:
    imports = live_imports(revision.read_text(encoding="utf-8"))
    assert not imports, f"{revision.name} imports live code: {', '.join(imports)}"


@pytest.mark.parametrize(
    "source",
    [
        "from storage.archive import content_digest",
        "import storage.neardup as neardup",
        "import govcrawler",
        "def upgrade():\n    from storage.search.index import index_text",
        "from . import helpers",
        "import importlib\nimportlib.import_module('storage.search.index')",
    ],
)
def test_the_check_finds_every_kind_of_live_import(source: str) -> None:
    assert live_imports(source), source


def test_the_check_lets_libraries_through() -> None:
    source = "import json\nimport sqlalchemy as sa\nfrom alembic import op\nimport numpy as np\n"
    assert live_imports(source) == []
