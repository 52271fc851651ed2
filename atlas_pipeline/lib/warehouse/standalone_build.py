"""A warehouse built without Dagster: land the declared sources as the ingest assets do, then run the
project's dbt on the file as a subprocess (the way dagster-dbt runs it). The dbt tests' fixtures
(tests/dbt/conftest.py: `land_estate`, `dbt`) and benchmarks (bench/gpu_fragmentation.py) use it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from atlas_pipeline.lib.ingest.contracts import contract_for
from atlas_pipeline.lib.ingest.gpu_pricing import load_gpu_pricing, write_gpu_pricing
from atlas_pipeline.lib.ingest.kubernetes_teams import load_kubernetes_teams, write_kubernetes_teams
from atlas_pipeline.lib.ingest.landing import land_source, refresh_raw_view
from atlas_pipeline.lib.ingest.object_store import open_store
from atlas_pipeline.lib.ingest.raw_relations import empty_view_sql
from atlas_pipeline.lib.ingest.slurm_nodelists import write_slurm_tables
from atlas_pipeline.lib.ingest.sources import load_sources
from atlas_pipeline.lib.settings import DBT_PROJECT_DIR, DECLARATIONS_DIR
from atlas_pipeline.lib.warehouse.connections import connect
from atlas_pipeline.lib.warehouse.warm_dbt import dbt_executable


def run_dbt(warehouse: Path, work: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run `dbt <args>` on `warehouse` with target and logs under `work`; returns the finished
    process (check returncode). `env` adds variables to the inherited environment."""
    exe = dbt_executable()  # warm when the caller runs a server (the test session does)
    environment = {**os.environ, **(env or {}), "ATLAS_WAREHOUSE": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run(
        [str(exe), *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         "--target-path", str(work / "target"), "--log-path", str(work / "logs")],
        env=environment, capture_output=True, text=True, timeout=900,
    )


def land_declared_estate(
    exports: Path, warehouse: Path, home: Path, names: set[str] | None = None, assets: Path | None = None
) -> None:
    """Land every declared source (or `names`) from `exports` and create its raw view, as the
    ingest assets do (sacct NodeLists expanded into raw.slurm_node_lists); load the declared GPU
    prices and Kubernetes team rules (from `assets`, a user's own declarations folder, when given)."""
    declared = assets or DECLARATIONS_DIR
    with connect(warehouse) as con:  # Atlas's settings and storage format, as the ingest assets open it
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
