"""The README lists every command and every govcrawler setting (and nothing that is gone)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import click

from govcrawler import settings
from govcrawler.cli import main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def command_paths(group: click.Group, prefix: str = "govcrawler") -> list[str]:
    paths = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            paths.extend(command_paths(command, path))
        else:
            paths.append(path)
    return paths


def test_every_command_is_in_the_readme_with_a_docstring_example() -> None:
    paths = command_paths(main)
    assert "govcrawler crawl" in paths
    for path in paths:
        assert f"`{path}`" in README, path
    for command in main.commands.values():
        commands = command.commands.values() if isinstance(command, click.Group) else [command]
        for leaf in commands:
            assert "Example: govcrawler" in (leaf.help or ""), leaf.name


def test_every_govcrawler_setting_is_in_the_readme_table() -> None:
    names = {name for name in vars(settings) if name.startswith("GOVCRAWLER_")}
    source = Path(settings.__file__).read_text(encoding="utf-8")
    names |= set(re.findall(r"os\.environ\.get\(\s*\"(GOVCRAWLER_[A-Z_]+)\"", source))
    documented = set(re.findall(r"^\| `(GOVCRAWLER_[A-Z_]+)` \|", README, re.MULTILINE))
    assert names == documented


def test_make_test_leaves_out_the_marked_tests_make_test_all_runs_them_the_readme_says_so() -> None:
    root = Path(__file__).resolve().parent.parent
    options = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    markers = {line.split(":")[0] for line in options["tool"]["pytest"]["ini_options"]["markers"]}
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    (left_out,) = re.findall(r'^test:.*\n\t.*pytest.* -m "([^"]+)"$', makefile, re.MULTILINE)
    terms = left_out.split(" and ")
    assert all(term.startswith("not ") for term in terms)
    assert {term.removeprefix("not ") for term in terms} == markers
    assert re.search(r"^test-all:.*\n\t\S*python -m pytest -q$", makefile, re.MULTILINE)
    for marker in markers:
        assert f"`{marker}`" in README, marker
