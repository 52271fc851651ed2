"""Every `atlas sql` example in the README runs as written, through the CLI, on the published
snapshot of a generated estate, and returns rows: a reader copying one gets an answer, not an
empty table (examples say "the latest month", never "this month" of the wall clock)."""

from __future__ import annotations

import json
import re

import pytest

from atlas_pipeline.cli import main
from atlas_pipeline.lib.settings import REPO_ROOT

pytestmark = pytest.mark.e2e

# `atlas sql "<query>"`, the query possibly over several lines (README's shell blocks).
_EXAMPLE = re.compile(r'atlas sql "(.+?)"', re.S)


def readme_queries() -> list[str]:
    text = (REPO_ROOT / "README.md").read_text()
    return [" ".join(q.split()) for q in _EXAMPLE.findall(text) if q.strip().lower().startswith(("select", "with"))]


def test_the_readme_has_sql_examples():
    assert len(readme_queries()) >= 6


@pytest.mark.parametrize("query", readme_queries())
def test_a_readme_query_returns_rows(reported, query, capsys, monkeypatch):
    paths, result = reported
    assert result.success
    monkeypatch.setenv("ATLAS_HOME", str(paths.home))
    capsys.readouterr()
    assert main(["sql", query, "--format", "json"]) == 0, capsys.readouterr().err
    rows = json.loads(capsys.readouterr().out)
    assert rows, f"no rows: {query}"
