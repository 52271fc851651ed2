"""Declared GX suites run as Dagster asset checks; a failing blocking suite stops downstream assets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from atlas_pipeline.defs.quality.checks import build_suite_checks, quality
from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.lib.quality.expectations import load_suites
from atlas_pipeline.lib.warehouse.connections import connect

pytestmark = pytest.mark.dagster

GOOD = [
    ("a1", "Usage", "USD"),
    ("a2", "SavingsPlanCoveredUsage", "USD"),
    ("a3", "Tax", "USD"),
]
BAD = [
    ("a1", "Usage", "USD"),
    (None, "Usage", "USD"),  # null id
    ("a3", "Bogus", "USD"),  # unknown line-item type
]


def _checks_dir(tmp_path: Path, blocking: bool = True) -> Path:
    """A checks folder holding a CUR 2.0 suite: the fuller one the GX wrapper's tests use (the bundled
    raw suite leaves not-null ids and currencies to the file contract, their one home)."""
    folder = tmp_path / "checks" / "raw"
    folder.mkdir(parents=True)
    data = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "gx" / "aws_cur2_full_suite.json").read_text())
    data["meta"]["atlas"]["blocking"] = blocking
    (folder / "aws_cur2.json").write_text(json.dumps(data))
    return folder.parent


def _run(tmp_path: Path, rows: list[tuple] | None, blocking: bool = True):
    """Materialize raw/aws_cur2 (a table of `rows`, or nothing if None) → its GX check → downstream."""
    home = tmp_path / "atlas"

    @dg.asset(key=["raw", "aws_cur2"])
    def raw_aws_cur2() -> None:
        if rows is None:
            return
        with connect(home / "warehouse.duckdb") as con:
            con.execute("create schema if not exists raw")
            con.execute(
                "create or replace table raw.aws_cur2 (identity_line_item_id varchar, bill_payer_account_id varchar, "
                "line_item_line_item_type varchar, line_item_usage_start_date timestamptz, "
                "line_item_usage_end_date timestamptz, line_item_unblended_cost double, "
                "line_item_currency_code varchar, resource_tags map(varchar, varchar), x_period varchar)"
            )
            con.executemany(
                "insert into raw.aws_cur2 values (?, '210987654321', ?, timestamptz '2026-08-01 00:00:00+00', "
                "timestamptz '2026-08-01 01:00:00+00', 1.5, ?, map {'team': 'ml'}, '2026-08')",
                rows,
            )

    @dg.asset(deps=[raw_aws_cur2])
    def downstream() -> None:
        pass

    checks = build_suite_checks(load_suites(_checks_dir(tmp_path, blocking)))
    result = dg.materialize(
        [raw_aws_cur2, downstream, *checks],
        resources={"warehouse": Warehouse(atlas_home=str(home))},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
        selection=dg.AssetSelection.all() | dg.AssetSelection.all_asset_checks(),
    )
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    [evaluation] = result.get_asset_check_evaluations()
    return result, evaluation, materialized


def test_good_data_passes_and_downstream_materializes(tmp_path):
    result, evaluation, materialized = _run(tmp_path, GOOD)
    assert result.success
    assert evaluation.passed and evaluation.check_name == "gx_raw_aws_cur2"
    assert evaluation.asset_key == dg.AssetKey(["raw", "aws_cur2"])
    assert evaluation.metadata["rows_validated"].value == 3
    assert evaluation.metadata["expectations_failed"].value == 0
    assert materialized == {"raw/aws_cur2", "downstream"}


def test_bad_data_fails_the_blocking_check_and_stops_downstream(tmp_path):
    result, evaluation, materialized = _run(tmp_path, BAD)
    assert not result.success  # the check step fails the run: DagsterAssetCheckFailedError
    assert not evaluation.passed and evaluation.blocking
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    failed = {(f["expectation"], f["column"]): f for f in evaluation.metadata["failed_expectations"].value}
    assert set(failed) == {
        ("expect_column_values_to_not_be_null", "identity_line_item_id"),
        ("expect_column_values_to_be_in_set", "line_item_line_item_type"),
    }
    assert failed[("expect_column_values_to_be_in_set", "line_item_line_item_type")]["unexpected_values"] == ["Bogus"]
    assert "Bogus" in evaluation.metadata["failures"].value  # the markdown table
    assert "2 of" in evaluation.description
    assert materialized == {"raw/aws_cur2"}  # downstream did not run


def test_missing_relation_fails_with_a_clear_message(tmp_path):
    _, evaluation, materialized = _run(tmp_path, None)
    assert not evaluation.passed
    assert evaluation.description.startswith("relation raw.aws_cur2 does not exist")
    assert "Traceback" not in evaluation.metadata["error"].value
    assert materialized == {"raw/aws_cur2"}


def test_non_blocking_suite_warns_and_lets_downstream_run(tmp_path):
    result, evaluation, materialized = _run(tmp_path, BAD, blocking=False)
    assert result.success
    assert not evaluation.passed and not evaluation.blocking
    assert evaluation.severity == dg.AssetCheckSeverity.WARN
    assert materialized == {"raw/aws_cur2", "downstream"}


def test_definitions_hold_one_check_per_bundled_suite():
    defs = quality()
    keys = {key for check in defs.asset_checks for key in check.check_keys}
    names = {(k.asset_key.to_user_string(), k.name) for k in keys}
    assert names >= {
        ("raw/aws_cur2", "gx_raw_aws_cur2"),
        ("raw/gcp_billing", "gx_raw_gcp_billing"),
        ("raw/azure_cost_details_actual", "gx_raw_azure_cost_details_actual"),
        ("raw/azure_cost_details_amortized", "gx_raw_azure_cost_details_amortized"),
        ("raw/dcgm_samples", "gx_raw_dcgm_samples"),
        ("raw/slurm_jobs", "gx_raw_slurm_jobs"),
        ("raw/gpu_nodes", "gx_raw_gpu_nodes"),
        ("focus_cost_and_usage", "gx_marts_focus_cost_and_usage"),
        ("focus_cost_and_usage", "gx_warn_tag_coverage"),
        ("fct_cost_daily", "gx_warn_daily_cost_spike"),
    }
    blocking = {spec.name: spec.blocking for check in defs.asset_checks for spec in check.check_specs}
    assert blocking["gx_raw_aws_cur2"] and blocking["gx_marts_fct_cost_daily"]
    assert not blocking["gx_warn_tag_coverage"] and not blocking["gx_warn_telemetry_gaps"]


def test_loading_the_checks_module_does_not_import_great_expectations():
    code = "import sys, atlas_pipeline.defs.quality.checks as m; m.quality(); print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "False"
