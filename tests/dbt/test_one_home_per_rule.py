"""One home per quality rule (checks/README.md, "Which rule goes where"), the dbt side: a staging or
mart GX expectation never repeats a dbt test, and each rule moved from GX to dbt fails its dbt test
on the bad row. The file contracts' side (raw rules): tests/unit/test_rule_homes.py.

Moved rules, and why the remaining rule is the same or stricter:
- staging and mart not-null / in-set / >= 0 / unique: dbt's not_null, accepted_values (same values),
  the project's non_negative and unique tests on the same column, severity error, no `where`, all
  rows (some GX suites validated a sample);
- stg_saas__focus_cost ChargePeriodEnd >= ChargePeriodStart: assert_focus_period_end_not_before_start
  on focus_cost_and_usage, which every SaaS row reaches (the row-conservation check), also checking
  the billing period.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from atlas_pipeline.lib.quality.expectations import DeclaredExpectation, DeclaredSuite, load_suites
from atlas_pipeline.lib.settings import CHECKS_DIR, DBT_PROJECT_DIR

pytestmark = pytest.mark.dbt

NOT_NULL = "expect_column_values_to_not_be_null"
BETWEEN = "expect_column_values_to_be_between"
IN_SET = "expect_column_values_to_be_in_set"
UNIQUE = "expect_column_values_to_be_unique"


def _dbt_tests() -> dict[tuple[str, str], dict[str, dict]]:
    """(model, column lowercased) -> {generic test name: its manifest node}."""
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    tests: dict[tuple[str, str], dict[str, dict]] = {}
    for node in manifest["nodes"].values():
        meta = node.get("test_metadata")
        if node["resource_type"] != "test" or not meta or not node.get("column_name"):
            continue
        model = (node.get("attached_node") or "").split(".")[-1]
        tests.setdefault((model, node["column_name"].lower()), {})[meta["name"]] = node
    return tests


def dbt_repeats(suite: DeclaredSuite, tests: dict[tuple[str, str], dict[str, dict]]) -> list[str]:
    """The staging or mart suite's expectations that a blocking dbt test on the same column holds."""
    model = suite.relation.split(".")[-1]
    repeated = []
    for e in suite.expectations:
        name = e.kwargs.get("column")
        if not name or e.kwargs.get("mostly") is not None:
            continue
        strict = {kind: node for kind, node in tests.get((model, name.lower()), {}).items()
                  if node["config"].get("severity", "").lower() == "error" and not node["config"].get("where")}
        if e.type == NOT_NULL and "not_null" in strict:
            repeated.append(f"{suite.name}: not null {name} (dbt not_null)")
        elif e.type == UNIQUE and "unique" in strict:
            repeated.append(f"{suite.name}: unique {name} (dbt unique)")
        elif e.type == IN_SET and "accepted_values" in strict and set(
                strict["accepted_values"]["test_metadata"]["kwargs"]["values"]) <= set(e.kwargs["value_set"]):
            repeated.append(f"{suite.name}: {name} in set (dbt accepted_values)")
        elif (e.type == BETWEEN and e.kwargs.get("min_value") == 0 and e.kwargs.get("max_value") is None
              and "non_negative" in strict):
            repeated.append(f"{suite.name}: {name} >= 0 (dbt non_negative)")
    return repeated


def test_no_staging_or_mart_gx_expectation_repeats_a_dbt_test():
    tests = _dbt_tests()
    repeated = [r for s in load_suites(CHECKS_DIR) if not s.relation.startswith("raw.") for r in dbt_repeats(s, tests)]
    assert repeated == []


def test_the_dbt_guard_sees_the_rules_it_guards_against():
    """The guard above would catch a repeated rule: a not-null job_key added back to the placement
    mart's suite repeats its dbt not_null test."""
    [placement] = [s for s in load_suites(CHECKS_DIR) if s.name == "marts_fct_gpu_job_placement"]
    again = DeclaredExpectation(type=NOT_NULL, kwargs={"column": "job_key"})
    assert dbt_repeats(dataclasses.replace(placement, expectations=(again,)), _dbt_tests()) == [
        "marts_fct_gpu_job_placement: not null job_key (dbt not_null)"]


# -- the moved staging and mart rules fire as dbt tests ------------------------------------------

# relation -> (columns with types, rows: the first good, the second bad for every moved rule)
DBT_TABLES = {
    "main.fct_gpu_cost_allocation": (
        {"idle_method": "varchar", "allocation_type": "varchar"},
        [("dcgm_gr_engine_active", "job"), (None, "shared")]),
    "main.fct_gpu_fault_drill_injections": (
        {"injection_key": "varchar", "is_detected": "boolean"}, [("k1", True), (None, None)]),
    "main.fct_gpu_fragmentation_daily": (
        {"gpu_hours_stranded": "double", "stranded_cost": "decimal(38, 12)", "gpu_hours_placed_wider": "double",
         "cost_placed_wider": "decimal(38, 12)"},
        [(0, 0, 0, 0), (-1, -1, -1, -1)]),
    "main.fct_gpu_health_daily": ({"health_status": "varchar"}, [("healthy",), ("fine",)]),
    "main.fct_gpu_idle_cost_by_cause": (
        {"idle_cause": "varchar", "gpu_hours_idle": "double"}, [("job_idle", 1.5), ("lunch", -0.5)]),
    "main.fct_gpu_job_placement": (
        {"job_key": "varchar", "is_wider_than_needed": "boolean", "cost_wider_than_needed": "decimal(38, 12)"},
        [("j1", False, 0), (None, None, -1)]),
    "main.fct_gpu_job_usage": ({"job_key": "varchar"}, [("j1",), (None,)]),
    "main.fct_gpu_scores_daily": ({"scheduler_health": "varchar"}, [("healthy",), ("fine",)]),
    "main.fct_gpu_usage_hourly": ({"hour_start": "timestamptz"}, [("2026-11-02 01:00:00+00",), (None,)]),
    "main.gpu_health_events": ({"event_type": "varchar"}, [("straggler",), (None,)]),
    "staging.stg_cluster__gpu_nodes": ({"hostname": "varchar"}, [("h1",), ("h1",)]),
    "staging.stg_dcgm__gpu_samples": (
        {"hostname": "varchar", "sample_at": "timestamptz", "metric_name": "varchar", "gpu_index": "integer",
         "gpu_uuid": "varchar", "value_text": "varchar", "sample_date": "date", "x_period": "varchar"},
        [("h1", "2026-11-02 01:00:00+00", "DCGM_FI_DEV_GPU_UTIL", 0, "GPU-a", "87", "2026-11-02", "2026-11-02"),
         (None, None, None, None, None, None, None, None)]),
    "main.focus_cost_and_usage": (
        {"ChargePeriodStart": "timestamptz", "ChargePeriodEnd": "timestamptz",
         "BillingPeriodStart": "timestamptz", "BillingPeriodEnd": "timestamptz"},
        [("2026-08-01 00:00:00+00", "2026-08-01 01:00:00+00", "2026-08-01 00:00:00+00", "2026-09-01 00:00:00+00"),
         ("2026-08-01 02:00:00+00", "2026-08-01 01:00:00+00", "2026-08-01 00:00:00+00", "2026-09-01 00:00:00+00")]),
}
# Each staging or mart GX rule moved to dbt: (model, column or None for a singular test, dbt test).
MOVED_TO_DBT = [
    ("fct_gpu_cost_allocation", "idle_method", "not_null"),
    ("fct_gpu_cost_allocation", "allocation_type", "accepted_values"),
    ("fct_gpu_fault_drill_injections", "injection_key", "not_null"),
    ("fct_gpu_fault_drill_injections", "is_detected", "not_null"),
    *[("fct_gpu_fragmentation_daily", c, "non_negative") for c in (
        "gpu_hours_stranded", "stranded_cost", "gpu_hours_placed_wider", "cost_placed_wider")],
    ("fct_gpu_health_daily", "health_status", "accepted_values"),
    ("fct_gpu_idle_cost_by_cause", "idle_cause", "accepted_values"),
    ("fct_gpu_idle_cost_by_cause", "gpu_hours_idle", "non_negative"),
    ("fct_gpu_job_placement", "job_key", "not_null"),
    ("fct_gpu_job_placement", "is_wider_than_needed", "not_null"),
    ("fct_gpu_job_placement", "cost_wider_than_needed", "non_negative"),
    ("fct_gpu_job_usage", "job_key", "not_null"),
    ("fct_gpu_scores_daily", "scheduler_health", "accepted_values"),
    ("fct_gpu_usage_hourly", "hour_start", "not_null"),
    ("gpu_health_events", "event_type", "not_null"),
    ("stg_cluster__gpu_nodes", "hostname", "unique"),
    # hostname, sample_at, metric_name: with the view's other required columns, in one scan
    ("stg_dcgm__gpu_samples", None, "not_null_stg_dcgm__gpu_samples_required_columns"),
    ("focus_cost_and_usage", None, "assert_focus_period_end_not_before_start"),
]


def test_each_moved_staging_or_mart_rule_fails_its_dbt_test_on_the_bad_row(tmp_path, dbt, write_relations):
    """One `dbt test` of exactly the tests that replaced GX rules, on hand-built tables holding a good
    row and a row bad for every moved rule: each test fails, on one row (the good one passes)."""
    tests = _dbt_tests()
    names = []
    for model, column, kind in MOVED_TO_DBT:
        if column is None:
            names.append(kind)
            continue
        node = tests[(model, column.lower())][kind]
        assert node["config"]["severity"].lower() == "error" and not node["config"].get("where")
        names.append(node["name"])
    warehouse = tmp_path / "warehouse.duckdb"
    write_relations(warehouse, DBT_TABLES)
    result = dbt(warehouse, tmp_path, "test", "--select", *names)
    run_results = tmp_path / "target" / "run_results.json"
    assert run_results.exists(), result.stdout[-4000:]
    outcome = {r["unique_id"].split(".")[2]: (r["status"], r["failures"])
               for r in json.loads(run_results.read_text())["results"]}
    assert outcome == {name: ("fail", 1) for name in names}, result.stdout[-4000:]
