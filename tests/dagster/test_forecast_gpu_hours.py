"""The GPU-hours forecast per cluster: a forecast for a long history, a stated refusal for a short one."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest

from atlas_pipeline.defs.forecast.gpu_hours import forecast_gpu_hours_daily
from atlas_pipeline.defs.forecast.partitions import add_as_of_dates
from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.lib.forecast.forecast_settings import load_forecast_settings
from atlas_pipeline.lib.warehouse.connections import connect

pytestmark = pytest.mark.dagster

AS_OF = date(2026, 10, 1)


def test_gpu_hours_forecast_per_cluster(tmp_path: Path):
    rows = [
        (AS_OF - timedelta(days=60 - i), "big", team, 100.0 + 20 * (i % 7 < 5) + (i % 3))
        for i in range(60)
        for team in ("ml", "web")
    ]
    rows += [(AS_OF - timedelta(days=10 - i), "new", "ml", 8.0) for i in range(10)]
    with connect(tmp_path / "warehouse.duckdb") as con:
        con.execute("create table main.fct_gpu_hours_daily (usage_date date, cluster varchar, team varchar, "
                    "gpu_hours_allocated double)")  # fmt: skip
        con.executemany("insert into main.fct_gpu_hours_daily values (?, ?, ?, ?)", rows)
    warehouse = Warehouse(atlas_home=str(tmp_path))
    instance = dg.DagsterInstance.ephemeral()
    add_as_of_dates(instance, [AS_OF.isoformat()])
    result = dg.materialize(
        [forecast_gpu_hours_daily], partition_key=AS_OF.isoformat(), resources={"warehouse": warehouse}, instance=instance
    )
    assert result.success
    with warehouse.connect(read_only=True) as con:
        forecast = con.execute(
            "select series_key, count(*), min(forecast_date), avg(point) from main.forecast_gpu_hours_daily group by 1"
        ).fetchall()
        runs = dict(con.execute("select series_key, refused_reason from main.forecast_runs").fetchall())
        models = con.execute(
            "select distinct measure, series_dimension from main.forecast_backtest_metrics"
        ).fetchall()  # fmt: skip
    assert [(k, n, d) for k, n, d, _ in forecast] == [("big", load_forecast_settings().horizon_days, AS_OF)]
    assert 200 < forecast[0][3] < 300  # two teams of ~100-120 hours a day
    assert runs == {"big": None, "new": "only 10 days of history; need at least 28"}
    assert models == [("gpu_hours_allocated", "gpu_cluster")]
