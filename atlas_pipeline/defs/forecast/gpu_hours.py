"""The daily GPU-hours forecast per Slurm cluster (allocated GPU-hours from the GPU marts)."""

from datetime import date

import dagster as dg
import duckdb
import pandas as pd

from atlas_pipeline.defs.forecast.partitions import forecast_asset
from atlas_pipeline.defs.resources import Warehouse
from atlas_pipeline.lib.forecast.forecast_settings import load_forecast_settings
from atlas_pipeline.lib.forecast.forecasting import forecast_declared
from atlas_pipeline.lib.forecast.tables import (
    backtest_summary,
    ensure_forecast_tables,
    forecast_columns,
    forecast_tables,
    replace_rows,
)
from atlas_pipeline.lib.run.run_plan import DECLARATION_SHA_KEY, declaration_sha256
from atlas_pipeline.lib.settings import declaration_file

DIMENSION = "gpu_cluster"
MEASURE = "gpu_hours_allocated"

_DAILY_SQL = """
select cast(usage_date as date) as usage_date, cluster as series_key, sum(gpu_hours_allocated) as gpu_hours
from main.fct_gpu_hours_daily
where usage_date < ?
group by all
order by series_key, usage_date
"""


@forecast_asset(
    deps=[dg.AssetKey("fct_gpu_hours_daily")],
    kinds={"sktime", "duckdb"},
    declaration="forecast.yaml",
    metadata={"tables": forecast_tables("main.forecast_gpu_hours_daily")},
)
def forecast_gpu_hours_daily(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Daily allocated GPU-hours forecast per Slurm cluster, as of the partition date.

    Same models, backtest, horizon, coverages and minimum history as the spend forecast
    (`forecast.yaml`), on `fct_gpu_hours_daily.gpu_hours_allocated` summed per cluster and
    day (days without jobs count as 0 hours). Writes `main.forecast_gpu_hours_daily` (cluster ×
    as-of date × forecast date, hours as doubles), its runs to `main.forecast_runs` and its backtest
    to `main.forecast_backtest_metrics` (series_dimension 'gpu_cluster', measure
    'gpu_hours_allocated'). Re-materializing a partition replaces its rows.
    """
    as_of = date.fromisoformat(context.partition_key)
    settings = load_forecast_settings()
    with warehouse.connect() as con:
        try:
            daily = con.execute(_DAILY_SQL, [as_of]).df()
        except duckdb.CatalogException as exc:
            raise dg.Failure(description=f"main.fct_gpu_hours_daily is missing: build the GPU marts first ({exc})") from exc
    forecasts, status, metrics = forecast_declared(daily, "gpu_hours", as_of, settings)
    forecasts.insert(0, "series_dimension", DIMENSION)
    status.insert(0, "series_dimension", DIMENSION)
    status.insert(2, "billing_currency", None)
    metrics.insert(0, "series_dimension", DIMENSION)
    metrics.insert(0, "measure", MEASURE)
    with warehouse.connect() as con:
        ensure_forecast_tables(con, "main.forecast_gpu_hours_daily", forecast_columns(settings, money=False), settings)
        replace_rows(con, "as_of_date = ?", [as_of], {"main.forecast_gpu_hours_daily": forecasts})
        replace_rows(con, "as_of_date = ? and series_dimension = ?", [as_of, DIMENSION], {"main.forecast_runs": status})
        replace_rows(con, "as_of_date = ? and measure = ?", [as_of, MEASURE], {"main.forecast_backtest_metrics": metrics})
    refused = {r.series_key: r.refused_reason for r in status.itertuples() if pd.isna(r.model_name)}
    for key, reason in refused.items():
        context.log.warning(f"cluster {key!r}: no GPU-hours forecast as of {as_of}: {reason}")
    models = {r.series_key: r.model_name for r in status.itertuples() if pd.notna(r.model_name)}
    return dg.MaterializeResult(
        metadata={
            DECLARATION_SHA_KEY: declaration_sha256(declaration_file("forecast.yaml")),
            "as_of_date": as_of.isoformat(),
            "clusters_forecast": dg.MetadataValue.int(len(models)),
            "models": dg.MetadataValue.json(models),
            "clusters_refused": dg.MetadataValue.json(refused),
            "forecast_rows": dg.MetadataValue.int(len(forecasts)),
            "backtest": dg.MetadataValue.md(backtest_summary(metrics)),
        }
    )
