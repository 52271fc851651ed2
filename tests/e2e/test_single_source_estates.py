"""Any subset of sources is an estate: each hand-made estate (tests/e2e/real_estates.py — real samples
laid out as providers deliver them, never the generator) runs the warehouse refresh job end to end
with every blocking check green, the absent sources' checks skipped with their reason, and every
row and cent of what was delivered in the FOCUS table; an on-prem GPU fleet with no bill is costed
from its declared price."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from real_estates import ESTATES, ONPREM, write_estate

pytestmark = pytest.mark.e2e


def _query(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def instance():
    with dg.DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


@pytest.mark.parametrize("estate", sorted(ESTATES))
def test_estate_runs_end_to_end(estate: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, instance) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("ATLAS_HOME", str(home))
    monkeypatch.setenv("ATLAS_EXPORTS", str(home / "exports"))
    monkeypatch.setenv("ATLAS_WAREHOUSE", str(home / "warehouse.duckdb"))
    expected = write_estate(estate, home / "exports")

    from atlas_pipeline.definitions import defs

    result = defs().resolve_job_def("warehouse_refresh_job").execute_in_process(instance=instance, raise_on_error=False)
    evaluations = [
        e.event_specific_data for e in result.all_events if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ]
    failed = [f"{e.asset_key.to_user_string()}:{e.check_name}" for e in evaluations
              if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR]
    assert result.success and not failed, failed
    skipped = {e.asset_key.to_user_string() for e in evaluations if (e.metadata or {}).get("skipped")}
    delivered = set(expected.rows) | ({"slurm_jobs", "dcgm_prometheus_exports", "gpu_nodes"} if expected.gpu_hours else set())
    assert {f"raw/{s}" for s in ("aws_cur2", "gcp_billing", "azure_cost_details_actual") if s not in delivered} <= skipped

    warehouse = home / "warehouse.duckdb"
    got = {s: (n, c) for s, n, c in _query(
        warehouse, "select x_source, count(distinct x_source_row || x_source_file), sum(\"BilledCost\") "
                   "from main.focus_cost_and_usage group by 1")}
    assert got == {s: (expected.rows[s], expected.cost[s]) for s in expected.rows}
    unaccounted = _query(warehouse, "select * from main.billing_row_conservation where rows_unaccounted <> 0")
    assert unaccounted == []

    if expected.gpu_hours:
        [(hours,)] = _query(warehouse, f"select sum(gpu_hours_allocated) from main.fct_gpu_hours_daily where cluster = '{ONPREM}'")
        assert Decimal(str(round(hours, 6))) == expected.gpu_hours[ONPREM]
        [(cost, job_hours)] = _query(
            warehouse,
            f"select sum(allocated_cost), sum(gpu_hours_allocated) from main.fct_gpu_cost_allocation "
            f"where cluster = '{ONPREM}' and allocation_type = 'job'",
        )
        assert cost == Decimal("1.85") * expected.gpu_hours[ONPREM]  # the declared price x GPU-hours, exactly
        assert Decimal(str(round(job_hours, 6))) == expected.gpu_hours[ONPREM]
