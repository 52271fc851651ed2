"""docs/architecture.md stays true: every repository path and file it names exists."""

from __future__ import annotations

import os
import re

from atlas_pipeline.lib.settings import REPO_ROOT

DOC = REPO_ROOT / "docs" / "architecture.md"
FILE_SUFFIXES = (".py", ".sql", ".yml", ".yaml", ".md", ".json", ".csv", ".txt")
SKIPPED_DIRS = {".venv", "target", "node_modules", ".git", ".atlas", ".tools"}
DELIVERED = {"nodes.csv"}  # files an estate delivers (the GPU inventory), not the repository's


def _named_paths(text: str) -> tuple[set[str], set[str]]:
    """(paths from the repository root, bare file names) in the page's `code` spans."""
    top = {p.name for p in REPO_ROOT.iterdir()}
    paths, names = set(), set()
    for token in re.findall(r"`([^`\n]+)`", text):
        if any(c in token for c in "<>$…* =(") or token.startswith("../"):
            continue
        if "/" in token and token.split("/")[0] in top:
            paths.add(token.rstrip("/"))
        elif "/" not in token and token.endswith(FILE_SUFFIXES):
            names.add(token)
    return paths, names


def test_every_path_the_architecture_page_names_exists():
    paths, names = _named_paths(DOC.read_text())
    assert len(paths) > 40 and len(names) > 10  # the page is a map, not prose
    assert sorted(p for p in paths if not (REPO_ROOT / p).exists()) == []
    present = set()
    for _folder, dirs, files in os.walk(REPO_ROOT):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
        present.update(files)
    assert sorted(names - present - DELIVERED) == []


def test_the_readme_links_the_architecture_page():
    assert "(docs/architecture.md)" in (REPO_ROOT / "README.md").read_text()
