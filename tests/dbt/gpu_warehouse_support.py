"""Helpers for the GPU warehouse tests: land files through the real landing code, run dbt."""

from __future__ import annotations

from pathlib import Path

import duckdb

from atlas_pipeline.lib.ingest.contracts import contract_for, input_names
from atlas_pipeline.lib.ingest.gpu_pricing import load_gpu_pricing, write_gpu_pricing
from atlas_pipeline.lib.ingest.kubernetes_teams import load_kubernetes_teams, write_kubernetes_teams
from atlas_pipeline.lib.ingest.landing import land_source, refresh_raw_view
from atlas_pipeline.lib.ingest.object_store import open_store
from atlas_pipeline.lib.ingest.raw_relations import empty_view_sql
from atlas_pipeline.lib.ingest.slurm_nodelists import write_slurm_tables
from atlas_pipeline.lib.ingest.sources import load_sources
from atlas_pipeline.lib.settings import DECLARATIONS_DIR


def land_estate(
    exports: Path, warehouse: Path, home: Path, names: set[str] | None = None, assets: Path | None = None
) -> None:
    """Land every declared source (or `names`) from `exports` and create its raw view, as the
    ingest assets do (sacct NodeLists expanded into raw.slurm_node_lists); load the declared GPU
    prices and Kubernetes team rules (from `assets`, a user's own declarations folder, when given)."""
    declared = assets or DECLARATIONS_DIR
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("create schema if not exists raw")
        for source in load_sources(DECLARATIONS_DIR / "sources"):
            if names is not None and source.name not in names:
                con.execute(empty_view_sql(source.name, contract_for(source.name)))  # absent, as ingest does
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


# The GPU part of the dbt project: seeds, telemetry staging, intermediate and GPU marts, and the
# FOCUS table cloud GPU nodes are priced from (empty when the estate has no bill).
TELEMETRY_SUBGRAPH = (
    "+focus_cost_and_usage",
    "gpu_model_specs", "xid_codes",
    "stg_dcgm__gpu_samples", "stg_prometheus__dcgm_samples", "stg_nvidia_smi__gpu_samples", "stg_slurm__jobs",
    "stg_cluster__gpu_nodes",
    "int_gpu_samples", "int_gpu_reading_states", "int_slurm_job_nodes", "int_gpu_job_hours",
    "int_gpu_job_activity_hourly", "int_gpu_node_hours", "int_gpu_node_hourly_cost", "int_gpu_health_episodes",
    "fct_gpu_hours_daily", "fct_gpu_capacity_daily", "fct_gpu_usage_hourly", "fct_gpu_job_usage",
    "fct_gpu_cost_allocation", "fct_gpu_health_daily", "gpu_health_events", "gpu_idle_cost_daily",
    # issue 22: placement and fragmentation, input-bound idle, scores, fault drills
    "node_io_signals", "dcgm_fault_fields", "stg_prometheus__node_io_samples", "stg_drills__gpu_fault_injections",
    "int_gpu_job_hourly_cost", "int_gpu_pending_job_shapes", "int_gpu_node_occupancy_intervals", "int_node_io_rates",
    "int_gpu_idle_causes_hourly", "fct_gpu_job_placement", "fct_gpu_fragmentation_daily", "fct_gpu_idle_cost_by_cause",
    "fct_gpu_scores_daily", "fct_gpu_node_scores_daily", "fct_gpu_fault_drill_injections", "fct_gpu_fault_drills",
)

def stand_in_absent_relations(warehouse: Path) -> None:
    """What ingest does for the inputs an estate lacks, for tests that create some raw views by hand:
    every input without a raw relation gets its contract's typed empty view (lib/ingest/raw_relations.py),
    and the lookup tables the GPU models join on exist (empty when nothing declares them)."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("create schema if not exists raw")
        present = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'").fetchall()}
        for name in input_names():
            if name not in present:
                con.execute(empty_view_sql(name, contract_for(name)))
        if "slurm_report_files" not in present:
            write_slurm_tables(con, "slurm_jobs")
        if "kubernetes_teams" not in present:
            write_kubernetes_teams(con, [])
        if "gpu_pricing" not in present:
            write_gpu_pricing(con, [])
    finally:
        con.close()
