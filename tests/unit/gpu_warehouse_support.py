"""Helpers for the GPU warehouse tests: land files through the real landing code, run dbt."""

from __future__ import annotations

from pathlib import Path

import duckdb

from atlas_pipeline.lib.gpu_pricing import load_gpu_pricing, write_gpu_pricing
from atlas_pipeline.lib.landing import land_source, refresh_raw_view
from atlas_pipeline.lib.object_store import open_store
from atlas_pipeline.lib.settings import DECLARATIONS_DIR
from atlas_pipeline.lib.slurm_nodelists import write_slurm_node_lists
from atlas_pipeline.lib.sources import load_sources


def land_estate(exports: Path, warehouse: Path, home: Path, names: set[str] | None = None) -> None:
    """Land every declared source (or `names`) from `exports` and create its raw view, as the
    ingest assets do; load the declared GPU prices."""
    con = duckdb.connect(str(warehouse))
    try:
        for source in load_sources(DECLARATIONS_DIR / "sources"):
            if names is not None and source.name not in names:
                continue
            store = open_store(source.resolved_location({"ATLAS_EXPORTS": str(exports)}))
            land_source(con, source, store, home / "landing", home / "quarantine")
            refresh_raw_view(con, source)
            if source.format == "slurm_sacct":
                write_slurm_node_lists(con, source.name)
        write_gpu_pricing(con, load_gpu_pricing(DECLARATIONS_DIR / "gpu_pricing.yaml"))
    finally:
        con.close()


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()
