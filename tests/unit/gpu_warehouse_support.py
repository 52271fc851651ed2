"""Helpers for the GPU warehouse tests: land files through the real landing code, run dbt."""

from __future__ import annotations

from pathlib import Path

import duckdb

from atlas_pipeline.lib.gpu_pricing import load_gpu_pricing, write_gpu_pricing
from atlas_pipeline.lib.kubernetes_teams import load_kubernetes_teams, write_kubernetes_teams
from atlas_pipeline.lib.landing import land_source, refresh_raw_view
from atlas_pipeline.lib.object_store import open_store
from atlas_pipeline.lib.settings import DECLARATIONS_DIR
from atlas_pipeline.lib.slurm_nodelists import write_slurm_tables
from atlas_pipeline.lib.sources import load_sources


def land_estate(
    exports: Path, warehouse: Path, home: Path, names: set[str] | None = None, assets: Path | None = None
) -> None:
    """Land every declared source (or `names`) from `exports` and create its raw view, as the
    ingest assets do (sacct NodeLists expanded into raw.slurm_node_lists); load the declared GPU
    prices and Kubernetes team rules (from `assets`, a user's own declarations folder, when given)."""
    declared = assets or DECLARATIONS_DIR
    con = duckdb.connect(str(warehouse))
    try:
        for source in load_sources(DECLARATIONS_DIR / "sources"):
            if names is not None and source.name not in names:
                continue
            store = open_store(source.resolved_location({"ATLAS_EXPORTS": str(exports)}))
            land_source(con, source, store, home / "landing", home / "quarantine")
            refresh_raw_view(con, source)
            if source.format == "slurm_sacct":
                write_slurm_tables(con, source.name)
        write_gpu_pricing(con, load_gpu_pricing(declared / "gpu_pricing.yaml"))
        write_kubernetes_teams(con, load_kubernetes_teams(declared / "kubernetes_teams.yaml"))
    finally:
        con.close()


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


# The GPU part of the dbt project: seeds, telemetry staging, intermediate and GPU marts.
TELEMETRY_SUBGRAPH = (
    "gpu_model_specs", "xid_codes",
    "stg_dcgm__gpu_samples", "stg_prometheus__dcgm_samples", "stg_nvidia_smi__gpu_samples", "stg_slurm__jobs",
    "stg_cluster__gpu_nodes",
    "int_gpu_samples", "int_gpu_reading_states", "int_slurm_job_nodes", "int_gpu_job_hours",
    "int_gpu_job_activity_hourly", "int_gpu_node_hours", "int_gpu_node_hourly_cost", "int_gpu_health_episodes",
    "fct_gpu_hours_daily", "fct_gpu_capacity_daily", "fct_gpu_usage_hourly", "fct_gpu_job_usage",
    "fct_gpu_cost_allocation", "fct_gpu_health_daily", "gpu_health_events", "gpu_idle_cost_daily",
)

_EMPTY_RAW = {
    "dcgm_samples": "cast(null as varchar) as line",
    "dcgm_prometheus_exports": "cast(null as map(varchar, varchar)) as metric_labels, "
                               "cast(null as varchar) as timestamp_text, cast(null as varchar) as value_text",
    "nvidia_smi_logs": "cast(null as varchar) as \"timestamp\", cast(null as varchar) as \"index\"",
    "slurm_jobs": "cast(null as varchar) as \"JobID\", cast(null as varchar) as \"State\", "
                  "cast(null as varchar) as \"Start\", cast(null as varchar) as \"End\"",
}


def stand_in_absent_relations(warehouse: Path) -> None:
    """Test-local stand-ins for relations a telemetry-only estate lacks today: an empty raw view for
    each absent telemetry source and an empty `main.focus_cost_and_usage` (no cloud bill). They go
    away when absent sources get typed empty raw relations at ingest (the "any real estate runs"
    change); until then required billing sources with no files fail at ingest."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("create schema if not exists raw")
        present = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'").fetchall()}
        for name, columns in _EMPTY_RAW.items():
            if name not in present:
                con.execute(
                    f"create view raw.{name} as select {columns}, cast(null as varchar) as x_source_file, "
                    "cast(null as varchar) as x_period, cast(null as varchar) as x_export_version where false"
                )
        if "slurm_report_files" not in present:
            write_slurm_tables(con, "slurm_jobs")
        if "kubernetes_teams" not in present:
            write_kubernetes_teams(con, [])
        if "gpu_pricing" not in present:
            write_gpu_pricing(con, [])
        con.execute(
            'create table if not exists main.focus_cost_and_usage ("ResourceId" varchar, "EffectiveCost" decimal(38, 12), '
            '"BillingCurrency" varchar, "ChargePeriodStart" timestamp, "ChargePeriodEnd" timestamp)'
        )
    finally:
        con.close()
