"""Any subset of sources is an estate: each hand-made estate (tests/e2e/real_estates.py — real samples
laid out as providers deliver them, never the generator), declared in the user's own folder
(`ATLAS_ASSETS`, nothing edited in the repository), runs the warehouse refresh job end to end with
every blocking check green, the absent inputs' checks skipped with their reason, and every row and
cent of what was delivered in the FOCUS table; an on-prem GPU fleet with no bill is costed from the
price its owner declared."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest
from real_estates import ESTATES, ONPREM, ONPREM_PRICE, query_warehouse, write_estate

pytestmark = pytest.mark.e2e


@pytest.fixture()
def instance():
    """Each estate its own Dagster history (its own partitions), as each user has."""
    with dg.DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


@pytest.mark.parametrize("estate", sorted(ESTATES))
def test_estate_runs_end_to_end(estate: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, instance) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("ATLAS_HOME", str(home))
    monkeypatch.setenv("ATLAS_EXPORTS", str(home / "exports"))
    monkeypatch.setenv("ATLAS_WAREHOUSE", str(home / "warehouse.duckdb"))
    monkeypatch.setenv("ATLAS_ASSETS", str(tmp_path / "assets"))
    expected = write_estate(estate, home / "exports", tmp_path / "assets")

    from atlas_pipeline.lib.run.pipeline_run import refresh_warehouse
    from atlas_pipeline.lib.settings import AtlasPaths

    result = refresh_warehouse(AtlasPaths.from_env().ensure(), instance)
    evaluations = [
        e.event_specific_data for e in result.all_events if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ]
    failed = [f"{e.asset_key.to_user_string()}:{e.check_name}" for e in evaluations
              if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR]
    assert result.success and not failed, failed
    skipped = {e.asset_key.to_user_string() for e in evaluations if (e.metadata or {}).get("skipped")}
    raw_checked = {e.asset_key.to_user_string() for e in evaluations if e.check_name.startswith("gx_raw_")}
    assert skipped & raw_checked == {
        k for k in raw_checked if k.removeprefix("raw/") not in expected.sources
    }

    warehouse = home / "warehouse.duckdb"
    got = {s: (n, c) for s, n, c in query_warehouse(
        warehouse, "select x_source, count(distinct x_source_row || x_source_file), sum(\"BilledCost\") "
                   "from main.focus_cost_and_usage group by 1")}
    assert got == {s: (expected.rows[s], expected.cost[s]) for s in expected.rows}
    unaccounted = query_warehouse(warehouse, "select * from main.billing_row_conservation where rows_unaccounted <> 0")
    assert unaccounted == []

    if expected.gpu_hours:
        [(hours,)] = query_warehouse(
            warehouse, f"select sum(gpu_hours_allocated) from main.fct_gpu_hours_daily where cluster = '{ONPREM}'"
        )
        assert Decimal(str(round(hours, 6))) == expected.gpu_hours[ONPREM]
        [(cost, job_hours)] = query_warehouse(
            warehouse,
            f"select sum(allocated_cost), sum(gpu_hours_allocated) from main.fct_gpu_cost_allocation "
            f"where cluster = '{ONPREM}' and allocation_type = 'job'",
        )
        assert cost == ONPREM_PRICE * expected.gpu_hours[ONPREM]  # the declared price x GPU-hours, exactly
        assert Decimal(str(round(job_hours, 6))) == expected.gpu_hours[ONPREM]


def test_readme_flow_atlas_check_then_atlas_run_on_a_users_own_estate(tmp_path: Path) -> None:
    """As README "Bring your own exports" says, with nothing edited in the repository: the user's
    AWS legacy CUR (gzip, with its manifest) and Azure actual-cost export under their own folder,
    their declarations in `ATLAS_ASSETS`; `atlas check` passes, `atlas run` succeeds end to end
    (refresh, forecasts, report, published snapshot) and `atlas sql` reads both providers' cost."""
    import os
    import subprocess
    import sys

    home, assets = tmp_path / "home", tmp_path / "my-declarations"
    expected = write_estate("billing_without_telemetry", home / "exports", assets)
    env = {**os.environ, "ATLAS_HOME": str(home), "ATLAS_EXPORTS": str(home / "exports"),
           "ATLAS_ASSETS": str(assets), "DAGSTER_HOME": str(home / "dagster")}
    env.pop("ATLAS_WAREHOUSE", None)
    atlas = [sys.executable, "-m", "atlas_pipeline.cli"]
    check = subprocess.run([*atlas, "check"], env=env, capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    run = subprocess.run([*atlas, "run"], env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, (run.stdout + run.stderr)[-6000:]
    assert "Traceback" not in run.stdout + run.stderr
    sql = subprocess.run(
        [*atlas, "sql", "select x_source, sum(\"BilledCost\") as billed from focus_cost_and_usage group by 1 order by 1",
         "--format", "csv", "--exact"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert sql.returncode == 0, sql.stderr
    got = {line.split(",")[0]: Decimal(line.split(",")[1]) for line in sql.stdout.strip().splitlines()[1:]}
    assert got == expected.cost
