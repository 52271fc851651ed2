"""The Dagster graph loads and is reviewed: asset keys, deps, groups, partitions, checks (and
whether each blocks), jobs, schedules and sensors are snapshotted in `tests/snapshots/definitions.yaml`,
so any graph change shows up in review as a diff of that file.

After an intended change, rewrite the snapshot and commit it with the change:

    ATLAS_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/unit/test_definitions.py -k snapshot
"""

from __future__ import annotations

import difflib
import functools
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import dagster as dg
import yaml

from atlas_pipeline.lib.settings import REPO_ROOT

SNAPSHOT = Path(__file__).resolve().parents[1] / "snapshots" / "definitions.yaml"
UPDATE_FLAG = "ATLAS_UPDATE_SNAPSHOTS"


@functools.cache
def _defs() -> dg.Definitions:
    """The definitions of the repository's own declarations (`assets/`, never a developer's
    $ATLAS_ASSETS), loaded once for the module: a load takes seconds (dbt manifest, GX suites)."""
    from atlas_pipeline.definitions import defs

    own = os.environ.pop("ATLAS_ASSETS", None)
    try:
        return defs()
    finally:
        if own is not None:
            os.environ["ATLAS_ASSETS"] = own


def test_graph_reads_left_to_right_by_stage():
    graph = _defs().resolve_asset_graph()
    groups = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    # Ingest assets: one per declared source, keyed raw/<source>.
    assert {k for k, g in groups.items() if g == "ingest"} == {
        "raw/aws_cur2", "raw/gcp_billing", "raw/azure_cost_details_actual", "raw/azure_cost_details_amortized",
        "raw/dcgm_samples", "raw/slurm_jobs", "raw/gpu_nodes",
        # optional billing inputs (required: false)
        "raw/aws_cur_legacy", "raw/aws_focus", "raw/gcp_billing_detailed", "raw/azure_focus", "raw/saas_focus",
        "raw/dcgm_prometheus_exports", "raw/nvidia_smi_logs",
        "raw/node_exporter_prometheus_exports", "raw/gpu_fault_injections",
        "raw/gpu_pricing", "raw/kubernetes_teams", "raw/slurm_node_lists", "raw/slurm_report_files",
    }
    assert groups["stg_aws__cur2_line_items"] == "staging"
    assert groups["int_aws__focus_line_items"] == "intermediate"
    assert groups["focus_cost_and_usage"] == "marts"
    assert groups["fct_cost_daily"] == "marts"
    assert groups["forecast_cost_daily"] == "forecasts"
    assert groups["atlas_overview"] == "reports"
    assert groups["data_quality_summary"] == "reports"
    assert groups["rpt_spend_daily"] == "reports"
    # The report views read the forecast and quality outputs: dbt -> Python -> dbt, one graph.
    assert dg.AssetKey("budget_status") in graph.get(dg.AssetKey("rpt_budget_status")).parent_keys
    assert dg.AssetKey("data_quality_summary") in graph.get(dg.AssetKey("rpt_source_freshness")).parent_keys
    assert set(groups.values()) == {"ingest", "staging", "intermediate", "marts", "forecasts", "reports"}
    # dbt staging reads the ingest assets' raw views: lineage is one graph.
    assert dg.AssetKey(["raw", "aws_cur2"]) in graph.get(dg.AssetKey("stg_aws__cur2_line_items")).parent_keys


def test_every_asset_has_a_description_owners_a_domain_and_kinds():
    """The catalog a user reads: a real description (a dbt model's from its yml, never dagster-dbt's
    "dbt model <name>" fallback), owners and a `domain` tag, and kinds, on every materializable asset."""
    from atlas_pipeline.defs.catalog import DOMAINS

    graph = _defs().resolve_asset_graph()
    keys = [k for k in graph.get_all_asset_keys() if graph.get(k).is_materializable]
    assert len(keys) > 80
    problems = []
    for key in keys:
        node = graph.get(key)
        description = node.description or ""
        if not description or description.startswith(("dbt model ", "(no description")):
            problems.append(f"{key.to_user_string()}: description {description!r}")
        if not node.owners:
            problems.append(f"{key.to_user_string()}: no owners")
        domain = (node.tags or {}).get("domain")
        if domain not in DOMAINS or list(DOMAINS[domain].owners) != list(node.owners):
            problems.append(f"{key.to_user_string()}: domain tag {domain!r}, owners {node.owners}")
        if not node.kinds:
            problems.append(f"{key.to_user_string()}: no kinds")
    assert problems == []


def test_every_dbt_model_documents_its_columns_in_the_catalog():
    """Every dbt model has a yml description and every column its yml lists a description (its own,
    or the glossary's `column__<name>` doc block: models/docs/_columns.md); the Dagster catalog shows
    them as the asset's column schema. Every column a model outputs is listed: tests/unit/
    test_empty_estate_and_dbt_unit_tests.py checks that against the built warehouse."""
    import json

    from atlas_pipeline.defs.transform.dbt import atlas_dbt_project
    from atlas_pipeline.lib.warehouse.dbt_catalog import column_descriptions, describe_column

    manifest = json.loads(atlas_dbt_project().manifest_path.read_text())
    described = column_descriptions(manifest)
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    assert len(models) > 80
    problems = []
    for node in models:
        if not node["description"].strip():
            problems.append(f"{node['name']}: no description")
        if not node["columns"]:
            problems.append(f"{node['name']}: no columns in its yml")
        for name, column in node["columns"].items():
            if not (column["description"].strip() or describe_column(name, described)):
                problems.append(f"{node['name']}.{name}: no description")
    assert problems == []

    # The glossary's text reaches the catalog: dagster-dbt's column schema of a billing model whose
    # yml reuses the doc blocks (`{{ doc('column__BilledCost') }}`).
    graph = _defs().resolve_asset_graph()
    schema = graph.get(dg.AssetKey("int_aws__focus_line_items")).metadata["dagster/column_schema"]
    columns = {c.name: c.description for c in schema.columns}
    assert columns["BilledCost"] == described["billedcost"]
    assert columns["x_source_row"] and all(columns.values())


def test_jobs_and_schedules_snapshot():
    defs = _defs()
    schedules = {s.name: (s.cron_schedule, s.job_name) for s in defs.schedules or []}
    assert schedules["warehouse_refresh_daily"] == ("0 5 * * *", "warehouse_refresh_job")
    assert schedules["billing_deliveries_daily"] == ("0 4 * * *", "billing_job")
    assert schedules["telemetry_deliveries_hourly"] == ("15 * * * *", "telemetry_job")
    forecast = [s for s in defs.schedules or [] if s.job_name == "forecast_job"]
    assert len(forecast) == 1 and forecast[0].cron_schedule.startswith("0 6 ")
    refresh = defs.resolve_job_def("warehouse_refresh_job")
    assert "forecast_cost_daily" not in {k.to_user_string() for k in refresh.asset_layer.selected_asset_keys}
    # The report views and the overview are rebuilt by their own job, after refresh or forecast runs
    # (sensor; `atlas run` runs it): the rpt_* views read the forecast outputs too.
    refreshed = {k.to_user_string() for k in refresh.asset_layer.selected_asset_keys}
    assert "atlas_overview" not in refreshed and not {k for k in refreshed if k.startswith("rpt_")}
    assert "data_quality_summary" in refreshed
    report = defs.resolve_job_def("report_job")
    reported = {k.to_user_string() for k in report.asset_layer.selected_asset_keys}
    assert "atlas_overview" in reported and {"rpt_spend_daily", "rpt_budget_status", "rpt_gpu_cost_daily"} <= reported
    # ... and the files schedulers apply (per-GPU scores as Slurm weights and Kubernetes labels)
    assert "gpu_scheduler_hints" in reported
    assert reported - {"atlas_overview", "gpu_scheduler_hints"} == {k for k in reported if k.startswith("rpt_")}
    sensor = defs.resolve_sensor_def("rebuild_overview_report")
    assert sensor.job_name == "report_job"
    # Forecast partitions are the as-of dates the landed history supports, added after each refresh.
    forecast_job = defs.resolve_job_def("forecast_job")
    assert isinstance(forecast_job.partitions_def, dg.DynamicPartitionsDefinition)
    assert forecast_job.partitions_def.name == "forecast_as_of_dates"
    assert defs.resolve_sensor_def("forecast_as_of_dates_after_refresh").default_status == dg.DefaultSensorStatus.RUNNING


def test_blocking_checks_exist_on_raw_sources():
    graph = _defs().resolve_asset_graph()
    checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    assert any(asset == "raw/aws_cur2" and name.startswith("gx_") for asset, name in checks), checks
    assert any(asset == "focus_cost_and_usage" and "reconciles" in name for asset, name in checks), checks


def test_workspace_yaml_loads_the_same_definitions():
    """`dagster dev -w workspace.yaml` (the UI command) can load the code location."""
    dagster = Path(sys.executable).parent / "dagster"
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", str(REPO_ROOT / "workspace.yaml")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_run_refits_only_the_forecasts_downstream_of_what_changed():
    """`atlas run`: a new telemetry day refits the GPU-hours forecast only; a restated billing month
    the spend forecast with its anomalies and budgets, not the GPU-hours one; nothing rebuilt, none."""
    from atlas_pipeline.lib.run.pipeline_run import affected_forecasts
    from atlas_pipeline.lib.run.run_plan import RunPlan

    graph = _defs().resolve_asset_graph()

    def names(plan: RunPlan) -> set[str]:
        return {k.to_user_string() for k in affected_forecasts(graph, plan)}

    assert names(RunPlan(partitions={"telemetry_days": ["2026-10-31"]})) == {"forecast_gpu_hours_daily"}
    assert names(RunPlan(partitions={"billing_periods": ["2026-12"]})) == {
        "forecast_cost_daily", "cost_anomalies", "budget_status"}
    assert names(RunPlan(partitions={"billing_periods": [], "telemetry_days": []})) == set()


def test_a_run_rebuilds_only_the_reports_downstream_of_what_changed():
    """`atlas run`: a restated billing month rebuilds the spend, forecast and GPU cost reports and the
    overview, not the GPU health/utilization reports; a new telemetry day not the spend reports; a
    report whose code changed is rebuilt (and the overview that reads it) although nothing feeds it."""
    import dagster as dg

    from atlas_pipeline.lib.run.pipeline_run import affected_forecasts, affected_reports
    from atlas_pipeline.lib.run.run_plan import RunPlan

    graph = _defs().resolve_asset_graph()

    def names(plan: RunPlan) -> set[str]:
        return {k.to_user_string() for k in affected_reports(graph, plan, affected_forecasts(graph, plan))}

    billing = names(RunPlan(partitions={"billing_periods": ["2026-12"]}, after={dg.AssetKey("data_quality_summary")}))
    assert {"rpt_spend_daily", "rpt_forecast_cost_daily", "rpt_cost_anomalies", "rpt_gpu_cost_daily",
            "atlas_overview"} <= billing
    assert not billing & {"rpt_gpu_health_daily", "rpt_gpu_utilization_daily", "rpt_forecast_gpu_hours_daily"}
    telemetry = names(RunPlan(partitions={"telemetry_days": ["2026-10-31"]}))
    assert {"rpt_gpu_utilization_daily", "rpt_forecast_gpu_hours_daily", "atlas_overview"} <= telemetry
    assert not telemetry & {"rpt_spend_daily", "rpt_spend_monthly", "rpt_forecast_cost_daily"}
    stale = RunPlan(stale={dg.AssetKey("rpt_gpu_health_daily"): "code changed since its last build"})
    assert names(stale) == {"rpt_gpu_health_daily", "atlas_overview"}
    assert names(RunPlan()) == set()


def _partitions(partitions_def: dg.PartitionsDefinition | None) -> str | None:
    """A stable one-line name of a partitions definition (no object ids, no current time)."""
    if partitions_def is None:
        return None
    if isinstance(partitions_def, dg.DynamicPartitionsDefinition):
        return f"dynamic {partitions_def.name}"
    if isinstance(partitions_def, dg.TimeWindowPartitionsDefinition):
        return (f"time window cron={partitions_def.cron_schedule!r} start={partitions_def.start.isoformat()} "
                f"timezone={partitions_def.timezone} fmt={partitions_def.fmt!r}")
    if isinstance(partitions_def, dg.StaticPartitionsDefinition):
        return "static " + ",".join(partitions_def.get_partition_keys())
    if isinstance(partitions_def, dg.MultiPartitionsDefinition):
        return "multi " + " x ".join(
            f"{dim.name}=({_partitions(dim.partitions_def)})" for dim in partitions_def.partitions_defs)
    return type(partitions_def).__name__


def graph_snapshot(defs: dg.Definitions) -> dict[str, Any]:
    """The reviewable shape of the graph: plain, sorted data with no paths, ids or times in it."""
    graph = defs.resolve_asset_graph()
    checks_by_asset: dict[str, dict[str, str]] = {}
    for check_key in graph.asset_check_keys:
        check = graph.get(check_key)
        checks_by_asset.setdefault(check_key.asset_key.to_user_string(), {})[check_key.name] = (
            "blocking" if check.blocking else "warn")
    assets: dict[str, Any] = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        entry: dict[str, Any] = {"group": node.group_name}
        if node.is_external:
            entry["kind"] = "observable source" if node.is_observable else "external"
        if node.partitions_def is not None:
            entry["partitions"] = _partitions(node.partitions_def)
        deps = sorted(parent.to_user_string() for parent in node.parent_keys)
        if deps:
            entry["deps"] = deps
        mappings = {parent.to_user_string(): type(mapping).__name__
                    for parent, mapping in node.partition_mappings.items()}
        if mappings:
            entry["partition_mappings"] = dict(sorted(mappings.items()))
        checks = checks_by_asset.get(key.to_user_string())
        if checks:
            entry["checks"] = dict(sorted(checks.items()))
        assets[key.to_user_string()] = entry
    jobs: dict[str, Any] = {}
    for job in sorted(defs.resolve_all_job_defs(), key=lambda j: j.name):
        if job.name.startswith("__"):  # Dagster's implicit all-assets job
            continue
        entry = {"assets": sorted(k.to_user_string() for k in job.asset_layer.selected_asset_keys)}
        if job.partitions_def is not None:
            entry["partitions"] = _partitions(job.partitions_def)
        jobs[job.name] = entry
    schedules = {
        s.name: {"cron": s.cron_schedule, "timezone": s.execution_timezone, "job": s.job_name,
                 "default_status": s.default_status.value}
        for s in sorted(defs.schedules or [], key=lambda s: s.name)
    }
    sensors: dict[str, Any] = {}
    for sensor in sorted(defs.sensors or [], key=lambda s: s.name):
        entry = {"type": sensor.sensor_type.value, "default_status": sensor.default_status.value,
                 "minimum_interval_seconds": sensor.minimum_interval_seconds}
        if sensor.has_jobs:
            entry["jobs"] = sorted(job.name for job in sensor.jobs)
        selection = sensor.asset_selection
        if isinstance(selection, dg.AssetSelection):
            monitored = selection.resolve_checks(graph)
            if monitored:
                entry["monitors_checks"] = sorted(f"{k.asset_key.to_user_string()}:{k.name}" for k in monitored)
        sensors[sensor.name] = entry
    return {"assets": assets, "jobs": jobs, "schedules": schedules, "sensors": sensors}


def _render(snapshot: dict[str, Any]) -> str:
    header = ("# The Dagster graph as tests/unit/test_definitions.py sees it. Do not edit by hand:\n"
              f"#   {UPDATE_FLAG}=1 .venv/bin/pytest tests/unit/test_definitions.py -k snapshot\n")
    return header + yaml.safe_dump(snapshot, sort_keys=True, default_flow_style=False, width=200)


def test_definitions_match_the_reviewed_snapshot():
    """Any change to the graph (an asset, a dep, a group, a partitions definition, a check or its
    blocking, a job's selection, a schedule, a sensor) changes tests/snapshots/definitions.yaml."""
    live = _render(graph_snapshot(_defs()))
    if os.environ.get(UPDATE_FLAG) == "1":
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(live)
    committed = SNAPSHOT.read_text() if SNAPSHOT.exists() else ""
    if committed != live:
        diff = "".join(difflib.unified_diff(
            committed.splitlines(keepends=True), live.splitlines(keepends=True),
            fromfile=f"{SNAPSHOT.relative_to(REPO_ROOT)} (committed)", tofile="live definitions"))
        raise AssertionError(
            f"The Dagster graph differs from its reviewed snapshot. If the change is intended, run\n"
            f"  {UPDATE_FLAG}=1 .venv/bin/pytest tests/unit/test_definitions.py -k snapshot\n"
            f"and commit the snapshot with it.\n\n{diff}")


def test_snapshot_names_partitions_and_blocking_checks_stably():
    """The snapshot is plain data a reviewer can read: a partitioned asset says which partitions,
    a blocking check says so, and nothing in it depends on this machine (paths, object ids)."""
    snapshot = graph_snapshot(_defs())
    assets = snapshot["assets"]
    assert assets["focus_cost_and_usage"]["partitions"] == "dynamic billing_periods"
    assert assets["raw/aws_cur2"]["checks"]["gx_raw_aws_cur2"] == "blocking"
    assert "warn" in {v for a in assets.values() for v in a.get("checks", {}).values()}
    assert snapshot["jobs"]["billing_job"]["partitions"] == "dynamic billing_periods"
    text = _render(snapshot)
    assert str(REPO_ROOT) not in text and " at 0x" not in text
    assert yaml.safe_load(text) == snapshot
