"""Fixtures of the dbt tests: run the project's dbt against a test warehouse (as a subprocess, the
way dagster-dbt runs it), land hand-made exports through the real landing code, read the result.

Each fixture hands out a function (session scope: it holds no state), so module-scoped fixtures that
build a warehouse once can use it too. The landing and the dbt runner live in
atlas_pipeline/lib/warehouse/standalone_build.py, which bench/gpu_fragmentation.py runs too."""

from __future__ import annotations

import csv
import subprocess
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from atlas_pipeline.lib.ingest.contracts import contract_for, input_names
from atlas_pipeline.lib.ingest.gpu_pricing import write_gpu_pricing
from atlas_pipeline.lib.ingest.kubernetes_teams import write_kubernetes_teams
from atlas_pipeline.lib.ingest.raw_relations import empty_view_sql
from atlas_pipeline.lib.ingest.slurm_nodelists import write_slurm_tables
from atlas_pipeline.lib.settings import DECLARATIONS_DIR
from atlas_pipeline.lib.warehouse.standalone_build import land_declared_estate, run_dbt

# The FOCUS 1.2 specification's worked examples (licence and origin: tests/fixtures/billing/README.md).
FOCUS_SPEC_SCENARIOS = Path(__file__).parents[1] / "fixtures" / "billing" / "focus_spec_v1.2_scenarios"

# The GPU part of the dbt project: seeds, telemetry staging, intermediate and GPU marts, and the
# FOCUS table cloud GPU nodes are priced from (empty when the estate has no bill).
TELEMETRY_SUBGRAPH = (
    "+focus_cost_and_usage",
    "gpu_model_specs", "xid_codes",
    "stg_dcgm__gpu_samples", "stg_prometheus__dcgm_samples", "stg_nvidia_smi__gpu_samples", "stg_slurm__jobs",
    "stg_cluster__gpu_nodes",
    "int_gpu_samples", "int_gpu_instance_samples", "int_gpu_reading_states", "int_slurm_job_nodes", "int_gpu_host_clusters",
    "int_gpu_job_hours",
    "int_gpu_job_readings",
    "int_gpu_job_activity_hourly", "int_gpu_node_hours", "int_gpu_node_hourly_cost", "int_gpu_health_episodes",
    "fct_gpu_hours_daily", "fct_gpu_capacity_daily", "fct_gpu_usage_hourly", "fct_gpu_job_usage",
    "fct_gpu_cost_allocation", "fct_gpu_health_daily", "gpu_health_events", "gpu_idle_cost_daily",
    # issue 22: placement and fragmentation, input-bound idle, scores, fault drills
    "node_io_signals", "dcgm_fault_fields", "stg_prometheus__node_io_samples", "stg_drills__gpu_fault_injections",
    "int_gpu_job_hourly_cost", "int_gpu_pending_job_shapes", "int_gpu_node_occupancy_intervals", "int_node_io_rates",
    "int_gpu_idle_causes_hourly", "fct_gpu_job_placement", "fct_gpu_fragmentation_daily", "fct_gpu_idle_cost_by_cause",
    "fct_gpu_scores_daily", "fct_gpu_node_scores_daily", "fct_gpu_fault_drill_injections", "fct_gpu_fault_drills",
)


def _fetch_rows(warehouse: Path, sql: str) -> list[dict]:
    """The result of `sql` on `warehouse` (read-only), one dict per row."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    finally:
        con.close()


def _query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    """The result of `sql` (with `params`) on `warehouse` (read-only, session time zone UTC), as tuples."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.execute("set TimeZone = 'UTC'")
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _land_typed(con: duckdb.DuckDBPyConnection, source_name: str, path: Path, period: str) -> Path:
    """Land one file of a declared source through the real landing reader (read once, typed by its
    contract, lineage columns added) and return the typed parquet, for tests that build their own
    raw views. A rejected file fails the test with its reason."""
    from atlas_pipeline.lib.ingest.file_validation import land_file
    from atlas_pipeline.lib.ingest.sources import parse_source

    source = parse_source(DECLARATIONS_DIR / "sources" / f"{source_name}.yaml")
    typed = Path(str(path) + ".typed.parquet")
    verdict = land_file(con, source, period, "v1", path.name, path, typed, str(path))
    assert not verdict.rejected, verdict.problem
    return typed


def _stand_in_absent_relations(warehouse: Path) -> None:
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


def _write_relations(warehouse: Path, tables: dict[str, tuple[dict[str, str], list[tuple]]]) -> None:
    con = duckdb.connect(str(warehouse))
    try:
        for relation, (columns, rows) in tables.items():
            con.execute(f"create schema if not exists {relation.split('.')[0]}")
            con.execute(f"create table {relation} ({', '.join(f'{chr(34)}{c}{chr(34)} {t}' for c, t in columns.items())})")
            if rows:
                con.executemany(f"insert into {relation} values ({', '.join('?' for _ in columns)})", rows)
    finally:
        con.close()


@pytest.fixture(scope="session")
def write_relations() -> Callable[[Path, dict], None]:
    """`write_relations(warehouse, {"schema.table": ({column: type}, rows)})`: hand-made relations a
    dbt test reads, in place of the models that would build them."""
    return _write_relations


@pytest.fixture(scope="session")
def dbt() -> Callable[..., subprocess.CompletedProcess]:
    """`dbt(warehouse, work, *args, env=None)`: run the project's dbt on a test warehouse (see run_dbt)."""
    return run_dbt


@pytest.fixture(scope="session")
def fetch_rows() -> Callable[[Path, str], list[dict]]:
    """`fetch_rows(warehouse, sql)`: the rows of a read-only query, one dict per row."""
    return _fetch_rows


@pytest.fixture(scope="session")
def query() -> Callable[..., list[tuple]]:
    """`query(warehouse, sql, params=None)`: the rows of a read-only query in UTC, as tuples."""
    return _query


@pytest.fixture(scope="session")
def land_typed() -> Callable[..., Path]:
    """`land_typed(con, source_name, path, period)`: one file through the landing reader, its typed parquet."""
    return _land_typed


@pytest.fixture(scope="session")
def land_estate() -> Callable[..., None]:
    """`land_estate(exports, warehouse, home, names=None, assets=None)`: land declared sources as ingest does."""
    return land_declared_estate


@pytest.fixture(scope="session")
def stand_in_absent_relations() -> Callable[[Path], None]:
    """`stand_in_absent_relations(warehouse)`: typed empty raw views for every input an estate lacks."""
    return _stand_in_absent_relations


@pytest.fixture(scope="session")
def telemetry_subgraph() -> tuple[str, ...]:
    """The dbt selection of the GPU part of the project (TELEMETRY_SUBGRAPH)."""
    return TELEMETRY_SUBGRAPH


@dataclass(frozen=True)
class SaasScenarios:
    """The FOCUS spec's SaaS scenario files as a spreadsheet wrote them, read and delivered the way
    the `saas_focus` source expects them (saas/focus/<vendor>/<YYYY-MM>/*.csv)."""

    folder: Path = FOCUS_SPEC_SCENARIOS

    @staticmethod
    def money(text: str | None) -> Decimal | None:
        """The spec's money text as a number: `"$10,000.00 "` is 10000.00 (a spreadsheet's US format)."""
        text = (text or "").strip().replace("$", "").replace(",", "")
        return Decimal(text) if text else None

    @staticmethod
    def spec_time(text: str | None) -> datetime | None:
        """The spec's `5/1/25` is 1 May 2025 (US month/day/year), UTC."""
        text = (text or "").strip()
        return datetime.strptime(text, "%m/%d/%y").replace(tzinfo=UTC) if text else None

    def billing_period(self, text: str) -> str:
        return self.spec_time(text).strftime("%Y-%m")

    def deliver(self, vendors: Path, stem: str, vendor: str | None = None) -> list[Path]:
        """Write scenario `stem` as its vendor delivers it: one file per billing period, in
        `<vendors>/<vendor>/<YYYY-MM>/<stem>.csv`, header and every line's bytes unchanged."""
        lines = (self.folder / f"{stem}.csv").read_bytes().splitlines(keepends=True)
        header, body = lines[0], [ln for ln in lines[1:] if ln.strip()]
        names = next(csv.reader([header.decode("utf-8-sig")]))
        by_period: dict[str, list[bytes]] = defaultdict(list)
        for line in body:
            values = dict(zip(names, next(csv.reader([line.decode()])), strict=True))
            by_period[self.billing_period(values["BillingPeriodStart"])].append(line)
        written = []
        for period, period_lines in by_period.items():
            folder = vendors / (vendor or stem) / period
            folder.mkdir(parents=True)
            (folder / f"{stem}.csv").write_bytes(header + b"".join(period_lines))
            written.append(folder / f"{stem}.csv")
        return written


@pytest.fixture(scope="session")
def saas_scenarios() -> SaasScenarios:
    """The FOCUS spec's SaaS scenarios: `.folder`, `.money`, `.spec_time`, `.billing_period`, `.deliver`."""
    return SaasScenarios()
