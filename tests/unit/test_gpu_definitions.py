"""The GPU marts in the Dagster graph: lineage from the telemetry sources and the cost check."""

from __future__ import annotations

import dagster as dg


def test_gpu_marts_lineage_and_blocking_reconciliation_check():
    from atlas_pipeline.definitions import defs

    graph = defs().resolve_asset_graph()
    samples = graph.get(dg.AssetKey("int_gpu_samples"))
    assert {p.to_user_string() for p in samples.parent_keys} == {
        "stg_dcgm__gpu_samples", "stg_prometheus__dcgm_samples", "stg_nvidia_smi__gpu_samples",
        "gpu_model_specs",  # a MIG instance's share of its GPU
    }
    assert samples.group_name == "intermediate"
    cost = graph.get(dg.AssetKey("int_gpu_node_hourly_cost"))
    assert {"focus_cost_and_usage", "raw/gpu_pricing"} <= {p.to_user_string() for p in cost.parent_keys}
    for mart in ("fct_gpu_usage_hourly", "fct_gpu_job_usage", "fct_gpu_cost_allocation", "fct_gpu_health_daily",
                 "gpu_health_events"):
        assert graph.get(dg.AssetKey(mart)).group_name == "marts"
    checks = {key for key in graph.asset_check_keys if key.asset_key == dg.AssetKey("fct_gpu_cost_allocation")}
    assert dg.AssetCheckKey(dg.AssetKey("fct_gpu_cost_allocation"), "assert_gpu_cost_reconciles_to_billing") in checks


def test_every_dbt_test_is_a_check_of_one_definition():
    """A dbt test whose parents span definitions (an unpartitioned mart checked against the billing
    models) is still a check, of the definition holding the model it names; none is left out."""
    import json

    from atlas_pipeline.definitions import defs
    from atlas_pipeline.lib.warehouse.dbt_project import atlas_dbt_project

    nodes = json.loads(atlas_dbt_project().manifest_path.read_text())["nodes"]
    tests = {n["name"] for n in nodes.values() if n["resource_type"] == "test"}
    graph = defs().resolve_asset_graph()
    assert sorted(tests - {key.name for key in graph.asset_check_keys}) == []
    blocking = {key.name for key in graph.asset_check_keys if graph.get_check_spec(key).blocking}
    assert {"assert_gpu_cost_reconciles_to_billing", "assert_cost_by_team_monthly_adds_up"} <= blocking
