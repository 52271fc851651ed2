"""Tests live by kind (README, "Development"): every module of a slow folder carries that folder's
marker, so `-m "not dbt"` and friends leave out exactly that folder; and no module of the fast
loop (tests/unit) runs dbt or materializes Dagster assets."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

TESTS = Path(__file__).parents[1]
MARKER_OF_FOLDER = {"dbt": "dbt", "dagster": "dagster", "integration": "integration", "bench": "bench", "e2e": "e2e"}
# What puts a test in tests/dbt or tests/dagster: the dbt executable run (by hand or through
# lib/warehouse/standalone_build.py's run_dbt), a Dagster run in process.
SLOW_CALLS = re.compile(r"""materialize(?:_to_memory)?\(|execute_in_process\(|/ "dbt"|\bdbt_support\b|\brun_dbt\b""")


def _module_marks(path: Path) -> set[str]:
    """The names of the `pytest.mark.<name>` in the module's `pytestmark`."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "pytestmark" for t in node.targets):
            return {n.attr for n in ast.walk(node.value)
                    if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Attribute) and n.value.attr == "mark"}
    return set()


@pytest.mark.parametrize("folder", sorted(MARKER_OF_FOLDER))
def test_every_module_of_a_slow_folder_carries_its_marker(folder: str) -> None:
    modules = sorted((TESTS / folder).glob("test_*.py"))
    assert modules
    assert [m.name for m in modules if MARKER_OF_FOLDER[folder] not in _module_marks(m)] == []


def test_the_slow_markers_are_registered() -> None:
    registered = (TESTS.parent / "pyproject.toml").read_text()
    for marker in {*MARKER_OF_FOLDER.values(), "slow"}:
        assert f'"{marker}: ' in registered, marker


def test_no_unit_test_runs_dbt_or_materializes_assets() -> None:
    offenders = {m.name: SLOW_CALLS.findall(m.read_text()) for m in sorted((TESTS / "unit").glob("test_*.py"))
                 if m.name != Path(__file__).name}
    assert {name: found for name, found in offenders.items() if found} == {}
    assert not [m.name for m in (TESTS / "unit").glob("test_*.py") if _module_marks(m) & {"dbt", "dagster", "e2e"}]
