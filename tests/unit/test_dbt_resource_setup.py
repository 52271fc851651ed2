"""The dbt CLI resource's setup without running dbt: the dagster-dbt hooks Atlas overrides still exist,
and a failed dbt call keeps its target folder (lib/warehouse/dbt_project.py warm_parse). The dbt
calls themselves: tests/dbt/test_dbt_resource.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster_dbt import DbtCliResource

from atlas_pipeline.lib.settings import AtlasPaths
from atlas_pipeline.lib.warehouse.dbt_project import warm_parse


def test_the_dagster_dbt_hooks_it_overrides_still_exist() -> None:
    """Both are private to dagster-dbt: an upgrade that renames them must fail here, not silently
    bring the costs back."""
    assert callable(DbtCliResource._initialize_dbt_core_adapter)
    assert hasattr(DbtCliResource._cli_version, "func")  # a functools.cached_property


def test_a_failed_dbt_call_keeps_its_target_folder_and_log(_isolated_homes: Path) -> None:
    paths = AtlasPaths.from_env().ensure()
    with pytest.raises(RuntimeError), warm_parse(paths) as target:
        (target / "dbt.log").write_text("what went wrong")
        raise RuntimeError("dbt failed")
    assert (target / "dbt.log").read_text() == "what went wrong"

